#include "distributed/communicator.h"

#include <cmath>

#include "core/error.h"
#include "distributed/launcher.h"
#include "distributed/single_communicator.h"
#ifdef GAU_WITH_MPI
#include "distributed/mpi/mpi_communicator.h"
#endif
#ifdef GAU_WITH_NCCL
#include "distributed/nccl/nccl_communicator.h"
#endif

namespace gau::distributed {

namespace {

// "auto" resolved by the device: nccl for CUDA tensors, mpi for CPU ones.
std::string resolve_backend(const CommunicatorOptions& options) {
  const std::string& b = options.backend;
  GAU_CHECK(b == "auto" || b == "mpi" || b == "nccl", "distributed: unknown backend '", b,
            "'; expected auto, mpi or nccl");
  GAU_CHECK(std::isfinite(options.timeout_s) && options.timeout_s > 0,
            "distributed: timeout_s must be a positive number of seconds, got ", options.timeout_s);
  const std::string backend = b == "auto" ? (options.device.is_cuda() ? "nccl" : "mpi") : b;
  GAU_CHECK(backend != "mpi" || options.device.is_cpu(),
            "distributed: backend mpi carries CPU tensors, but the run is on ", options.device,
            "; use backend nccl (or auto) for CUDA tensors");
  GAU_CHECK(backend != "nccl" || options.device.is_cuda(),
            "distributed: backend nccl carries CUDA tensors, but the run is on ", options.device,
            "; use backend mpi (or auto) for CPU tensors");
  return backend;
}

// Unused in a build with both MPI and NCCL.
[[noreturn, maybe_unused]] void fail_not_built(int ranks, const std::string& what, const std::string& flag) {
  GAU_FAIL("this process is one of ", ranks, " ranks started by an MPI launcher, but gau was built without ", what,
           ": reconfigure with -D", flag, "=ON (", flag == "GAU_MPI" ? "install libopenmpi-dev" : "needs CUDA and NCCL",
           ") and rebuild, or run a single process without the launcher");
}

// The MPI world of this launch; in a build without MPI, the world of one of a 1-rank launch.
std::shared_ptr<Communicator> mpi_world(const CommunicatorOptions& options, int launched_ranks) {
#ifdef GAU_WITH_MPI
  CommunicatorOptions cpu = options;
  cpu.backend = "mpi";
  cpu.device = Device::cpu();
  auto comm = make_mpi_communicator(cpu);
  GAU_CHECK(comm->world_size() == launched_ranks, "the launcher started ", launched_ranks, " ranks, but MPI sees ",
            comm->world_size(),
            ": gau's MPI must be the one the launcher belongs to (for srun, pass --mpi=pmix or "
            "--mpi=pmi2 as the cluster documents)");
  return comm;
#else
  if (launched_ranks > 1) fail_not_built(launched_ranks, "MPI", "GAU_MPI");
  return make_single_communicator(Device::cpu());
#endif
}

// NCCL's ranks find each other through the MPI world (or the world of one).
std::shared_ptr<Communicator> nccl_world(const CommunicatorOptions& options, int launched_ranks) {
#ifdef GAU_WITH_NCCL
  return make_nccl_communicator(options, mpi_world(options, launched_ranks));
#else
  if (launched_ranks > 1) fail_not_built(launched_ranks, "NCCL", "GAU_NCCL");
  return make_single_communicator(options.device);
#endif
}

}  // namespace

bool launched_with_multiple_ranks() {
  const auto ranks = launcher_world_size();
  return ranks && *ranks > 1;
}

std::shared_ptr<Communicator> make_communicator(const CommunicatorOptions& options) {
  const std::string backend = resolve_backend(options);
  const auto ranks = launcher_world_size();
  if (!ranks) return make_single_communicator(options.device);
  return backend == "mpi" ? mpi_world(options, *ranks) : nccl_world(options, *ranks);
}

}  // namespace gau::distributed
