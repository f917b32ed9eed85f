// Adafactor on CPU, one parameter (range) at a time, each pass split over blocks of rows (or of
// elements for a 1-D parameter) whose partial sums are added in block order: the result does not
// depend on the thread count (math in optim/adafactor.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "optim/cpu/loops.h"

namespace gau::optim::cpu {

namespace {

// Rows per block: about one chunk of elements.
int64_t rows_per_block(int64_t rows, int64_t cols) {
  return std::clamp<int64_t>(kChunkElements / std::max<int64_t>(cols, 1), 1, std::max<int64_t>(rows, 1));
}

template <typename W, typename G, typename C, bool kStochastic>
void adafactor_range(const KernelRange& r, W* w, const G* g, C* copy, W* second, W* m, const AdafactorScalars& s,
                     uint64_t seed, uint64_t step) {
  // A 1-D parameter is one row of numel columns with its own V: handled by blocks of elements.
  const bool factored = r.cols > 0;
  const int64_t rows = factored ? r.rows : 1, cols = factored ? r.cols : r.numel;
  const int64_t per = factored ? rows_per_block(rows, cols) : kChunkElements;
  const int64_t blocks = factored ? (rows + per - 1) / per : (r.numel + per - 1) / per;
  const bool parallel = r.numel >= ops::cpu::kParallelMin;
  W* wr = w + r.offset;
  const G* gr = g + r.offset;
  const W beta2t = static_cast<W>(s.beta2t), keep = static_cast<W>(1 - s.beta2t), eps1 = static_cast<W>(s.eps1);
  W* row_acc = second + r.aux;  // [rows] R, or [numel] V
  W* col_acc = row_acc + rows;  // [cols] C (factored)
  std::vector<double> w2(static_cast<size_t>(blocks), 0.0), u2(static_cast<size_t>(blocks), 0.0);
  std::vector<double> col_part(factored ? static_cast<size_t>(blocks * cols) : 0, 0.0);

  // Pass 1: Σ w², and R, C from G = g² + ε1 (or V).
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b) {
    double sw = 0;
    if (factored) {
      double* cp = col_part.data() + b * cols;
      for (int64_t i = b * per; i < std::min(rows, (b + 1) * per); ++i) {
        double rs = 0;
        for (int64_t j = 0; j < cols; ++j) {
          const W gi = static_cast<W>(gr[i * cols + j]);
          const W gg = gi * gi + eps1;
          rs += gg;
          cp[j] += gg;
          sw += static_cast<double>(wr[i * cols + j]) * wr[i * cols + j];
        }
        row_acc[i] = beta2t * row_acc[i] + keep * static_cast<W>(rs / static_cast<double>(cols));
      }
    } else {
      for (int64_t i = b * per; i < std::min(r.numel, (b + 1) * per); ++i) {
        const W gi = static_cast<W>(gr[i]);
        row_acc[i] = beta2t * row_acc[i] + keep * (gi * gi + eps1);
        sw += static_cast<double>(wr[i]) * wr[i];
      }
    }
    w2[static_cast<size_t>(b)] = sw;
  }
  std::vector<W> row_factor, col_factor;
  if (factored) {
    double row_sum = 0;
    for (int64_t i = 0; i < rows; ++i) row_sum += row_acc[i];
    const double row_mean = row_sum / static_cast<double>(rows);
    row_factor.resize(static_cast<size_t>(rows));
    col_factor.resize(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j) {
      double cs = 0;
      for (int64_t b = 0; b < blocks; ++b) cs += col_part[static_cast<size_t>(b * cols + j)];
      col_acc[j] = beta2t * col_acc[j] + keep * static_cast<W>(cs / static_cast<double>(rows));
      col_factor[static_cast<size_t>(j)] = W(1) / std::sqrt(col_acc[j]);  // torch: exp_avg_sq_col.rsqrt()
    }
    for (int64_t i = 0; i < rows; ++i)  // torch: (exp_avg_sq_row / row.mean(-1)).rsqrt_()
      row_factor[static_cast<size_t>(i)] = W(1) / std::sqrt(row_acc[i] / static_cast<W>(row_mean));
  }
  auto update_at = [&](int64_t i, int64_t j, int64_t k) -> W {  // U before clipping, element k = i·cols + j
    if (factored)
      return static_cast<W>(gr[k]) * row_factor[static_cast<size_t>(i)] * col_factor[static_cast<size_t>(j)];
    return W(1) / std::sqrt(row_acc[k]) * static_cast<W>(gr[k]);  // torch: exp_avg_sq.rsqrt().mul_(grad)
  };
  auto for_block = [&](int64_t b, auto&& f) {
    if (factored) {
      for (int64_t i = b * per; i < std::min(rows, (b + 1) * per); ++i)
        for (int64_t j = 0; j < cols; ++j) f(i, j, i * cols + j);
    } else {
      for (int64_t k = b * per; k < std::min(r.numel, (b + 1) * per); ++k) f(0, k, k);
    }
  };

  // Pass 2: Σ U².
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b) {
    double su = 0;
    for_block(b, [&](int64_t i, int64_t j, int64_t k) {
      const W u = update_at(i, j, k);
      su += static_cast<double>(u) * u;
    });
    u2[static_cast<size_t>(b)] = su;
  }
  double sw = 0, su = 0;
  for (int64_t b = 0; b < blocks; ++b) sw += w2[static_cast<size_t>(b)], su += u2[static_cast<size_t>(b)];
  const double n = static_cast<double>(r.numel);
  const double rms_w = std::sqrt(sw / n), rms_u = std::sqrt(su / n);
  const double alpha = s.step_size * r.lr_scale * (s.scale_parameter ? std::max(s.eps2, rms_w) : 1.0);
  const W scale = static_cast<W>(alpha / std::max(1.0, rms_u / s.clip_threshold));
  const W beta1 = static_cast<W>(s.beta1), one_minus_beta1 = static_cast<W>(1 - s.beta1);
  const W decay = static_cast<W>(-r.weight_decay * alpha);
  W* mr = s.first_moment ? m + r.offset : nullptr;

  // Pass 3: U = α U / max(1, RMS(U) / d); first moment; w = w − wd α w − U.
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b) {
    for_block(b, [&](int64_t i, int64_t j, int64_t k) {
      W u = update_at(i, j, k) * scale;
      if (mr) {
        mr[k] = beta1 * mr[k] + one_minus_beta1 * u;  // torch: exp_avg.mul_(beta1).add_(update, 1 - beta1)
        u = mr[k];
      }
      W wi = wr[k];
      wi = wi + decay * wi;  // torch: p.add_(p, alpha=-weight_decay * lr)
      wi = wi - u;           // torch: p.add_(-update)
      wr[k] = wi;
      store_copy<C, kStochastic>(copy, r.offset + k, static_cast<float>(wi), seed, step);
    });
  }
}

}  // namespace

void adafactor_step(const UpdateTarget& t, const RangeTable& table, const AdafactorScalars& s, const Tensor& second,
                    const Tensor& m) {
  dispatch_target(t, "adafactor_step", [&]<typename W, typename G, typename C>(TargetBuffers<W, G, C> b) {
    W* sec = second.data<W>();
    W* pm = s.first_moment ? m.data<W>() : nullptr;
    dispatch_rounding(t, [&](auto sr) {
      constexpr bool kSR = decltype(sr)::value;
      for (const KernelRange& r : table.ranges)
        adafactor_range<W, G, C, kSR>(r, b.w, b.g, b.copy, sec, pm, s, t.seed, t.step);
    });
  });
}

}  // namespace gau::optim::cpu
