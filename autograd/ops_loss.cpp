#include "autograd/ops_loss.h"

#include <algorithm>
#include <vector>

#include "autograd/node.h"
#include "core/error.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"

namespace gau {

using autograd::Context;
using Grads = std::vector<Tensor>;

namespace {

void check_inputs(const Tensor& h, const Tensor& w, const Tensor& targets) {
  GAU_CHECK(h.dim() == 2 && w.dim() == 2, "linear_cross_entropy: expected h [N, d] and w [V, d], got h ", describe(h),
            " and w ", describe(w));
  GAU_CHECK(h.size(1) == w.size(1), "linear_cross_entropy: h [N, d] and w [V, d] must share d, got h ", describe(h),
            " and w ", describe(w));
  GAU_CHECK(is_floating(h.dtype()) && h.dtype() == w.dtype(),
            "linear_cross_entropy: h and w must share one floating dtype, got h ", describe(h), " and w ", describe(w));
  GAU_CHECK(h.device() == w.device() && targets.device() == h.device(),
            "linear_cross_entropy: h, w and targets must be on one device, got h ", describe(h), ", w ", describe(w),
            " and targets ", describe(targets));
  GAU_CHECK(targets.dim() == 1 && targets.size(0) == h.size(0),
            "linear_cross_entropy: expected targets [N] with N = ", h.size(0), " (h's rows), got ", describe(targets));
  GAU_CHECK(targets.dtype() == DType::i32 || targets.dtype() == DType::i64,
            "linear_cross_entropy: targets must be i32 or i64, got ", describe(targets));
}

// The [begin, begin + rows) chunks of N rows.
std::vector<std::pair<int64_t, int64_t>> chunks_of(int64_t n, int64_t chunk_rows) {
  const int64_t step = chunk_rows > 0 ? chunk_rows : std::max<int64_t>(n, 1);
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t b = 0; b < n; b += step) out.emplace_back(b, std::min(step, n - b));
  return out;
}

// Row chunk [begin, begin + rows) of h, w, targets -> logits [rows, V] = h_c wᵀ.
Tensor chunk_logits(const Tensor& h_c, const Tensor& w) { return ops::matmul(h_c, w, {.trans_b = true}); }

// d_h and d_w of the loss, chunk by chunk. d_w goes into `d_w_sink` when it is defined.
// counts[i]: the kept rows of chunk i; their sum is the loss's denominator.
Grads backward(Context& ctx, const Tensor& d_loss_t, const LinearCrossEntropyOptions& opt,
               const std::vector<int64_t>& counts) {
  const Tensor h = ctx.saved(0), w = ctx.saved(1), targets = ctx.saved(2), lse = ctx.saved(3);
  int64_t count = 0;
  for (int64_t c : counts) count += c;
  const double d_loss = d_loss_t.item();
  const bool want_h = ctx.needs_input_grad(0), want_w = ctx.needs_input_grad(1);
  Tensor d_h = want_h ? ops::empty(h.shape(), h.dtype(), h.device()) : Tensor();
  // d_w accumulates over chunks: in the parameter's gradient buffer when there is one, else in a
  // local buffer that keeps f32 for bf16/f16 weights (the engine converts it once at the end).
  Tensor d_w = want_w ? ctx.grad_sink(1) : Tensor();
  const bool into_sink = d_w.defined() && d_w.is_contiguous() && ops::matmul_accumulates_in(d_w.dtype(), w.dtype());
  if (want_w && !into_sink) {
    const DType acc = w.dtype() == DType::f64 ? DType::f64 : DType::f32;
    d_w = ops::zeros(w.shape(), ops::matmul_accumulates_in(acc, w.dtype()) ? acc : w.dtype(), w.device());
  }
  const auto chunks = chunks_of(h.size(0), opt.chunk_rows);
  for (size_t i = 0; i < chunks.size(); ++i) {
    auto [begin, rows] = chunks[i];
    const Tensor h_c = ops::narrow(h, 0, begin, rows);
    // The kernel divides by the chunk's own count: scale d_loss so that the result is over all rows.
    const double d_chunk = count > 0 ? d_loss * static_cast<double>(counts[i]) / static_cast<double>(count) : 0.0;
    const Tensor d_logits = ops::cross_entropy_backward(chunk_logits(h_c, w), ops::narrow(targets, 0, begin, rows),
                                                        ops::narrow(lse, 0, begin, rows), counts[i], d_chunk, opt.ce);
    if (want_h) ops::matmul_into(ops::narrow(d_h, 0, begin, rows), d_logits, w);        // [rows, V] [V, d]
    if (want_w) ops::matmul_into(d_w, d_logits, h_c, {.trans_a = true}, /*beta=*/1.0);  // [V, rows] [rows, d]
  }
  if (into_sink) {
    ctx.used_grad_sink(1);
    d_w = Tensor();
  }
  return {d_h, d_w};
}

}  // namespace

Tensor linear_cross_entropy(const Tensor& h, const Tensor& w, const Tensor& targets,
                            const LinearCrossEntropyOptions& opt) {
  check_inputs(h, w, targets);
  const int64_t n = h.size(0);
  const DType loss_dtype = h.dtype() == DType::f64 ? DType::f64 : DType::f32;
  Tensor lse = ops::empty({n}, loss_dtype, h.device());
  // Each chunk's mean, weighted by its row count, sums to the mean over all rows.
  double weighted = 0;
  int64_t count = 0;
  std::vector<int64_t> counts;
  for (auto [begin, rows] : chunks_of(n, opt.chunk_rows)) {
    ops::CrossEntropyResult r = ops::cross_entropy(chunk_logits(ops::narrow(h, 0, begin, rows), w),
                                                   ops::narrow(targets, 0, begin, rows), opt.ce);
    ops::copy_(ops::narrow(lse, 0, begin, rows), r.lse);
    weighted += r.loss.item() * static_cast<double>(r.count);
    count += r.count;
    counts.push_back(r.count);
  }
  Tensor loss = ops::full({}, count > 0 ? weighted / static_cast<double>(count) : 0.0, loss_dtype, h.device());
  if (!autograd::needs_record({h, w})) return loss;
  return autograd::record(
      "linear_cross_entropy", {h, w}, loss, {h, w, targets, lse},
      [opt, counts = std::move(counts)](Context& ctx, const Grads& d) { return backward(ctx, d[0], opt, counts); });
}

}  // namespace gau
