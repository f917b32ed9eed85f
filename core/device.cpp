#include "core/device.h"

#include "core/error.h"
#include "core/stream.h"

namespace gau {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda" || s == "gpu") return cuda(0);
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5) {
    std::string idx = s.substr(5);
    bool digits = idx.find_first_not_of("0123456789") == std::string::npos;
    if (digits && idx.size() < 4) return cuda(std::stoi(idx));
  }
  GAU_FAIL("unknown device '", s, "'; expected cpu, cuda or cuda:N");
}

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

int cuda_device_count() {
  const CudaStreamHooks* hooks = cuda_stream_hooks();
  return hooks && hooks->device_count ? hooks->device_count() : 0;
}

bool cuda_available() { return cuda_device_count() > 0; }

}  // namespace gau
