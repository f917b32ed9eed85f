// CUDA (and cuDNN) attention against the CPU op on the same bf16 inputs: forward values and every
// gradient (q, k, v, bias table) across kernels, causal, padding (lengths and a non-prefix mask),
// relative bias, dropout, s in {64, 128} and e in {64, 1024}; linear peak memory on the GPU; and
// the errors for unsupported dtypes and head widths.
//
// Tolerance: both sides read the same bf16 inputs and accumulate in f32; the GPU rounds the
// attention weights and dS to bf16 before its tensor-core products and every result to bf16, so
// each tensor must satisfy max |gpu - cpu| <= 0.02 max |cpu| + 1e-6 (forward) and 0.03 (gradients,
// which go through two such products), a few bf16 ulps of the largest element.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/attention/attention.h"

namespace gau::attention {
namespace {

constexpr double kForwardTol = 0.02;
constexpr double kGradTol = 0.03;

struct Case {
  Kernel kernel = Kernel::softmax;
  bool causal = false;
  int64_t b = 2, h = 2, n_q = 130, n_k = 130, s = 64, e = 64;
  std::vector<int64_t> lengths;  // key_lengths, empty = none
  bool holey_mask = false;       // a key_mask that is not a prefix
  RelativeBias::Kind bias = RelativeBias::Kind::none;
  double dropout_p = 0;
  bool by_valid_length = false;
  double log_length_base = 0;  // softmax_plus's per-row scale
  Backend backend = Backend::gau;

  std::string name() const {
    std::string n = std::string(kernel_name(kernel)) + (causal ? " causal" : "") + " b" + std::to_string(b) + " h" +
                    std::to_string(h) + " n_q" + std::to_string(n_q) + " n_k" + std::to_string(n_k) + " s" +
                    std::to_string(s) + " e" + std::to_string(e);
    if (!lengths.empty()) n += " lengths";
    if (holey_mask) n += " mask";
    if (bias == RelativeBias::Kind::per_offset) n += " bias(per_offset)";
    if (bias == RelativeBias::Kind::t5_buckets) n += " bias(t5)";
    if (dropout_p > 0) n += " dropout";
    if (by_valid_length) n += " scale_by_valid_length";
    if (log_length_base > 0) n += " log_length_base";
    if (backend == Backend::cudnn) n += " [cudnn]";
    return n;
  }
};

struct Result {
  std::vector<std::vector<float>> tensors;  // o, d_q, d_k, d_v, d_bias (if any)
};

std::vector<float> host_f32(const Tensor& t) {
  Tensor h = ops::contiguous(ops::to_dtype(ops::to_device(t, Device::cpu()), DType::f32));
  return std::vector<float>(h.data<float>(), h.data<float>() + h.numel());
}

// Same random bf16 data on both devices: drawn on the CPU in f32 from a fixed seed, cast, copied.
Tensor input(const Shape& shape, uint64_t seed, DType dtype, Device device, double std = 1.0) {
  Generator gen(seed);
  Tensor x = ops::to_dtype(ops::randn(shape, DType::f32, Device::cpu(), 0, std, &gen), dtype);
  return ops::to_device(x, device);
}

Result run(const Case& c, Device device) {
  const DType dt = DType::bf16;
  Tensor q = input({c.b, c.h, c.n_q, c.s}, 1, dt, device).requires_grad_();
  Tensor k = input({c.b, c.h, c.n_k, c.s}, 2, dt, device).requires_grad_();
  Tensor v = input({c.b, c.h, c.n_k, c.e}, 3, dt, device).requires_grad_();
  Tensor d_o = input({c.b, c.h, c.n_q, c.e}, 4, dt, device);

  AttentionOptions opt;
  opt.kernel = c.kernel;
  opt.causal = c.causal;
  opt.backend = c.backend;
  opt.scale_by_valid_length = c.by_valid_length;
  opt.log_length_base = c.log_length_base;
  if (!c.lengths.empty()) opt.key_lengths = ops::to_device(ops::from_vector<int64_t>(c.lengths, {c.b}), device);
  if (c.holey_mask) {
    std::vector<float> mask(static_cast<size_t>(c.b * c.n_k));
    for (int64_t i = 0; i < c.b * c.n_k; ++i) mask[i] = (i % 7 == 3 || i % 11 == 5) ? 0.f : 1.f;
    opt.key_mask = ops::to_device(ops::to_dtype(ops::from_vector<float>(mask, {c.b, c.n_k}), DType::b8), device);
  }
  if (c.bias != RelativeBias::Kind::none) {
    opt.bias.kind = c.bias;
    opt.bias.max_offset = 40;
    opt.bias.num_buckets = 32;
    opt.bias.max_distance = 128;
    const int64_t size = c.bias == RelativeBias::Kind::per_offset ? 2 * opt.bias.max_offset + 1 : 32;
    opt.bias.table = input({size}, 5, DType::f32, device, 0.5).requires_grad_();
  }
  opt.dropout_p = c.dropout_p;
  opt.seed = 1234;
  opt.offset = 77;

  Tensor o = dot_product_attention(q, k, v, opt);
  o.backward(d_o);
  Result r;
  r.tensors = {host_f32(o), host_f32(q.grad()), host_f32(k.grad()), host_f32(v.grad())};
  if (c.bias != RelativeBias::Kind::none) r.tensors.push_back(host_f32(opt.bias.table.grad()));
  return r;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double ref_max = 0, worst = 0;
  size_t at = 0;
  for (float w : want) ref_max = std::max(ref_max, static_cast<double>(std::abs(w)));
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= worst)) worst = err, at = i;
  }
  EXPECT_LE(worst, tol * ref_max + 1e-6) << what << ": worst element " << at << " got " << got[at] << " want "
                                          << want[at] << " (max |want| " << ref_max << ")";
}

