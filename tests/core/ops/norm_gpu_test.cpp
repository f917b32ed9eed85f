// CUDA norms against the CPU backend: the warp-per-row forward (d <= 1024), the block-per-row one
// (d > 1024), the backward's shared-memory accumulators and its global-memory fallback (2 d values
// past 48 KiB: d > 6144 in f32, d > 3072 in f64), more rows than backward blocks, and the
// autograd wrappers end to end. Tolerances: test::parity_tol, doubled for the parameter
// gradients, which sum over rows in another order.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/norm.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::kFloatTypes;
using test::on_cuda;
using test::parity_tol;

class CudaNormTest : public test::CudaTest {};

enum class Kind { layer, rms, scale };

ops::NormOutput forward(Kind k, const Tensor& x, const Tensor& w, const Tensor& b) {
  if (k == Kind::layer) return ops::layer_norm(x, w, b, 1e-5);
  if (k == Kind::rms) return ops::rms_norm(x, w, 1e-5);
  return ops::scale_norm(x, w, 1e-5);
}

ops::NormGrads backward(Kind k, const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& b,
                        const ops::NormOutput& f) {
  if (k == Kind::layer) return ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, true);
  if (k == Kind::rms) return ops::rms_norm_backward(dy, x, w, f.rstd, true);
  return ops::scale_norm_backward(dy, x, w, f.rstd, 1e-5, true);
}

Tensor cuda_or_none(const Tensor& t) { return t.defined() ? on_cuda(t) : t; }

TEST_F(CudaNormTest, ForwardAndBackwardMatchTheCpu) {
  // 6144 (f32) and 3072 (f64) fill the 48 KiB of shared memory with the per-dimension sums exactly:
  // the backward must then fall back to global memory (the kernel's static part needs room too).
  const std::vector<Shape> shapes = {{7, 5}, {600, 64}, {3, 4, 1024}, {4, 3072}, {9, 3000}, {4, 6144}, {5, 7000}};
  for (DType dt : kFloatTypes)
    for (const Shape& shape : shapes)
      for (Kind k : {Kind::layer, Kind::rms, Kind::scale}) {
        const int64_t d = shape.back();
        Tensor x = test::randn(shape, dt, 1), dy = test::randn(shape, dt, 2);
        Tensor w = k == Kind::scale ? ops::full({1}, 1.5, dt) : test::randn({d}, dt, 3, 0.5);
        Tensor b = k == Kind::layer ? test::randn({d}, dt, 4) : Tensor();
        const double tol = parity_tol(dt);
        ops::NormOutput cpu = forward(k, x, w, b);
        ops::NormOutput gpu = forward(k, on_cuda(x), on_cuda(w), cuda_or_none(b));
        GAU_EXPECT_CLOSE(gpu.y, cpu.y, tol, tol) << dtype_name(dt) << " " << shape_str(shape) << " kind " << int(k);
        GAU_EXPECT_CLOSE(gpu.rstd, cpu.rstd, tol, tol);
        if (k == Kind::layer) GAU_EXPECT_CLOSE(gpu.mean, cpu.mean, tol, tol);
        // Both backwards take the CPU's statistics, so only the backward kernels differ.
        ops::NormOutput stats{Tensor(), cuda_or_none(cpu.mean), on_cuda(cpu.rstd)};
        ops::NormGrads gc = backward(k, dy, x, w, b, cpu);
        ops::NormGrads gg = backward(k, on_cuda(dy), on_cuda(x), on_cuda(w), cuda_or_none(b), stats);
        GAU_EXPECT_CLOSE(gg.d_x, gc.d_x, tol, tol) << "d_x " << dtype_name(dt) << " " << shape_str(shape);
        GAU_EXPECT_CLOSE(gg.d_weight, gc.d_weight, 2 * tol, 2 * tol) << "d_weight " << dtype_name(dt);
        if (b.defined()) GAU_EXPECT_CLOSE(gg.d_bias, gc.d_bias, 2 * tol, 2 * tol) << "d_bias " << dtype_name(dt);
      }
}

TEST_F(CudaNormTest, ParameterGradientsAreDeterministic) {
  Tensor x = on_cuda(test::randn({4096, 512}, DType::f32, 5)), dy = on_cuda(test::randn({4096, 512}, DType::f32, 6));
  Tensor w = on_cuda(test::randn({512}, DType::f32, 7)), b = on_cuda(test::randn({512}, DType::f32, 8));
  ops::NormOutput f = ops::layer_norm(x, w, b, 1e-5);
  ops::NormGrads a = ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, true);
  ops::NormGrads c = ops::layer_norm_backward(dy, x, w, b, f.mean, f.rstd, true);
  GAU_EXPECT_CLOSE(a.d_weight, c.d_weight, 0, 0);
  GAU_EXPECT_CLOSE(a.d_bias, c.d_bias, 0, 0);
}

TEST_F(CudaNormTest, AutogradWrappersOnTheDevice) {
  Tensor x = test::randn({6, 40}, DType::f32, 9), w = test::randn({40}, DType::f32, 10, 0.5);
  Tensor b = test::randn({40}, DType::f32, 11), g = ops::full({1}, 2.0);
  Tensor probe = test::randn({6, 40}, DType::f32, 12);
  auto grads = [&](Device dev) {
    Tensor xd = ops::to_device(x, dev).requires_grad_(), wd = ops::to_device(w, dev).requires_grad_();
    Tensor bd = ops::to_device(b, dev).requires_grad_(), gd = ops::to_device(g, dev).requires_grad_();
    Tensor p = ops::to_device(probe, dev);
    Tensor y = gau::add(gau::layer_norm(xd, wd, bd), gau::add(gau::rms_norm(xd, wd), gau::scale_norm(xd, gd)));
    gau::sum(gau::mul(y, p)).backward();
    return std::vector<Tensor>{xd.grad(), wd.grad(), bd.grad(), gd.grad()};
  };
  std::vector<Tensor> cpu = grads(Device::cpu()), gpu = grads(Device::cuda(0));
  for (size_t i = 0; i < cpu.size(); ++i) GAU_EXPECT_CLOSE(gpu[i], cpu[i], 1e-4, 1e-4) << "input " << i;
}

}  // namespace
}  // namespace gau
