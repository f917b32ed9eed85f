#pragma once
// The world of one: the communicator of a process that no MPI launcher started. Rank 0 of 1;
// every collective is complete when it returns (all_reduce and broadcast leave the tensor as it
// is, the sum and the mean of one value being that value; all_gather and reduce_scatter copy in
// to out), and barrier returns at once. The argument checks are the other backends', so code
// that is wrong on many ranks is already wrong here.
#include <memory>

#include "distributed/communicator.h"

namespace gau::distributed {

std::shared_ptr<Communicator> make_single_communicator(Device device);

}  // namespace gau::distributed
