#include "core/ops/factory.h"

#include <cmath>

#include "core/ops/backend.h"
#include "core/ops/copy.h"
#include "core/ops/copy_kernels.h"

namespace gau::ops {

Tensor empty(const Shape& shape, DType dtype, Device device) { return Tensor::empty(shape, dtype, device); }

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  fill_(t, value);
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor arange(double start, double end, double step, DType dtype, Device device) {
  GAU_CHECK(step != 0, "arange: step must be non-zero");
  double span = (end - start) / step;
  int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span)) : 0;
  Tensor host = Tensor::empty({n}, DType::f64, Device::cpu());
  double* p = host.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i] = start + static_cast<double>(i) * step;
  return to_device(to_dtype(host, dtype), device);
}

namespace {

// Fills element i of a fresh tensor with draw i of the generator's stream: (a, b) are (low, high)
// for uniform and (mean, std) for normal fills.
using RandomFill = void (*)(const Tensor& dst, double a, double b, uint64_t seed, uint64_t offset);

Tensor random_tensor(const char* op, const Shape& shape, DType dtype, Device device, double a, double b,
                     Generator* gen, RandomFill cpu_fill, RandomFill cuda_fill) {
  GAU_CHECK(is_floating(dtype), op, ": expected a floating dtype, got ", dtype_name(dtype));
  Generator& g = gen ? *gen : default_generator();
  Tensor t = Tensor::empty(shape, dtype, device);
  uint64_t offset = g.advance(static_cast<uint64_t>(t.numel()));
  if (device.is_cuda()) {
    GAU_CUDA_ONLY(cuda_fill(t, a, b, g.seed(), offset));
  } else {
    cpu_fill(t, a, b, g.seed(), offset);
  }
  return t;
}

#ifdef GAU_WITH_CUDA
constexpr RandomFill kCudaUniform = cuda::fill_uniform_, kCudaNormal = cuda::fill_normal_;
#else
constexpr RandomFill kCudaUniform = nullptr, kCudaNormal = nullptr;
#endif

}  // namespace

Tensor rand(const Shape& shape, DType dtype, Device device, double low, double high, Generator* gen) {
  return random_tensor("rand", shape, dtype, device, low, high, gen, cpu::fill_uniform_, kCudaUniform);
}

Tensor randn(const Shape& shape, DType dtype, Device device, double mean, double std, Generator* gen) {
  return random_tensor("randn", shape, dtype, device, mean, std, gen, cpu::fill_normal_, kCudaNormal);
}

Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }
Tensor zeros_like(const Tensor& x) { return zeros(x.shape(), x.dtype(), x.device()); }
Tensor ones_like(const Tensor& x) { return ones(x.shape(), x.dtype(), x.device()); }
Tensor full_like(const Tensor& x, double value) { return full(x.shape(), value, x.dtype(), x.device()); }

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  GAU_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
            " values do not fill shape ", shape);
  Tensor host = Tensor::empty(shape, dtype_of<T>::value, Device::cpu());
  std::copy(values.begin(), values.end(), static_cast<T*>(host.data_ptr()));
  return to_device(host, device);
}

template Tensor from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, Device);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, Device);
template Tensor from_vector<bfloat16>(const std::vector<bfloat16>&, const Shape&, Device);
template Tensor from_vector<float16>(const std::vector<float16>&, const Shape&, Device);
template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&, Device);

}  // namespace gau::ops
