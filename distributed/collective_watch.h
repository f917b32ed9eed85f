#pragma once
// The time limit of a collective and the words of the line that ends a run, shared by the
// backends so that every fatal line reads the same:
//   gau: rank 1 of 4 aborts the run: all_reduce(sum) of f32[262144] (1 MiB) did not complete ...
#include <chrono>
#include <string>

namespace gau::distributed {

// Starts when the collective is launched and passes timeout_s later, whenever wait() is called.
class Deadline {
 public:
  explicit Deadline(double timeout_s)
      : timeout_s_(timeout_s),
        at_(std::chrono::steady_clock::now() +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s))) {
  }
  bool passed() const { return std::chrono::steady_clock::now() >= at_; }
  double timeout_s() const { return timeout_s_; }

 private:
  double timeout_s_;
  std::chrono::steady_clock::time_point at_;
};

// A collective in flight, as its failure message names it.
struct CollectiveWatch {
  std::string what;  // describe_collective(...): "all_reduce(sum) of f32[1024] (4 KiB)"
  Deadline deadline;
  int rank = 0;
  int world_size = 1;
};

// "<what> did not complete within its timeout of <s> s ...", with what usually causes it.
std::string timeout_reason(const CollectiveWatch& watch);

// "gau: rank <rank> of <world_size> aborts the run: <reason>"
std::string abort_line(int rank, int world_size, const std::string& reason);

}  // namespace gau::distributed
