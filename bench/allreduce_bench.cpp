#include "bench/allreduce_bench.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#ifdef GAU_WITH_MPI
#include <mpi.h>
#endif

#include "core/ops/factory.h"
#include "core/stream.h"
#include "distributed/communicator.h"

namespace gau::bench {

namespace {

using distributed::Communicator;

double bus_gb_per_s(double bytes, double ms, int ranks) { return gb_per_s(2.0 * (ranks - 1) / ranks * bytes, ms); }

// Warm-up by rank 0's clock, broadcast after every round, so that every rank runs as many rounds
// (a collective that one rank skips would hang the others).
void warm_up(Communicator& comm, const std::vector<std::function<void()>>& fns, const BenchConfig& cfg) {
  if (cfg.warmup_s <= 0) return;
  const auto start = std::chrono::steady_clock::now();
  Tensor more = Tensor::empty({1}, DType::i32);
  do {
    for (const auto& fn : fns) fn();
    more.data<int32_t>()[0] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < cfg.warmup_s;
    comm.broadcast(more, 0)->wait();
  } while (more.data<int32_t>()[0]);
}

// Times each function cfg.repeats times, interleaved (reversed every other round, as
// time_interleaved does), each call after a barrier; a call's time is the slowest rank's.
std::vector<Timing> time_on_every_rank(Communicator& comm, const std::vector<std::function<void()>>& fns,
                                       const BenchConfig& cfg) {
  warm_up(comm, fns, cfg);
  const int repeats = std::max(cfg.repeats, 1);
  std::vector<Tensor> mine(fns.size());
  for (auto& m : mine) m = Tensor::empty({repeats}, DType::f64);
  for (int r = 0; r < repeats; ++r) {
    for (size_t k = 0; k < fns.size(); ++k) {
      const size_t i = r % 2 ? fns.size() - 1 - k : k;
      comm.barrier();
      const auto start = std::chrono::steady_clock::now();
      fns[i]();
      synchronize(comm.device());
      mine[i].data<double>()[r] =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
  }
  std::vector<Timing> out;
  for (const Tensor& m : mine) {
    Tensor all = Tensor::empty({comm.world_size(), repeats}, DType::f64);
    comm.all_gather(all, m)->wait();
    std::vector<double> slowest(static_cast<size_t>(repeats), 0);
    for (int rank = 0; rank < comm.world_size(); ++rank) {
      for (int r = 0; r < repeats; ++r) {
        slowest[r] = std::max(slowest[r], all.data<double>()[rank * repeats + r]);
      }
    }
    out.push_back(summarise(std::move(slowest)));
  }
  return out;
}

nlohmann::json allreduce_case(Communicator& comm, int64_t mib, const BenchConfig& cfg) {
  const int64_t n = mib * (1 << 20) / 4;
  // Zeros stay zeros however often they are summed: no overflow to inf over the repeats.
  Tensor t = ops::zeros({n}, DType::f32, comm.device());
  const double bytes = static_cast<double>(t.nbytes());
  std::vector<std::function<void()>> fns = {[&] { comm.all_reduce(t, distributed::ReduceOp::sum)->wait(); }};
#ifdef GAU_WITH_MPI
  const bool raw_mpi = comm.backend() == "mpi";
  if (raw_mpi) {
    fns.push_back(
        [&] { MPI_Allreduce(MPI_IN_PLACE, t.data_ptr(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); });
  }
#else
  const bool raw_mpi = false;
#endif
  const std::vector<Timing> times = time_on_every_rank(comm, fns, cfg);
  const int ranks = comm.world_size();
  nlohmann::json r = {{"name", "all_reduce"},
                      {"dtype", "f32"},
                      {"mib", mib},
                      {"bytes", bytes},
                      {"ranks", ranks},
                      {"backend", comm.backend()},
                      {"gau", to_json(times[0])},
                      {"gau_busbw_gbps", bus_gb_per_s(bytes, times[0].median_ms, ranks)}};
  if (raw_mpi) {
    const double gau_bw = bus_gb_per_s(bytes, times[0].median_ms, ranks);
    const double mpi_bw = bus_gb_per_s(bytes, times[1].median_ms, ranks);
    r["mpi_allreduce"] = to_json(times[1]);
    r["mpi_busbw_gbps"] = mpi_bw;
    r["fraction_of_mpi"] = gau_bw / mpi_bw;
  }
  return r;
}

}  // namespace

nlohmann::json run_allreduce_bench(const BenchConfig& cfg) {
  if (!distributed::launched_with_multiple_ranks()) {
    return nlohmann::json::array({{{"name", "all_reduce"},
                                   {"note",
                                    "needs 2 or more ranks: run it under an MPI launcher, e.g. "
                                    "mpirun -np 2 gau bench allreduce --json"}}});
  }
  auto comm = distributed::make_communicator({.backend = "auto", .timeout_s = 600, .device = cfg.device});
  nlohmann::json results = nlohmann::json::array();
  for (int64_t mib : pick_sizes(cfg, {1, 4, 16, 64, 256}, 1)) results.push_back(allreduce_case(*comm, mib, cfg));
  return comm->rank() == 0 ? results : nlohmann::json();
}

}  // namespace gau::bench
