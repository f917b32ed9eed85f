#include "distributed/broadcast_text.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"

namespace gau::distributed {

std::string broadcast_text(Communicator& comm, const std::string& text, int root) {
  const bool mine = comm.rank() == root;
  Tensor length = ops::from_vector(std::vector<int64_t>{mine ? static_cast<int64_t>(text.size()) : 0}, {1},
                                   comm.device());
  comm.broadcast(length, root)->wait();
  const int64_t n = ops::to_device(length, Device::cpu()).data<int64_t>()[0];
  // One int32 per byte: the communicator's dtypes have no byte type that every backend reduces.
  std::vector<int32_t> chars(static_cast<size_t>(std::max<int64_t>(n, 1)));
  for (size_t i = 0; mine && i < text.size(); ++i) chars[i] = static_cast<unsigned char>(text[i]);
  Tensor buffer = ops::from_vector(chars, {std::max<int64_t>(n, 1)}, comm.device());
  if (n > 0) comm.broadcast(buffer, root)->wait();
  const Tensor host = ops::to_device(buffer, Device::cpu());
  std::string out(static_cast<size_t>(n), '\0');
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<char>(host.data<int32_t>()[i]);
  return out;
}

}  // namespace gau::distributed
