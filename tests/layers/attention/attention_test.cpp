// dot_product_attention() on CPU against the naive f64 reference (attention_reference.h): the
// forward and every gradient (q, k, v, bias table) through autograd, over odd lengths, causal and
// bidirectional, padding by lengths and by mask, both bias kinds, dropout, and all three kernels.
#include "layers/attention/attention.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "tests/layers/attention/attention_reference.h"

namespace gau::attention {
namespace {

using testing::RefProblem;
using testing::RefResult;

std::vector<double> random_values(int64_t count, std::mt19937& rng, double stddev = 1.0) {
  std::normal_distribution<double> dist(0.0, stddev);
  std::vector<double> out(static_cast<size_t>(count));
  for (double& x : out) x = dist(rng);
  return out;
}

Tensor make_tensor(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return ops::to_dtype(ops::from_vector<double>(values, shape), dtype);
}

std::vector<double> host_values(const Tensor& t) {
  Tensor host = ops::contiguous(ops::to_dtype(t.detach(), DType::f64));
  const double* data = host.data<double>();
  return std::vector<double>(data, data + host.numel());
}

// |got - want| <= atol * max(max|want|, 1) + rtol * |want|; reports the worst element. The floor
// of 1 covers gradients that are exactly 0 in f64 (one key per row) but rounding noise in f32.
void expect_close(const std::vector<double>& got, const std::vector<double>& want, double atol, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1;
  for (double w : want) scale = std::max(scale, std::abs(w));
  size_t worst = 0;
  double worst_excess = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    const double excess = std::abs(got[i] - want[i]) - (atol * scale + rtol * std::abs(want[i]));
    if (excess > worst_excess || std::isnan(got[i])) worst_excess = std::isnan(got[i]) ? 1e300 : excess, worst = i;
  }
  EXPECT_LE(worst_excess, 0.0) << what << ": worst element " << worst << " got " << got[worst] << " want "
                               << want[worst] << " (abs err " << std::abs(got[worst] - want[worst])
                               << ", max|want| " << scale << ")";
}

enum class Padding { none, lengths, prefix_mask, mask };

struct Case {
  int64_t b, h, n_q, n_k, s, e;
  Kernel kernel;
  bool causal;
  Padding padding = Padding::none;
  RelativeBias::Kind bias = RelativeBias::Kind::none;
  double dropout_p = 0;
  bool scale_by_valid_length = false;
  double log_length_base = 0;
  DType dtype = DType::f32;