void check_case(const Case& c) {
  SCOPED_TRACE(c.name());
  Case cpu_case = c;
  cpu_case.backend = Backend::automatic;
  const Result want = run(cpu_case, Device::cpu());
  const Result got = run(c, Device::cuda(0));
  const char* names[] = {"o", "d_q", "d_k", "d_v", "d_bias"};
  ASSERT_EQ(got.tensors.size(), want.tensors.size());
  for (size_t t = 0; t < got.tensors.size(); ++t)
    expect_close(got.tensors[t], want.tensors[t], t == 0 ? kForwardTol : kGradTol, c.name() + " " + names[t]);
}

class AttentionGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(AttentionGpu, KernelsCausalAndHeadWidths) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace}) {
    for (bool causal : {false, true}) {
      for (int64_t s : {64, 128}) {
        Case c;
        c.kernel = kernel;
        c.causal = causal;
        c.s = s;
        // laplace saturates for |S| >~ 2: keep its scores in range with the default 1/sqrt(s).
        check_case(c);
      }
    }
  }
}

TEST_F(AttentionGpu, WideValues) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2}) {
    Case c;
    c.kernel = kernel;
    c.b = 1, c.h = 1, c.n_q = 200, c.n_k = 200, c.s = 128, c.e = 1024;
    check_case(c);
    c.causal = true;
    check_case(c);
  }
}

TEST_F(AttentionGpu, UnequalLengthsAndOddSizes) {
  for (bool causal : {false, true}) {
    Case c;
    c.causal = causal;
    c.n_q = 7, c.n_k = 130, c.e = 40;  // e not a multiple of 8: the scalar load path
    check_case(c);
    c.n_q = 150, c.n_k = 65, c.e = 72;
    check_case(c);
    c.n_q = 1, c.n_k = 1;
    check_case(c);
  }
}

TEST_F(AttentionGpu, Padding) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace}) {
    Case c;
    c.kernel = kernel;
    c.lengths = {130, 61};
    check_case(c);
    c.by_valid_length = kernel != Kernel::softmax;  // the inv_n rule of relu2 and laplace
    c.causal = true;
    check_case(c);
    c.lengths.clear();
    c.holey_mask = true;
    check_case(c);
  }
}

// softmax_plus: scale · log(valid keys) / log(base) per batch row, computed on the device.
TEST_F(AttentionGpu, LogLengthBase) {
  for (bool causal : {false, true}) {
    Case c;
    c.kernel = Kernel::softmax;
    c.causal = causal;
    c.log_length_base = 16;
    c.lengths = {130, 61};
    check_case(c);
    c.lengths.clear();
    c.holey_mask = true;
    check_case(c);
  }
}

TEST_F(AttentionGpu, RelativeBias) {
  for (auto kind : {RelativeBias::Kind::per_offset, RelativeBias::Kind::t5_buckets}) {
    for (Kernel kernel : {Kernel::softmax, Kernel::relu2}) {
      Case c;
      c.kernel = kernel;
      c.bias = kind;
      c.n_q = 300, c.n_k = 300, c.b = 1;
      check_case(c);
      c.causal = true;
      check_case(c);
    }
  }
}

// n_q < n_k with a bias: query i sits at position i + (n_k - n_q) for the bias as for the causal
// mask (a KV-cache step); the CPU op is checked against the full causal pass in attention_test.
TEST_F(AttentionGpu, RelativeBiasWithFewerQueriesThanKeys) {
  for (auto kind : {RelativeBias::Kind::per_offset, RelativeBias::Kind::t5_buckets}) {
    for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace}) {
      Case c;
      c.kernel = kernel;
      c.bias = kind;
      c.b = 1, c.n_q = 37, c.n_k = 300;
      c.causal = true;
      check_case(c);
      c.n_q = 1;
      check_case(c);
    }
    Case bidirectional;
    bidirectional.bias = kind;
    bidirectional.b = 1, bidirectional.n_q = 37, bidirectional.n_k = 300;
    check_case(bidirectional);
  }
}

