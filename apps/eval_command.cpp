#include "apps/eval_command.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/cli_checks.h"
#include "core/error.h"
#include "trainers/data/dataset.h"
#include "trainers/evaluate.h"
#include "trainers/objective.h"
#include "trainers/progress.h"
#include "trainers/trained_model.h"

namespace gau::apps {

namespace {

struct EvalArgs {
  std::string target;
  std::string split = "val";
  int64_t batches = 0;
  std::vector<std::string> overrides;
  std::string device = "cpu";
  bool json = false;
};

void run_eval(const EvalArgs& args) {
  const Device device = Device::parse(args.device);
  trainers::TrainedModel m = trainers::load_trained_model(args.target, device, args.overrides);
  const data::Dataset ds = data::build_dataset(m.data_config, m.run_dir.string());
  const bool val = args.split == "val";
  const data::LoaderOptions rows =
      data::loader_options(m.data_config, ds, val ? data::Split::val : data::Split::train);
  data::check_data_fits_model(ds, rows, m.config["model"]["vocab"].as<int64_t>(),
                              m.config["model"]["max_length"].as<int64_t>(0));
  const data::Corpus& corpus = val ? ds.val : ds.train;
  GAU_CHECK(!corpus.empty(), "gau eval: the data has no ", args.split,
            " split (data.val_fraction is 0 and no data.val_path); use --split train or --set data.val_path=FILE");
  const trainers::Objective objective(*m.model);
  trainers::EvalOptions options{
      .max_batches = args.batches, .device = device, .seed = m.config["train"]["seed"].as<uint64_t>(1)};
  // A whole split can take minutes: a bar on a terminal (stderr, so --json's stdout stays clean).
  std::unique_ptr<trainers::Progress> progress;
  if (::isatty(fileno(stderr)) != 0)
    options.on_batch = [&](int64_t done, int64_t total, double loss, int64_t tokens) {
      if (done == 0)
        progress = std::make_unique<trainers::Progress>(total, 0, trainers::ProgressOptions{.tty = true});
      else
        progress->update(done, loss, tokens);
    };
  const trainers::EvalResult r = trainers::evaluate(objective, *m.model, corpus, rows, options);
  if (progress) progress->finish();
  GAU_CHECK(r.targets > 0, "gau eval: the ", args.split, " split (", corpus.size(),
            " token(s)) has no targets to predict; give more data (data.val_fraction, data.val_path) or --split train");
  const bool bytes = ds.tokenizer && ds.tokenizer->name() == "byte";
  if (args.json) {
    nlohmann::ordered_json j = {{"checkpoint", m.checkpoint.string()}, {"step", m.step},  {"split", args.split},
                                {"loss", r.loss},                      {"perplexity", r.perplexity()},
                                {"bits_per_token", r.bits_per_token()}, {"tokens", r.targets}, {"batches", r.batches}};
    if (r.bits_per_byte(bytes)) j["bits_per_byte"] = r.bits_per_token();
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s (step %lld), %s split, %lld batches, %lld %s\n", m.checkpoint.string().c_str(),
              static_cast<long long>(m.step), args.split.c_str(), static_cast<long long>(r.batches),
              static_cast<long long>(r.targets), r.targets_unit());
  std::printf("loss %.4f nats | perplexity %.3f | %.4f %s\n", r.loss, r.perplexity(), r.bits_per_token(),
              r.bits_unit(bytes));
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Loss, perplexity and bits per byte of a trained model on its data");
  auto args = std::make_shared<EvalArgs>();
  cmd->add_option("run", args->target, "a run directory (its latest checkpoint) or a checkpoint directory")->required();
  cmd->add_option("--split", args->split, "the split: val or train")
      ->check(CLI::IsMember({"val", "train"}))
      ->capture_default_str();
  cmd->add_option("--batches", args->batches, "batches to evaluate; 0: the whole split")
      ->check(non_negative_integer())
      ->capture_default_str();
  cmd->add_option("--set", args->overrides, "change the data: data.key=value, e.g. data.path=other.txt (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->footer(
      "Examples:\n"
      "  gau eval runs/default                                  the validation split, all of it\n"
      "  gau eval runs/default/checkpoints/step_000750 --batches 20\n"
      "  gau eval runs/default --set data.path=notes.txt --set data.val_fraction=0.5 --json");
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace gau::apps
