// linear_cross_entropy: the LM loss with the output projection folded in, in row chunks. Checked
// against a naive f64 loss written here, by gradcheck across chunk boundaries, against the
// unchunked matmul + cross_entropy path, for the gradient sink, and for its memory bound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "autograd/functions.h"
#include "core/allocator.h"
#include "core/ops/factory.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::error_of;
using ::testing::HasSubstr;

constexpr int64_t kIgnore = -100;

Tensor targets_of(const std::vector<int64_t>& t) {
  return ops::from_vector<int64_t>(t, {static_cast<int64_t>(t.size())});
}

// mean over kept rows of -sum_c q_c log softmax(h_r w^T)_c, q = (1 - eps) onehot + eps / V.
double naive_loss(const Tensor& h, const Tensor& w, const std::vector<int64_t>& t, double eps) {
  const std::vector<double> hv = test::values(h), wv = test::values(w);
  const int64_t n = h.size(0), d = h.size(1), v = w.size(0);
  double total = 0;
  int64_t kept = 0;
  for (int64_t r = 0; r < n; ++r) {
    if (t[r] == kIgnore) continue;
    std::vector<double> logits(v);
    double mx = -INFINITY;
    for (int64_t c = 0; c < v; ++c) {
      for (int64_t k = 0; k < d; ++k) logits[c] += hv[r * d + k] * wv[c * d + k];
      mx = std::max(mx, logits[c]);
    }
    double s = 0;
    for (double x : logits) s += std::exp(x - mx);
    const double lse = mx + std::log(s);
    double row = 0;
    for (int64_t c = 0; c < v; ++c) row -= ((c == t[r] ? 1 - eps : 0) + eps / v) * (logits[c] - lse);
    total += row;
    ++kept;
  }
  return kept ? total / kept : 0;
}

const std::vector<int64_t> kTargets = {3, kIgnore, 0, 10, 7, kIgnore, 5};  // N = 7, V = 11

TEST(LinearCrossEntropy, MatchesANaiveLossForEveryChunking) {
  Tensor h = test::randn64({7, 5}, 1), w = test::randn64({11, 5}, 2);
  for (double eps : {0.0, 0.1}) {
    const double want = naive_loss(h, w, kTargets, eps);
    for (int64_t chunk : {0, 1, 3, 7, 100}) {
      LinearCrossEntropyOptions opt{.ce = {.ignore_index = kIgnore, .label_smoothing = eps}, .chunk_rows = chunk};
      Tensor loss = linear_cross_entropy(h, w, targets_of(kTargets), opt);
      EXPECT_EQ(loss.dim(), 0);
      EXPECT_NEAR(loss.item(), want, 1e-12) << "chunk_rows " << chunk << ", label_smoothing " << eps;
    }
  }
}

TEST(LinearCrossEntropy, GradcheckAcrossChunkBoundaries) {
  Tensor h = test::randn64({7, 5}, 3), w = test::randn64({11, 5}, 4);
  for (int64_t chunk : {2, 3, 0}) {
    LinearCrossEntropyOptions opt{.ce = {.ignore_index = kIgnore, .label_smoothing = 0.05}, .chunk_rows = chunk};
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) { return linear_cross_entropy(in[0], in[1], targets_of(kTargets), opt); },
        {h, w}))
        << "chunk_rows " << chunk;
  }
}

