#include "distributed/collective_watch.h"

#include <sstream>

namespace gau::distributed {

std::string timeout_reason(const CollectiveWatch& watch) {
  std::ostringstream os;
  os << watch.what << " did not complete within its timeout of " << watch.deadline.timeout_s()
     << " s (distributed.timeout_s): another rank failed, hangs, or issued a different collective";
  return os.str();
}

std::string abort_line(int rank, int world_size, const std::string& reason) {
  return "gau: rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " aborts the run: " + reason;
}

}  // namespace gau::distributed
