// The ranks of the fault tests (tests/distributed/mpi/faults_test.cpp), started under mpirun:
//   fault_rank <scenario> <timeout_s>
// Every rank makes the MPI communicator and all-reduces once; then rank 1 misbehaves while the
// others all-reduce again:
//   ok       rank 1 all-reduces too, and every rank exits 0
//   hang     rank 1 sleeps instead (a rank that stops responding): the others time out
//   sigkill  rank 1 kills itself with SIGKILL (a rank that dies): the others must end
//   abort    rank 1 calls Communicator::abort (a rank that raised): the others end at once
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/ops/factory.h"
#include "distributed/communicator.h"

using namespace gau;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fault_rank ok|hang|sigkill|abort <timeout_s>\n");
    return 2;
  }
  const std::string scenario = argv[1];
  auto comm = distributed::make_communicator({.backend = "mpi", .timeout_s = std::atof(argv[2])});
  Tensor t = ops::ones({1024});
  comm->all_reduce(t, distributed::ReduceOp::sum)->wait();
  if (comm->rank() == 1 && scenario != "ok") {
    if (scenario == "hang") std::this_thread::sleep_for(std::chrono::seconds(120));
    if (scenario == "sigkill") std::raise(SIGKILL);
    if (scenario == "abort") comm->abort("raised during backward (fault test)");
    std::fprintf(stderr, "fault_rank: unknown scenario %s\n", scenario.c_str());
    return 2;
  }
  comm->all_reduce(t, distributed::ReduceOp::sum)->wait();
  std::printf("rank %d: done\n", comm->rank());
  return 0;
}