TEST(LinearCrossEntropy, EqualsTheUnchunkedMatmulAndCrossEntropy) {
  Tensor h0 = test::randn({64, 16}, DType::f32, 5), w0 = test::randn({40, 16}, DType::f32, 6);
  std::vector<int64_t> t(64);
  for (int64_t i = 0; i < 64; ++i) t[i] = i % 9 == 0 ? kIgnore : (i * 7) % 40;
  ops::CrossEntropyOptions ce{.ignore_index = kIgnore};

  Tensor h1 = h0.detach().requires_grad_(), w1 = w0.detach().requires_grad_();
  Tensor ref = gau::cross_entropy(gau::matmul(h1, w1, {.trans_b = true}), targets_of(t), ce);
  ref.backward();

  Tensor h2 = h0.detach().requires_grad_(), w2 = w0.detach().requires_grad_();
  Tensor got = linear_cross_entropy(h2, w2, targets_of(t), {.ce = ce, .chunk_rows = 10});
  got.backward();

  EXPECT_NEAR(got.item(), ref.item(), 1e-6);
  test::expect_close(h2.grad(), test::values(h1.grad()), 1e-5, "d_h");
  test::expect_close(w2.grad(), test::values(w1.grad()), 1e-5, "d_w");
}

TEST(LinearCrossEntropy, AddsTheWeightGradientIntoItsBuffer) {
  Tensor h = test::randn({12, 8}, DType::f32, 7), w0 = test::randn({20, 8}, DType::f32, 8);
  std::vector<int64_t> t = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  Tensor w_fresh = w0.detach().requires_grad_();
  linear_cross_entropy(h, w_fresh, targets_of(t), {.chunk_rows = 5}).backward();

  // A preallocated gradient holding 1s: backward adds to it, in place.
  Tensor w = w0.detach().requires_grad_();
  Tensor buffer = ops::ones({20, 8});
  w.set_grad(buffer);
  linear_cross_entropy(h, w, targets_of(t), {.chunk_rows = 5}).backward();
  EXPECT_EQ(w.grad().storage(), buffer.storage()) << "the gradient no longer lives in its buffer";
  std::vector<double> want = test::values(w_fresh.grad());
  for (double& x : want) x += 1;
  test::expect_close(w.grad(), want, 1e-6, "d_w added into the buffer");
}

TEST(LinearCrossEntropy, NeverHoldsTheFullLogits) {
  const int64_t n = 2048, v = 512, d = 16, chunk = 128;
  const size_t full_logits = static_cast<size_t>(n * v) * sizeof(float);  // 4 MiB
  Tensor h = ops::randn({n, d}).requires_grad_(), w = ops::randn({v, d}).requires_grad_();
  std::vector<int64_t> t(n);
  for (int64_t i = 0; i < n; ++i) t[i] = (i * 31) % v;
  Tensor targets = targets_of(t);

  auto peak_above_start = [&](int64_t chunk_rows) {
    h.zero_grad();
    w.zero_grad();
    const size_t start = memory_stats().current;
    reset_peak_memory();
    linear_cross_entropy(h, w, targets, {.chunk_rows = chunk_rows}).backward();
    return memory_stats().peak - start;
  };
  const size_t chunked = peak_above_start(chunk);
  const size_t whole = peak_above_start(0);
  EXPECT_GE(whole, full_logits) << "one chunk must hold all the logits";
  // A chunk's logits and d_logits (2 x 128 x 512 f32 = 512 KiB) plus d_h, d_w and the LSE.
  EXPECT_LT(chunked, full_logits / 2) << "chunks of " << chunk << " rows held " << chunked << " bytes";
}

TEST(LinearCrossEntropy, BadInputIsNamed) {
  Tensor h = ops::randn({4, 8}), w = ops::randn({10, 8});
  EXPECT_THAT(error_of([&] {
                linear_cross_entropy(h, ops::randn({10, 6}), targets_of({1, 2, 3, 4}));
              }),
              HasSubstr("must share d"));
  EXPECT_THAT(error_of([&] {
                linear_cross_entropy(h, w, targets_of({1, 2, 3}));
              }),
              HasSubstr("expected targets [N] with N = 4"));
  EXPECT_THAT(error_of([&] {
                linear_cross_entropy(h, ops::randn({10, 8}, DType::f64), targets_of({1, 2, 3, 4}));
              }),
              HasSubstr("share one floating dtype"));
}

}  // namespace
}  // namespace gau