  std::string name() const {
    std::string n = std::string(kernel_name(kernel)) + " b" + std::to_string(b) + " h" + std::to_string(h) + " nq" +
                    std::to_string(n_q) + " nk" + std::to_string(n_k) + " s" + std::to_string(s) + " e" +
                    std::to_string(e) + (causal ? " causal" : " bidir") + " " + dtype_name(dtype);
    if (padding != Padding::none) n += " pad" + std::to_string(static_cast<int>(padding));
    if (bias != RelativeBias::Kind::none) n += " bias" + std::to_string(static_cast<int>(bias));
    if (dropout_p > 0) n += " dropout";
    if (scale_by_valid_length) n += " scale_by_valid";
    if (log_length_base > 0) n += " log_length_base " + std::to_string(log_length_base);
    return n;
  }
};

void run_case(const Case& c) {
  SCOPED_TRACE(c.name());
  std::mt19937 rng(static_cast<uint32_t>(c.n_q * 131 + c.n_k * 7 + c.s));
  RefProblem p;
  p.b = c.b, p.h = c.h, p.n_q = c.n_q, p.n_k = c.n_k, p.s = c.s, p.e = c.e;
  p.kernel = c.kernel, p.causal = c.causal;
  p.scale = c.kernel == Kernel::relu2 ? 1.0 / c.n_k : 1.0 / std::sqrt(static_cast<double>(c.s));
  p.scale_by_valid_length = c.scale_by_valid_length;
  p.log_length_base = c.log_length_base;
  // relu2 (and the inv_n rule) with 1/n makes tiny scores; larger q/k keep them in a range where
  // the kernel's shape matters.
  const double qk_std =
      c.kernel == Kernel::relu2 || c.scale_by_valid_length ? std::sqrt(static_cast<double>(c.n_k)) / 2 : 1.0;
  const std::vector<double> q = random_values(c.b * c.h * c.n_q * c.s, rng, qk_std);
  const std::vector<double> k = random_values(c.b * c.h * c.n_k * c.s, rng, qk_std);
  const std::vector<double> v = random_values(c.b * c.h * c.n_k * c.e, rng);
  const std::vector<double> d_o = random_values(c.b * c.h * c.n_q * c.e, rng);

  AttentionOptions opt;
  opt.kernel = c.kernel;
  opt.causal = c.causal;
  opt.scale_by_valid_length = c.scale_by_valid_length;
  opt.log_length_base = c.log_length_base;
  if (c.padding == Padding::lengths) {
    std::vector<int64_t> lengths(c.b);
    for (int64_t i = 0; i < c.b; ++i) lengths[i] = std::max<int64_t>(c.n_k - (i * 37 + 3) % (c.n_k + 1), 0);
    lengths[0] = c.n_k;  // one full row
    p.lengths = lengths;
    opt.key_lengths = ops::from_vector<int64_t>(lengths, {c.b});
  } else if (c.padding == Padding::prefix_mask || c.padding == Padding::mask) {
    opt.key_mask = Tensor::empty({c.b, c.n_k}, DType::b8);
    bool* m = opt.key_mask.data<bool>();
    p.mask.resize(c.b * c.n_k);
    for (int64_t i = 0; i < c.b; ++i) {
      const int64_t len = std::max<int64_t>(c.n_k - (i * 29 + 1) % (c.n_k + 1), 0);
      for (int64_t j = 0; j < c.n_k; ++j) {
        const bool keep = c.padding == Padding::prefix_mask ? j < len : (j * 7 + i) % 5 != 0;
        m[i * c.n_k + j] = keep;
        p.mask[i * c.n_k + j] = keep;
      }
    }
  }
  if (c.bias != RelativeBias::Kind::none) {
    opt.bias.kind = c.bias;
    p.bias_kind = c.bias;
    int64_t size = 0;
    if (c.bias == RelativeBias::Kind::per_offset) {
      opt.bias.max_offset = p.max_offset = 9;
      size = 19;
    } else {
      opt.bias.num_buckets = p.num_buckets = 16;
      opt.bias.max_distance = p.max_distance = 64;
      opt.bias.bidirectional = p.bidirectional = !c.causal;
      size = 16;
    }
    p.table = random_values(size, rng, 0.5);
    opt.bias.table = make_tensor(p.table, {size}, c.dtype == DType::f64 ? DType::f64 : DType::f32).requires_grad_();
  }
  if (c.dropout_p > 0) {
    opt.dropout_p = p.dropout_p = c.dropout_p;
    opt.seed = p.seed = 1234;
    opt.offset = p.offset = 77;
  }

  const RefResult want = testing::reference_attention(p, q, k, v, d_o);
  Tensor tq = make_tensor(q, {c.b, c.h, c.n_q, c.s}, c.dtype).requires_grad_();
  Tensor tk = make_tensor(k, {c.b, c.h, c.n_k, c.s}, c.dtype).requires_grad_();
  Tensor tv = make_tensor(v, {c.b, c.h, c.n_k, c.e}, c.dtype).requires_grad_();
  Tensor o = dot_product_attention(tq, tk, tv, opt);
  ASSERT_EQ(o.shape(), (Shape{c.b, c.h, c.n_q, c.e}));
  ASSERT_EQ(o.dtype(), c.dtype);
  o.backward(make_tensor(d_o, o.shape(), c.dtype));

  const double tol = c.dtype == DType::f64 ? 1e-11 : c.dtype == DType::f32 ? 2e-5 : 2e-2;
  const double rtol = c.dtype == DType::f64 ? 1e-9 : c.dtype == DType::f32 ? 1e-4 : 5e-2;
  expect_close(host_values(o), want.o, tol, rtol, "o");
  expect_close(host_values(tq.grad()), want.d_q, tol, rtol, "d_q");
  expect_close(host_values(tk.grad()), want.d_k, tol, rtol, "d_k");
  expect_close(host_values(tv.grad()), want.d_v, tol, rtol, "d_v");
  if (c.bias != RelativeBias::Kind::none) expect_close(host_values(opt.bias.table.grad()), want.d_bias, tol, rtol, "d_bias");
}

// Small s / e for long sequences keep the O(n^2) f64 reference fast.
Case shape_for(int64_t n, Kernel kernel, bool causal) {
  if (n >= 1000) return {1, 1, n, n, 8, 12, kernel, causal};
  if (n >= 130) return {2, 2, n, n, 16, 24, kernel, causal};
  return {2, 3, n, n, 5, 7, kernel, causal};
}

TEST(Attention, MatchesReferenceAcrossLengthsKernelsAndCausality) {
  for (int64_t n : {1, 7, 130, 1000})
    for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace})
      for (bool causal : {false, true}) run_case(shape_for(n, kernel, causal));
}

