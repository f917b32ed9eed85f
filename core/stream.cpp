#include "core/stream.h"

#include "core/error.h"
#include "core/storage.h"
#include "core/tensor.h"

namespace gau {

namespace {
CudaStreamHooks g_hooks;
bool g_hooks_registered = false;

const CudaStreamHooks& require_cuda(const char* what) {
  GAU_CHECK(g_hooks_registered, what, ": a CUDA stream was asked for, but gau was built without CUDA");
  return g_hooks;
}
}  // namespace

void register_cuda_stream_hooks(const CudaStreamHooks& hooks) {
  g_hooks = hooks;
  g_hooks_registered = true;
}

const CudaStreamHooks* cuda_stream_hooks() { return g_hooks_registered ? &g_hooks : nullptr; }

Stream current_stream(Device device) {
  if (device.is_cpu()) return Stream{device, nullptr};
  return require_cuda("current_stream").current(device.index);
}

Stream set_current_stream(Stream stream) {
  if (stream.device.is_cpu()) return Stream{stream.device, nullptr};
  return require_cuda("set_current_stream").set_current(stream);
}

void synchronize(Stream stream) {
  if (stream.device.is_cpu()) return;
  require_cuda("synchronize").synchronize_stream(stream);
}

void synchronize(Device device) {
  if (device.is_cpu()) return;
  require_cuda("synchronize").synchronize_device(device.index);
}

void record_stream(const Tensor& tensor, Stream stream) {
  GAU_CHECK(tensor.defined(), "record_stream: expected a defined tensor, got an undefined one");
  GAU_CHECK(tensor.device() == stream.device, "record_stream: the tensor is on ", tensor.device(),
            " but the stream on ", stream.device, " (", describe(tensor), ")");
  tensor.storage()->record_stream(stream);
}

}  // namespace gau
