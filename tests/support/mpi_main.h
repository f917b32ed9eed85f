#pragma once
// The main of a *_mpi_test.cpp, which CMake runs under mpirun with 2 and with 4 ranks: every rank
// runs every test, rank 0 prints GoogleTest's usual output, and the other ranks print only their
// failures, each line prefixed with "[rank r]". Every rank exits 1 when any rank had a failure
// (rank 0 says how many), so mpirun exits non-zero.
//
//   int main(int argc, char** argv) { return gau::test::run_tests_on_every_rank(argc, argv); }
//
// A test that fails on some ranks and returns early leaves the others waiting in their next
// collective: world()'s timeout then ends the run instead of letting it hang.
#include "distributed/communicator.h"

namespace gau::test {

// The MPI world the tests run in (timeout 30 s); made before the first test.
distributed::Communicator& world();

int run_tests_on_every_rank(int argc, char** argv);

}  // namespace gau::test