TEST(Attention, PaddingByLengthsAndMasks) {
  for (int64_t n : {7, 130, 1000})
    for (Kernel kernel : {Kernel::softmax, Kernel::relu2})
      for (bool causal : {false, true})
        for (Padding pad : {Padding::lengths, Padding::prefix_mask, Padding::mask}) {
          Case c = shape_for(n, kernel, causal);
          c.b = std::max<int64_t>(c.b, 3);
          c.padding = pad;
          run_case(c);
        }
}

TEST(Attention, RelativeBiasBothKinds) {
  for (int64_t n : {7, 130, 1000})
    for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace})
      for (bool causal : {false, true})
        for (auto kind : {RelativeBias::Kind::per_offset, RelativeBias::Kind::t5_buckets}) {
          Case c = shape_for(n, kernel, causal);
          c.bias = kind;
          run_case(c);
        }
}

TEST(Attention, DropoutMatchesReferenceWithTheSameMask) {
  for (int64_t n : {7, 130, 1000})
    for (Kernel kernel : {Kernel::softmax, Kernel::relu2})
      for (bool causal : {false, true}) {
        Case c = shape_for(n, kernel, causal);
        c.dropout_p = 0.3;
        run_case(c);
      }
}

TEST(Attention, EverythingAtOnce) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace})
    for (bool causal : {false, true}) {
      Case c{3, 2, 130, 130, 16, 20, kernel, causal, Padding::lengths, RelativeBias::Kind::t5_buckets, 0.2};
      run_case(c);
      c.padding = Padding::mask;
      c.bias = RelativeBias::Kind::per_offset;
      run_case(c);
    }
}

TEST(Attention, CrossLengthsAlignCausalMaskToTheEnd) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2})
    for (bool causal : {false, true}) {
      run_case({2, 2, 7, 130, 8, 6, kernel, causal});
      run_case({2, 2, 130, 70, 8, 6, kernel, causal});  // n_q > n_k: the first rows see no key
      run_case({1, 2, 1, 300, 8, 6, kernel, causal, Padding::lengths, RelativeBias::Kind::per_offset});
    }
}