TEST_F(AttentionGpu, Dropout) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace}) {
    Case c;
    c.kernel = kernel;
    c.dropout_p = 0.2;
    c.causal = kernel == Kernel::softmax;
    check_case(c);
  }
}

// backend cudnn: the SDPA forward and backward (bprop) graphs against the CPU op, every gradient
// with kGradTol (the fused bprop also rounds P and dS to bf16 before its products). Covers both
// head widths and s != e, causal, sequence lengths off the 64-row tiles, n_q != n_k, and the
// calls the backward hands to gau's kernels (causal n_q != n_k, n_q = n_k = 1).
TEST_F(AttentionGpu, CudnnMatchesCpu) {
#ifdef GAU_WITH_CUDNN
  for (bool causal : {false, true}) {
    for (int64_t s : {64, 128}) {
      Case c;
      c.backend = Backend::cudnn;
      c.causal = causal;
      c.s = s, c.e = s;
      c.n_q = 256, c.n_k = 256;
      check_case(c);
      c.e = 192 - s;  // the other width: s != e
      c.b = 1, c.h = 3, c.n_q = 130, c.n_k = 130;
      check_case(c);
      c.n_q = 200, c.n_k = 328;  // causal: the gau kernels (end-aligned mask)
      check_case(c);
      c.n_q = 1, c.n_k = 1;  // backward: the gau kernels on cuDNN's O and LSE
      check_case(c);
    }
  }
#else
  GTEST_SKIP() << "gau was built without cuDNN";
#endif
}

TEST_F(AttentionGpu, CudnnUnsupportedNamesWhatIsSupported) {
#ifdef GAU_WITH_CUDNN
  const Device dev = Device::cuda(0);
  Tensor q = input({1, 1, 16, 96}, 1, DType::bf16, dev), k = input({1, 1, 16, 96}, 2, DType::bf16, dev);
  Tensor v = input({1, 1, 16, 64}, 3, DType::bf16, dev);
  AttentionOptions opt;
  opt.backend = Backend::cudnn;
  try {
    dot_product_attention(q, k, v, opt);
    ADD_FAILURE() << "expected an error for s=96 on backend cudnn";
  } catch (const Error& err) {
    const std::string msg = err.what();
    EXPECT_NE(msg.find("s and e in {64, 128}, got s=96 e=64"), std::string::npos) << msg;
  }
#else
  GTEST_SKIP() << "gau was built without cuDNN";
#endif
}

// Peak allocator bytes of forward + backward grow linearly in n (no n x n buffer anywhere).
TEST_F(AttentionGpu, PeakMemoryIsLinear) {
  const Device dev = Device::cuda(0);
  auto peak_for = [&](int64_t n, Kernel kernel) {
    Tensor q = input({1, 1, n, 128}, 1, DType::bf16, dev).requires_grad_();
    Tensor k = input({1, 1, n, 128}, 2, DType::bf16, dev).requires_grad_();
    Tensor v = input({1, 1, n, 1024}, 3, DType::bf16, dev).requires_grad_();
    Tensor d_o = input({1, 1, n, 1024}, 4, DType::bf16, dev);
    synchronize(dev);
    reset_peak_memory(dev);
    AttentionOptions opt;
    opt.kernel = kernel;
    opt.backend = Backend::gau;
    Tensor o = dot_product_attention(q, k, v, opt);
    o.backward(d_o);
    synchronize(dev);
    return memory_stats(dev).peak;
  };
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2}) {
    const size_t small = peak_for(2048, kernel), large = peak_for(4096, kernel);
    EXPECT_LT(static_cast<double>(large), 2.5 * static_cast<double>(small))
        << kernel_name(kernel) << ": peak " << small << " bytes at n=2048, " << large << " at n=4096";
  }
}

TEST_F(AttentionGpu, UnsupportedDtypeOrHeadWidthNamesWhatIsSupported) {
  const Device dev = Device::cuda(0);
  AttentionOptions opt;
  opt.backend = Backend::gau;
  auto expect_error = [&](DType dt, int64_t s, int64_t e, const std::string& got) {
    Tensor q = input({1, 1, 16, s}, 1, dt, dev), k = input({1, 1, 16, s}, 2, dt, dev);
    Tensor v = input({1, 1, 16, e}, 3, dt, dev);
    try {
      dot_product_attention(q, k, v, opt);
      ADD_FAILURE() << "expected an error for " << got;
    } catch (const Error& err) {
      const std::string msg = err.what();
      EXPECT_NE(msg.find("bf16 and f16 with s in {64, 128} and e <= 2048"), std::string::npos) << msg;
      EXPECT_NE(msg.find(got), std::string::npos) << msg;
    }
  };
  expect_error(DType::f32, 96, 64, "f32 s=96");
  expect_error(DType::bf16, 96, 64, "bf16 s=96");
  expect_error(DType::f16, 64, 4096, "f16 s=64 e=4096");
}

}  // namespace
}  // namespace gau::attention
