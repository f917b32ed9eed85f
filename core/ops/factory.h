#pragma once
// Tensor factories. Random factories draw from a Philox Generator (default_generator() when none
// is given), so the same seed gives the same values on every device.
#include "core/rng.h"
#include "core/tensor.h"

namespace gau::ops {

Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
// [start, end) by step, like numpy.arange.
Tensor arange(double start, double end, double step = 1, DType dtype = DType::i64, Device device = Device::cpu());
// Uniform in [low, high).
Tensor rand(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu(), double low = 0,
            double high = 1, Generator* gen = nullptr);
// Normal(mean, std).
Tensor randn(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu(), double mean = 0,
             double std = 1, Generator* gen = nullptr);

Tensor empty_like(const Tensor& x);
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
Tensor full_like(const Tensor& x, double value);

// From host values (copied), e.g. from_vector<float>({1, 2, 3}, {3}).
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());

}  // namespace gau::ops