// A KV-cache step: the last m queries against all n keys. Query i of the step sits at position
// i + n - m, so its causal mask and its relative bias are those of row i + n - m of the full causal
// pass: the outputs are those rows, and the gradients (with the full pass's other rows given zero
// upstream gradient) are the same for q's rows, k, v and the bias table.
void check_kv_cache_step(Kernel kernel, RelativeBias::Kind kind, bool bidirectional, int64_t n, int64_t m) {
  SCOPED_TRACE(std::string(kernel_name(kernel)) + (kind == RelativeBias::Kind::per_offset ? " per_offset" : " t5") +
               (bidirectional ? " bidirectional" : "") + " n" + std::to_string(n) + " m" + std::to_string(m));
  const int64_t b = 2, h = 2, s = 8, e = 6, bh = b * h;
  std::mt19937 rng(static_cast<uint32_t>(n * 31 + m));
  const double qk_std = kernel == Kernel::relu2 ? std::sqrt(static_cast<double>(n)) / 2 : 1.0;
  const std::vector<double> q = random_values(bh * n * s, rng, qk_std), k = random_values(bh * n * s, rng, qk_std);
  const std::vector<double> v = random_values(bh * n * e, rng), d_o_last = random_values(bh * m * e, rng);
  // Rows [n - m, n) of each head of x [bh, n, w]; and y [bh, m, w] placed there, zeros elsewhere.
  auto last_rows = [&](const std::vector<double>& x, int64_t w) {
    std::vector<double> y(bh * m * w);
    for (int64_t t = 0; t < bh; ++t)
      std::copy(x.begin() + (t * n + n - m) * w, x.begin() + (t * n + n) * w, y.begin() + t * m * w);
    return y;
  };
  auto placed_last = [&](const std::vector<double>& y, int64_t w) {
    std::vector<double> x(bh * n * w, 0.0);
    for (int64_t t = 0; t < bh; ++t)
      std::copy(y.begin() + t * m * w, y.begin() + (t + 1) * m * w, x.begin() + (t * n + n - m) * w);
    return x;
  };
  AttentionOptions opt;
  opt.kernel = kernel;
  opt.causal = true;
  opt.bias.kind = kind;
  opt.bias.max_offset = 9;
  opt.bias.num_buckets = 16;
  opt.bias.max_distance = 64;
  opt.bias.bidirectional = bidirectional;
  const int64_t table_size = kind == RelativeBias::Kind::per_offset ? 19 : 16;
  const std::vector<double> table = random_values(table_size, rng, 0.5);
  struct Run {
    std::vector<double> o, d_q, d_k, d_v, d_bias;
  };
  auto run = [&](const std::vector<double>& q_rows, int64_t n_q, const std::vector<double>& d_o) {
    AttentionOptions o = opt;
    o.bias.table = make_tensor(table, {table_size}, DType::f64).requires_grad_();
    Tensor tq = make_tensor(q_rows, {b, h, n_q, s}, DType::f64).requires_grad_();
    Tensor tk = make_tensor(k, {b, h, n, s}, DType::f64).requires_grad_();
    Tensor tv = make_tensor(v, {b, h, n, e}, DType::f64).requires_grad_();
    Tensor out = dot_product_attention(tq, tk, tv, o);
    out.backward(make_tensor(d_o, out.shape(), DType::f64));
    return Run{host_values(out), host_values(tq.grad()), host_values(tk.grad()), host_values(tv.grad()),
               host_values(o.bias.table.grad())};
  };
  const Run full = run(q, n, placed_last(d_o_last, e));
  const Run step = run(last_rows(q, s), m, d_o_last);
  expect_close(step.o, last_rows(full.o, e), 1e-12, 1e-10, "o");
  expect_close(step.d_q, last_rows(full.d_q, s), 1e-12, 1e-10, "d_q");
  expect_close(step.d_k, full.d_k, 1e-12, 1e-10, "d_k");
  expect_close(step.d_v, full.d_v, 1e-12, 1e-10, "d_v");
  expect_close(step.d_bias, full.d_bias, 1e-12, 1e-10, "d_bias");
}

TEST(Attention, KvCacheStepSeesTheBiasOfTheFullCausalPass) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2, Kernel::laplace})
    for (int64_t m : {1, 37}) {
      check_kv_cache_step(kernel, RelativeBias::Kind::per_offset, false, 300, m);
      check_kv_cache_step(kernel, RelativeBias::Kind::t5_buckets, false, 300, m);
      check_kv_cache_step(kernel, RelativeBias::Kind::t5_buckets, true, 300, m);
    }
}

