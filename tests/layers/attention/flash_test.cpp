// flash_attention (CPU) against the naive f64 reference in flash_reference.h: forward values,
// gradients (directional derivatives of the reference, and a full finite-difference Jacobian on
// small shapes), decoding equivalence, linear memory, and errors.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <string>

#include "core/allocator.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/attention/flash.h"
#include "tests/layers/attention/flash_reference.h"
#include "tests/support/parity.h"

namespace gau::attention {
namespace {

using flash_ref::flash_reference;
using flash_ref::FlashData;
using flash_ref::FlashProblem;
using flash_ref::random_data;
using test::values;

Tensor make(const std::vector<double>& x, const Shape& shape, DType dtype) {
  return ops::contiguous(ops::to_dtype(ops::from_vector<double>(x, shape), dtype));
}

FlashOptions options(const FlashProblem& p, DType dtype) {
  FlashOptions o;
  o.chunk = p.c;
  o.causal = p.causal;
  o.linear_norm = p.norm;
  o.max_length = p.max_length;
  if (!p.lengths.empty()) o.key_lengths = ops::from_vector<int64_t>(p.lengths, {p.b});
  if (!p.bias.empty()) o.bias = make(p.bias, {2 * p.c - 1}, dtype == DType::f64 ? DType::f64 : DType::f32);
  return o;
}

// Worst |got - want| / (atol + rtol |want|) <= 1, reporting the worst element.
void expect_close(const std::vector<double>& got, const std::vector<double>& want, double atol, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double r = std::abs(got[i] - want[i]) / (atol + rtol * std::abs(want[i]));
    if (!(r <= worst)) worst = r, at = i;
  }
  EXPECT_LE(worst, 1.0) << what << ": worst element " << at << " got " << got[at] << " want " << want[at];
}

struct OpRun {
  std::vector<double> o;
  std::vector<std::vector<double>> grads;  // qq, kq, ql, kl, v, bias
};

// The op's output and the gradients of sum(o * w).
OpRun run_op(const FlashProblem& p, const FlashData& d, const std::vector<double>& w, DType dtype, bool recompute = true) {
  Shape qs{p.b, p.n, p.s}, vs{p.b, p.n, p.e};
  std::vector<Tensor> in = {make(d.qq, qs, dtype), make(d.kq, qs, dtype), make(d.ql, qs, dtype),
                            make(d.kl, qs, dtype), make(d.v, vs, dtype)};
  for (Tensor& t : in) t.requires_grad_(true);
  FlashOptions opt = options(p, dtype);
  opt.recompute = recompute;
  if (opt.bias.defined()) opt.bias.requires_grad_(true);
  Tensor o = flash_attention(in[0], in[1], in[2], in[3], in[4], opt);
  o.backward(make(w, vs, dtype));
  OpRun r;
  r.o = values(o);
  for (Tensor& t : in) r.grads.push_back(values(t.grad()));
  if (opt.bias.defined()) r.grads.push_back(values(opt.bias.grad()));
  return r;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double t = 0;
  for (size_t i = 0; i < a.size(); ++i) t += a[i] * b[i];
  return t;
}

// Directional derivative of sum(reference(x) * w) along a random direction of one input,
// by central differences, against the op's gradient projected on the same direction.
void check_gradients_against_reference(const FlashProblem& p, const FlashData& d, const OpRun& run,
                                       const std::vector<double>& w, double tol, const std::string& what) {
  std::mt19937 rng(7);
  std::normal_distribution<double> nd(0.0, 1.0);
  const char* names[] = {"qq", "kq", "ql", "kl", "v", "bias"};
  for (size_t k = 0; k < run.grads.size(); ++k) {
    FlashData dp = d, dm = d;
    FlashProblem pp = p, pm = p;
    std::vector<double>* xs[] = {&dp.qq, &dp.kq, &dp.ql, &dp.kl, &dp.v, &pp.bias};
    std::vector<double>* ys[] = {&dm.qq, &dm.kq, &dm.ql, &dm.kl, &dm.v, &pm.bias};
    std::vector<double> u(xs[k]->size());
    for (double& t : u) t = nd(rng);
    const double h = 1e-5;
    for (size_t i = 0; i < u.size(); ++i) (*xs[k])[i] += h * u[i], (*ys[k])[i] -= h * u[i];
    const double fd = (dot(flash_reference(pp, dp), w) - dot(flash_reference(pm, dm), w)) / (2 * h);
    const double an = dot(run.grads[k], u);
    EXPECT_NEAR(an, fd, tol * (1 + std::abs(fd))) << what << ": d/d" << names[k];
  }
}

std::string describe_problem(const FlashProblem& p) {
  return std::string(p.causal ? "causal" : "bidirectional") + " c=" + std::to_string(p.c) +
         " n=" + std::to_string(p.n) + " norm=" + linear_norm_name(p.norm) + (p.lengths.empty() ? "" : " padded") +
         (p.bias.empty() ? "" : " bias");
}

FlashProblem problem(int64_t c, bool causal, LinearNorm norm, bool padded, bool bias) {
  FlashProblem p;
  p.c = c;
  p.n = 2 * c + c / 2 + 3;  // not a multiple of c: three chunks, the last one partial
  p.causal = causal;
  p.norm = norm;
  if (padded) p.lengths = {p.n, c + 5};
  if (bias) {
    std::mt19937 rng(11);
    std::normal_distribution<double> nd(0.0, 0.3);
    p.bias.resize(2 * c - 1);
    for (double& t : p.bias) t = nd(rng);
  }
  return p;
}

std::vector<FlashProblem> problems() {
  std::vector<FlashProblem> ps;
  for (int64_t c : {16, 64, 256}) {
    for (bool padded : {false, true}) {
      ps.push_back(problem(c, false, LinearNorm::chunk, padded, c == 16));
      for (LinearNorm norm : {LinearNorm::chunk, LinearNorm::n, LinearNorm::prefix})
        ps.push_back(problem(c, true, norm, padded, c != 64));
    }
  }
  return ps;
}

TEST(FlashAttention, MatchesReferenceF64ForwardAndGradients) {
  for (const FlashProblem& p : problems()) {
    const FlashData d = random_data(p, 1);
    const std::vector<double> w = random_data(p, 2).v;
    const OpRun run = run_op(p, d, w, DType::f64);
    expect_close(run.o, flash_reference(p, d), 1e-10, 1e-9, describe_problem(p));
    check_gradients_against_reference(p, d, run, w, 1e-5, describe_problem(p));
  }
}

// One batch row and more threads than rows: the scans split each row into segments (first a sum
// per segment, then a scan from each segment's offset), which small problems never do.
TEST(FlashAttention, SegmentedScansMatchReference) {
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(4);
  for (bool causal : {false, true}) {
    for (LinearNorm norm : {LinearNorm::chunk, LinearNorm::n, LinearNorm::prefix}) {
      if (!causal && norm != LinearNorm::chunk) continue;
      FlashProblem p = problem(16, causal, norm, false, true);
      p.b = 1, p.n = 16 * 40 + 7, p.s = 32, p.e = 32, p.lengths = {600};
      const FlashData d = random_data(p, 21, 0.5);
      const std::vector<double> w = random_data(p, 22).v;
      for (bool recompute : {true, false}) {
        const OpRun run = run_op(p, d, w, DType::f64, recompute);
        expect_close(run.o, flash_reference(p, d), 1e-10, 1e-9, describe_problem(p) + " segmented");
        check_gradients_against_reference(p, d, run, w, 1e-5, describe_problem(p) + " segmented");
      }
    }
  }
  omp_set_num_threads(saved_threads);
}

TEST(FlashAttention, SavedStatesGiveTheSameGradientsAsRecompute) {
  for (LinearNorm norm : {LinearNorm::chunk, LinearNorm::prefix}) {
    FlashProblem p = problem(16, true, norm, true, true);
    const FlashData d = random_data(p, 3);
    const std::vector<double> w = random_data(p, 4).v;
    const OpRun a = run_op(p, d, w, DType::f64, true), b = run_op(p, d, w, DType::f64, false);
    expect_close(b.o, a.o, 1e-12, 1e-12, "forward");
    for (size_t k = 0; k < a.grads.size(); ++k) expect_close(b.grads[k], a.grads[k], 1e-11, 1e-10, "grad");
  }
}

TEST(FlashAttention, LowPrecisionMatchesReference) {
  for (DType dt : {DType::f32, DType::bf16, DType::f16}) {
    for (bool causal : {false, true}) {
      FlashProblem p = problem(16, causal, LinearNorm::prefix, true, true);
      const FlashData d = random_data(p, 5);
      const std::vector<double> w = random_data(p, 6).v;
      const OpRun run = run_op(p, d, w, dt);
      const OpRun exact = run_op(p, d, w, DType::f64);
      // bf16/f16 inputs are rounded before the f32 compute; compare with the f64 op on the same rounded inputs
      // would be tighter, but the reference on the unrounded ones bounds the whole error.
      const double tol = dt == DType::f32 ? 1e-5 : dt == DType::f16 ? 2e-2 : 8e-2;
      expect_close(run.o, flash_reference(p, d), tol, tol, std::string(dtype_name(dt)) + " forward");
      for (size_t k = 0; k < run.grads.size(); ++k)
        expect_close(run.grads[k], exact.grads[k], 5 * tol, 5 * tol, std::string(dtype_name(dt)) + " grad");
    }
  }
}

// Keys past key_lengths never reach any output, and get zero gradients.
TEST(FlashAttention, PaddingNeverLeaks) {
  for (bool causal : {false, true}) {
    FlashProblem p = problem(16, causal, LinearNorm::prefix, true, true);
    const FlashData d = random_data(p, 41);
    FlashData noisy = d;
    const int64_t len = p.lengths[1];
    for (int64_t i = len; i < p.n; ++i) {
      for (int64_t x = 0; x < p.s; ++x) noisy.kq[(p.n + i) * p.s + x] += 3.0, noisy.kl[(p.n + i) * p.s + x] -= 2.0;
      for (int64_t y = 0; y < p.e; ++y) noisy.v[(p.n + i) * p.e + y] *= -5.0;
    }
    const std::vector<double> w = random_data(p, 42).v;
    const OpRun a = run_op(p, d, w, DType::f64), b = run_op(p, noisy, w, DType::f64);
    expect_close(b.o, a.o, 1e-12, 1e-12, "outputs with changed padded keys");
    for (int k : {1, 3, 4}) {  // kq, kl, v
      const int64_t w_k = k == 4 ? p.e : p.s;
      for (int64_t i = len; i < p.n; ++i)
        for (int64_t x = 0; x < w_k; ++x) ASSERT_EQ(a.grads[k][(p.n + i) * w_k + x], 0.0) << "input " << k << " row " << i;
    }
  }
}

// Full Jacobian check of the op against central differences of the op itself, on small shapes.
TEST(FlashAttention, Gradcheck) {
  for (bool causal : {false, true}) {
    for (LinearNorm norm : {LinearNorm::chunk, LinearNorm::n, LinearNorm::prefix}) {
      if (!causal && norm != LinearNorm::chunk) continue;
      FlashProblem p;
      p.b = 2, p.n = 11, p.s = 3, p.e = 4, p.c = 4, p.causal = causal, p.norm = norm, p.lengths = {11, 6};
      p.bias = {0.1, -0.2, 0.3, 0.05, -0.1, 0.2, 0.0};
      const FlashData d = random_data(p, 9);
      const std::vector<double> w = random_data(p, 10).v;
      const OpRun run = run_op(p, d, w, DType::f64);
      auto loss = [&](const FlashProblem& pp, const FlashData& dd) {
        OpRun r = run_op(pp, dd, w, DType::f64);
        return dot(r.o, w);
      };
      for (size_t k = 0; k < run.grads.size(); ++k) {
        for (size_t i = 0; i < run.grads[k].size(); ++i) {
          FlashData dp = d, dm = d;
          FlashProblem pp = p, pm = p;
          std::vector<double>* xs[] = {&dp.qq, &dp.kq, &dp.ql, &dp.kl, &dp.v, &pp.bias};
          std::vector<double>* ys[] = {&dm.qq, &dm.kq, &dm.ql, &dm.kl, &dm.v, &pm.bias};
          const double h = 1e-6;
          (*xs[k])[i] += h;
          (*ys[k])[i] -= h;
          const double fd = (loss(pp, dp) - loss(pm, dm)) / (2 * h);
          ASSERT_NEAR(run.grads[k][i], fd, 1e-6 * (1 + std::abs(fd)))
              << "input " << k << " element " << i << " causal " << causal << " norm " << linear_norm_name(norm);
        }
      }
    }
  }
}

TEST(FlashAttention, DecodingMatchesCausalForward) {
  for (LinearNorm norm : {LinearNorm::chunk, LinearNorm::n, LinearNorm::prefix}) {
    FlashProblem p = problem(8, true, norm, false, true);
    p.n = 29;
    p.max_length = 64;
    const FlashData d = random_data(p, 12);
    const std::vector<double> full = flash_reference(p, d);
    FlashOptions opt = options(p, DType::f64);
    FlashDecodeState state(p.b, p.s, p.e, opt, DType::f64);
    for (int64_t t = 0; t < p.n; ++t) {
      auto token = [&](const std::vector<double>& x, int64_t w) {
        std::vector<double> y(p.b * w);
        for (int64_t b = 0; b < p.b; ++b)
          std::copy(x.begin() + (b * p.n + t) * w, x.begin() + (b * p.n + t + 1) * w, y.begin() + b * w);
        return make(y, {p.b, w}, DType::f64);
      };
      std::vector<double> o = values(state.step(token(d.qq, p.s), token(d.kq, p.s), token(d.ql, p.s),
                                                token(d.kl, p.s), token(d.v, p.e)));
      std::vector<double> want(p.b * p.e);
      for (int64_t b = 0; b < p.b; ++b)
        std::copy(full.begin() + (b * p.n + t) * p.e, full.begin() + (b * p.n + t + 1) * p.e, want.begin() + b * p.e);
      expect_close(o, want, 1e-11, 1e-10, std::string("decode step ") + std::to_string(t));
    }
    EXPECT_EQ(state.position(), p.n);
    // And the op itself agrees with the reference on the same problem.
    expect_close(run_op(p, d, random_data(p, 13).v, DType::f64).o, full, 1e-10, 1e-9, "full forward");
  }
}

// c > n is one chunk padded to c tokens: still the definition (scores / c, the bias over [2c - 1],
// each linear normaliser), with the padded keys left out, forward and backward, and decoding the
// same tokens one at a time gives the same outputs.
TEST(FlashAttention, ChunkLongerThanTheSequenceIsOnePaddedChunk) {
  for (int64_t c : {16, 64}) {
    for (int64_t n : {int64_t{1}, c / 2 + 3, c - 1}) {
      for (bool padded : {false, true}) {
        for (bool causal : {false, true}) {
          for (LinearNorm norm : {LinearNorm::chunk, LinearNorm::n, LinearNorm::prefix}) {
            if (!causal && norm != LinearNorm::chunk) continue;
            FlashProblem p = problem(c, causal, norm, false, true);
            p.n = n;
            if (padded) p.lengths = {n, n / 2};
            if (norm == LinearNorm::n) p.max_length = 2 * c;  // decoding needs the configured length
            const FlashData d = random_data(p, 51);
            const std::vector<double> w = random_data(p, 52).v;
            const OpRun run = run_op(p, d, w, DType::f64);
            const std::vector<double> want = flash_reference(p, d);
            expect_close(run.o, want, 1e-10, 1e-9, describe_problem(p));
            check_gradients_against_reference(p, d, run, w, 1e-5, describe_problem(p));
            if (!causal || padded) continue;  // decoding is causal and has no key_lengths
            FlashDecodeState state(p.b, p.s, p.e, options(p, DType::f64), DType::f64);
            auto token = [&](const std::vector<double>& x, int64_t t, int64_t width) {
              std::vector<double> y(p.b * width);
              for (int64_t b = 0; b < p.b; ++b)
                std::copy(x.begin() + (b * n + t) * width, x.begin() + (b * n + t + 1) * width, y.begin() + b * width);
              return y;
            };
            for (int64_t t = 0; t < n; ++t) {
              const std::vector<double> o = values(state.step(
                  make(token(d.qq, t, p.s), {p.b, p.s}, DType::f64), make(token(d.kq, t, p.s), {p.b, p.s}, DType::f64),
                  make(token(d.ql, t, p.s), {p.b, p.s}, DType::f64), make(token(d.kl, t, p.s), {p.b, p.s}, DType::f64),
                  make(token(d.v, t, p.e), {p.b, p.e}, DType::f64)));
              expect_close(o, token(run.o, t, p.e), 1e-11, 1e-10, describe_problem(p) + " decode step " + std::to_string(t));
            }
          }
        }
      }
    }
  }
}

// Peak bytes of forward + backward above what the inputs hold, at n and 2n.
size_t peak_bytes(int64_t n) {
  const int64_t b = 1, s = 64, e = 128;
  std::vector<Tensor> in;
  for (int i = 0; i < 4; ++i) in.push_back(ops::randn({b, n, s}, DType::f32));
  in.push_back(ops::randn({b, n, e}, DType::f32));
  Tensor w = ops::randn({b, n, e}, DType::f32);
  for (Tensor& t : in) t.requires_grad_(true);
  const size_t base = memory_stats().current;
  reset_peak_memory();
  FlashOptions opt;
  opt.chunk = 256;
  opt.causal = true;
  Tensor o = flash_attention(in[0], in[1], in[2], in[3], in[4], opt);
  o.backward(w);
  return memory_stats().peak - base;
}

TEST(FlashAttention, MemoryIsLinearInN) {
  const size_t p4 = peak_bytes(4096), p8 = peak_bytes(8192);
  RecordProperty("peak_bytes_4k", std::to_string(p4));
  RecordProperty("peak_bytes_8k", std::to_string(p8));
  EXPECT_LT(double(p8), 2.5 * double(p4)) << "peak at 4k " << p4 << " B, at 8k " << p8 << " B";
}

TEST(FlashAttention, Errors) {
  Tensor q = ops::randn({2, 40, 8}), v = ops::randn({2, 40, 12});
  auto expect_error = [&](const Tensor& qq, const Tensor& vv, const FlashOptions& opt, const std::string& needle) {
    try {
      flash_attention(qq, q, q, q, vv, opt);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find(needle), std::string::npos) << err.what();
    }
  };
  FlashOptions opt;
  opt.chunk = 0;
  expect_error(q, v, opt, "must be positive");
  opt.chunk = -4;
  expect_error(q, v, opt, "must be positive");
  opt.chunk = 16;
  expect_error(ops::randn({2, 41, 8}), v, opt, "qq's shape");
  expect_error(q, ops::randn({2, 39, 12}), opt, "v must be [b, n, e]");
  expect_error(q, ops::randn({2, 40, 12}, DType::f64), opt, "share dtype");
  FlashOptions bad_bias = opt;
  bad_bias.bias = ops::randn({16});
  expect_error(q, v, bad_bias, "bias must be [2c - 1]");
  FlashOptions bad_len = opt;
  bad_len.key_lengths = ops::from_vector<int64_t>({40, 41}, {2});
  expect_error(q, v, bad_len, "outside [0, n");
  EXPECT_THROW(linear_norm_from_name("sqrt"), Error);
  FlashOptions bidir;
  EXPECT_THROW(FlashDecodeState(1, 8, 8, bidir), Error);
}

}  // namespace
}  // namespace gau::attention
