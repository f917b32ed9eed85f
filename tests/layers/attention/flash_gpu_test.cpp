// flash_attention on CUDA (bf16/f16, f32 state) against the CPU op on the same rounded inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/attention/flash.h"
#include "tests/layers/attention/flash_reference.h"
#include "tests/support/parity.h"

namespace gau::attention {
namespace {

using flash_ref::FlashData;
using flash_ref::FlashProblem;
using flash_ref::random_data;
using test::values;

struct Result {
  std::vector<double> o;
  std::vector<std::vector<double>> grads;
};

// Inputs rounded to `dtype` once; the CPU runs them in f32, the GPU in `dtype` storage.
Result run(const FlashProblem& p, const FlashData& d, const std::vector<double>& w, DType dtype, Device dev) {
  const DType run_dtype = dev.is_cpu() ? DType::f32 : dtype;
  auto make = [&](const std::vector<double>& x, const Shape& shape) {
    Tensor rounded = ops::to_dtype(ops::from_vector<double>(x, shape), dtype);
    return ops::to_device(ops::to_dtype(rounded, run_dtype), dev);
  };
  Shape qs{p.b, p.n, p.s}, vs{p.b, p.n, p.e};
  std::vector<Tensor> in = {make(d.qq, qs), make(d.kq, qs), make(d.ql, qs), make(d.kl, qs), make(d.v, vs)};
  for (Tensor& t : in) t.requires_grad_(true);
  FlashOptions opt;
  opt.chunk = p.c;
  opt.causal = p.causal;
  opt.linear_norm = p.norm;
  if (!p.lengths.empty()) opt.key_lengths = ops::to_device(ops::from_vector<int64_t>(p.lengths, {p.b}), dev);
  if (!p.bias.empty()) {
    opt.bias = ops::to_device(ops::from_vector<double>(p.bias, {2 * p.c - 1}), dev);
    opt.bias = ops::to_dtype(opt.bias, DType::f32);
    opt.bias.requires_grad_(true);
  }
  Tensor o = flash_attention(in[0], in[1], in[2], in[3], in[4], opt);
  o.backward(make(w, vs));
  Result r;
  r.o = values(o);
  for (Tensor& t : in) r.grads.push_back(values(t.grad()));
  if (opt.bias.defined()) r.grads.push_back(values(opt.bias.grad()));
  return r;
}

// Error relative to the CPU result's scale (max |x|), reporting the worst element.
void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 1e-6, worst = 0;
  size_t at = 0;
  for (double x : want) scale = std::max(scale, std::abs(x));
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(got[i] - want[i]) / scale;
    if (!(err <= worst)) worst = err, at = i;
  }
  EXPECT_LE(worst, tol) << what << ": worst element " << at << " got " << got[at] << " want " << want[at];
}

// The GPU against the CPU on one problem: n tokens in chunks of c, key_lengths {n, length_1}.
void check_against_cpu(int64_t n, int64_t c, int64_t length_1) {
  const char* names[] = {"qq", "kq", "ql", "kl", "v", "bias"};
  for (DType dt : {DType::bf16, DType::f16}) {
    for (bool causal : {false, true}) {
      for (LinearNorm norm : {LinearNorm::chunk, LinearNorm::prefix}) {
        if (!causal && norm != LinearNorm::chunk) continue;
        FlashProblem p;
        p.b = 2, p.n = n, p.s = 64, p.e = 128, p.c = c, p.causal = causal, p.norm = norm;
        p.lengths = {p.n, length_1};
        p.bias.assign(2 * p.c - 1, 0.0);
        for (size_t i = 0; i < p.bias.size(); ++i) p.bias[i] = 0.05 * std::sin(double(i));
        const FlashData d = random_data(p, 31, 0.5);
        const std::vector<double> w = random_data(p, 32).v;
        const Result gpu = run(p, d, w, dt, Device::cuda(0)), cpu = run(p, d, w, dt, Device::cpu());
        const std::string what = std::string(dtype_name(dt)) + (causal ? " causal " : " bidirectional ") +
                                 linear_norm_name(norm) + " n=" + std::to_string(n) + " c=" + std::to_string(c);
        const double tol = dt == DType::bf16 ? 2e-2 : 5e-3;
        expect_close(gpu.o, cpu.o, tol, what + " o");
        for (size_t k = 0; k < cpu.grads.size(); ++k) expect_close(gpu.grads[k], cpu.grads[k], 2 * tol, what + " d" + names[k]);
      }
    }
  }
}

TEST(FlashAttentionGpu, MatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  check_against_cpu(3 * 64 + 21, 64, 100);
}

// c > n: one chunk padded to c rows on the GPU, the CPU's single partial chunk.
TEST(FlashAttentionGpu, ChunkLongerThanTheSequenceMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  check_against_cpu(50, 64, 29);
}

TEST(FlashAttentionGpu, RejectsF32WithAHint) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor q = ops::randn({1, 128, 64}, DType::f32, Device::cuda(0)), v = ops::randn({1, 128, 64}, DType::f32, Device::cuda(0));
  FlashOptions opt;
  opt.chunk = 64;
  EXPECT_THROW(flash_attention(q, q, q, q, v, opt), Error);
}

}  // namespace
}  // namespace gau::attention