// The inv_n rule: scale = 1 / valid keys of the batch row, the same for every query, causal or not.
TEST(Attention, ScaleByValidLengthRelu2AndLaplace) {
  for (Kernel kernel : {Kernel::relu2, Kernel::laplace})
    for (bool causal : {false, true})
      for (Padding pad : {Padding::lengths, Padding::mask}) {
        Case c{3, 2, 130, 130, 16, 12, kernel, causal, pad};
        c.scale_by_valid_length = true;
        run_case(c);
      }
}

// softmax_plus: scale * log(L_b) / log(base) per batch row, L_b its valid keys (n_k unpadded). A
// base below the lengths sharpens the scores (factor > 1), one above them flattens them.
TEST(Attention, LogLengthBaseScalesEachBatchRow) {
  for (Kernel kernel : {Kernel::softmax, Kernel::relu2})
    for (bool causal : {false, true})
      for (Padding pad : {Padding::none, Padding::lengths, Padding::mask})
        for (double base : {8.0, 512.0}) {
          Case c{3, 2, 130, 130, 16, 12, kernel, causal, pad};
          c.log_length_base = base;
          run_case(c);
        }
  Case f64{2, 1, 40, 40, 8, 6, Kernel::softmax, true, Padding::lengths};
  f64.log_length_base = 512;
  f64.dtype = DType::f64;
  run_case(f64);
}

TEST(Attention, WideValuesAndF64) {
  run_case({1, 1, 200, 200, 32, 300, Kernel::relu2, true});  // e much wider than s, as in GAU
  Case c{2, 2, 130, 130, 8, 12, Kernel::softmax, true, Padding::lengths, RelativeBias::Kind::t5_buckets, 0.1};
  c.dtype = DType::f64;
  run_case(c);
  c.kernel = Kernel::laplace;
  run_case(c);
}

TEST(Attention, HalfPrecisionComputesInF32) {
  for (DType dt : {DType::bf16, DType::f16}) {
    Case c{2, 2, 130, 130, 16, 16, Kernel::softmax, true, Padding::lengths};
    c.dtype = dt;
    run_case(c);
  }
}

// The backward runs one pass over whole heads when there are at least two heads per thread, and
// two passes (key tiles, then query tiles) otherwise: pin the thread count so both run here.
TEST(Attention, BothBackwardSchedules) {
  const int threads = omp_get_max_threads();
  for (int pinned : {1, 64}) {
    omp_set_num_threads(pinned);
    for (Kernel kernel : {Kernel::softmax, Kernel::relu2}) {
      Case c{2, 2, 300, 300, 8, 12, kernel, true, Padding::lengths, RelativeBias::Kind::per_offset, 0.1};
      run_case(c);
    }
  }
  omp_set_num_threads(threads);
}

TEST(Attention, T5BucketsMatchTheT5Formula) {
  using detail::t5_bucket;
  // bidirectional, 32 buckets, max_distance 128 (T5 defaults); rel = i - j.
  EXPECT_EQ(t5_bucket(0, 32, 128, true), 0);
  EXPECT_EQ(t5_bucket(1, 32, 128, true), 1);
  EXPECT_EQ(t5_bucket(7, 32, 128, true), 7);
  EXPECT_EQ(t5_bucket(-1, 32, 128, true), 17);
  EXPECT_EQ(t5_bucket(-7, 32, 128, true), 23);
  EXPECT_EQ(t5_bucket(8, 32, 128, true), 8);
  EXPECT_EQ(t5_bucket(12, 32, 128, true), 9);
  EXPECT_EQ(t5_bucket(127, 32, 128, true), 15);
  EXPECT_EQ(t5_bucket(1000, 32, 128, true), 15);
  EXPECT_EQ(t5_bucket(-1000, 32, 128, true), 31);
  // unidirectional: future keys share bucket 0.
  EXPECT_EQ(t5_bucket(-5, 32, 128, false), 0);
  EXPECT_EQ(t5_bucket(5, 32, 128, false), 5);
  EXPECT_EQ(t5_bucket(20, 32, 128, false), 17);
  EXPECT_EQ(t5_bucket(5000, 32, 128, false), 31);
}

}  // namespace
}  // namespace gau::attention
