#include "apps/bench_command.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/cli_checks.h"
#include "apps/system_info.h"
#include "bench/allreduce_bench.h"
#include "bench/attention_bench.h"
#include "bench/autograd_bench.h"
#include "bench/bench.h"
#include "bench/flash_bench.h"
#include "bench/model_bench.h"
#include "bench/ops_bench.h"
#include "bench/optim_bench.h"
#include "core/error.h"

namespace gau::apps {

namespace {

struct Family {
  const char* name;
  const char* help;
  const char* sizes;  // what --sizes gives, or nullptr for a family without sizes
  nlohmann::json (*run)(const bench::BenchConfig&);
};

// The families compiled into this binary; each lives in bench/<name>_bench.{h,cpp}.
std::vector<Family> families() {
  return {
      {"ops", "matmul vs sgemm, add vs memcpy; softmax, sum, norm, dropout, rope bandwidth",
       "the matrix sizes n (n x n matmuls; n x n tensors for the others)", bench::run_ops_bench},
      {"attention", "tiled softmax / relu2 attention, forward and backward", "the sequence lengths n",
       bench::run_attention_bench},
      {"flash", "FLASH mixed-chunk attention beside quadratic attention", "the sequence lengths n",
       bench::run_flash_bench},
      {"autograd", "tape cost per op (record, backward) on 1-element tensors, and a 1,000-op graph", nullptr,
       bench::run_autograd_bench},
      {"optim", "one fused AdamW step over 10M and 100M f32 parameters against memcpy of the same bytes",
       "the parameter counts", bench::run_optim_bench},
      {"model", "one language-model training step (forward + backward) per flavour at matched size: time, memory, MFU",
       "the sequence lengths n", bench::run_model_bench},
      {"allreduce", "all_reduce bus bandwidth, 1 MiB to 256 MiB, beside raw MPI_Allreduce (under mpirun -np 2 or more)",
       "the message sizes in MiB", bench::run_allreduce_bench},
  };
}

struct BenchArgs {
  bool json = false;
  std::string device = "cpu";
  double warmup_s = 1.0;
  int repeats = 10;
  bool quick = false;
  std::vector<int64_t> sizes;
  std::string out;
};

std::string format_value(const nlohmann::json& v) {
  std::ostringstream os;
  if (v.is_object() && v.contains("median_ms")) {
    os << std::fixed << std::setprecision(3) << v["median_ms"].get<double>() << " ms";
  } else if (v.is_object()) {
    const char* sep = "";
    os << "{";
    for (const auto& [key, value] : v.items()) {
      os << sep << key << "=" << format_value(value);
      sep = " ";
    }
    os << "}";
  } else if (v.is_number_float()) {
    os << std::setprecision(4) << v.get<double>();
  } else if (v.is_string()) {
    os << v.get<std::string>();
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) os << (i ? "x" : "") << format_value(v[i]);
  } else {
    os << v.dump();
  }
  return os.str();
}

// One line per measured case: its name, then key=value for every other field.
void print_table(const nlohmann::json& report) {
  std::cout << "gau bench " << report["family"].get<std::string>() << " on "
            << report["config"]["device"].get<std::string>() << " (" << report["date"].get<std::string>()
            << ", median of " << report["config"]["repeats"].get<int>() << " after "
            << report["config"]["warmup_s"].get<double>() << " s warm-up each)\n";
  for (const auto& r : report["results"]) {
    std::cout << "  " << (r.contains("name") ? r["name"].get<std::string>() : std::string("case"));
    for (const auto& [key, value] : r.items()) {
      if (key == "name") continue;
      std::cout << "  " << key << "=" << format_value(value);
    }
    std::cout << "\n";
  }
}

void run_family(const Family& family, const BenchArgs& args) {
  bench::BenchConfig cfg;
  cfg.device = Device::parse(args.device);
  GAU_CHECK(!cfg.device.is_cuda() || cfg.device.index < cuda_device_count(), "gau bench: --device ", args.device,
            " asked for, but ", cuda_device_count(), " GPU(s) are visible",
            cuda_device_count() == 0 ? " (this gau was built without CUDA, or no GPU is present)" : "");
  GAU_CHECK(args.repeats >= 1, "gau bench: need --repeats >= 1, got ", args.repeats);
  GAU_CHECK(std::isfinite(args.warmup_s) && args.warmup_s >= 0,
            "gau bench: need --warmup-s >= 0 seconds (0 = no warm-up), got ", args.warmup_s);
  cfg.warmup_s = args.warmup_s;
  cfg.repeats = args.repeats;
  cfg.quick = args.quick;
  cfg.sizes = args.sizes;

  nlohmann::json report = {{"family", family.name},
                           {"date", utc_timestamp()},
                           {"config",
                            {{"device", cfg.device.str()},
                             {"warmup_s", cfg.warmup_s},
                             {"repeats", cfg.repeats},
                             {"quick", cfg.quick},
                             {"sizes", cfg.sizes}}},
                           {"system", system_info()}};
  report["results"] = family.run(cfg);
  if (report["results"].is_null()) return;  // a rank other than 0 of a multi-rank family

  if (!args.out.empty()) {
    std::ofstream file(args.out);
    GAU_CHECK(file.good(), "gau bench: cannot write --out ", args.out);
    file << report.dump(2) << "\n";
  }
  if (args.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    print_table(report);
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Benchmarks that print JSON (--json) or a table");
  cmd->require_subcommand(1);
  auto args = std::make_shared<BenchArgs>();
  for (const Family& family : families()) {
    auto* sub = cmd->add_subcommand(family.name, family.help);
    sub->add_flag("--json", args->json, "Print the report as JSON");
    sub->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
    sub->add_option("--warmup-s", args->warmup_s,
                    "Untimed warm-up before each timing, in seconds (at least one run; 0 = none: a smoke run)")
        ->capture_default_str();
    sub->add_option("--repeats", args->repeats, "Timed runs (the median is reported)")->capture_default_str();
    sub->add_flag("--quick", args->quick, "Smallest cases only (a smoke run)");
    if (family.sizes != nullptr)
      sub->add_option("--sizes", args->sizes, std::string("Comma-separated, each >= 1: ") + family.sizes)
          ->delimiter(',')
          ->check(positive_integer());
    sub->add_option("--out", args->out, "Also write the JSON report to this file");
    sub->callback([family, args] { run_family(family, *args); });
  }
}

}  // namespace gau::apps
