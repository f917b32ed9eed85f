#pragma once
// Text through the communicator: a string only one rank knows (the run directory rank 0 chose,
// one rank's config for a mismatch message) made known to every rank. A collective: every rank
// calls it, with the same root.
#include <string>

#include "distributed/communicator.h"

namespace gau::distributed {

// `root`'s `text` on every rank (the others' `text` is ignored).
std::string broadcast_text(Communicator& comm, const std::string& text, int root = 0);

}  // namespace gau::distributed
