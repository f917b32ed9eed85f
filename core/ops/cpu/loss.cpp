#include "core/ops/loss_kernels.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dispatch.h"
#include "core/ops/copy.h"
#include "core/ops/cpu/parallel.h"
#include "core/ops/cpu/vec_math.h"

namespace gau::ops::cpu {
namespace {

// Rows of logits must be unit-stride; rows may be spaced by any stride (e.g. a slice of a wider
// buffer), so only other layouts are copied.
Tensor row_major(const Tensor& x) { return x.stride(1) == 1 || x.size(1) <= 1 ? x : contiguous(x); }

// Throws on the first target that is neither ignore_index nor in [0, C).
template <typename I>
void check_targets(const I* t, int64_t n, int64_t C, int64_t ignore, const Tensor& logits, const Tensor& targets) {
  int64_t bad = std::numeric_limits<int64_t>::max();
#pragma omp parallel for reduction(min : bad) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = static_cast<int64_t>(t[i]);
    if (v != ignore && (v < 0 || v >= C)) bad = std::min(bad, i);
  }
  GAU_CHECK(bad == std::numeric_limits<int64_t>::max(), "cross_entropy: target ",
            static_cast<int64_t>(t[bad == std::numeric_limits<int64_t>::max() ? 0 : bad]), " at row ", bad,
            " is out of range [0, ", C, ") and is not ignore_index ", ignore, " (logits ", describe(logits),
            ", targets ", describe(targets), ")");
}

}  // namespace

// Per row i with target t (PyTorch: F.cross_entropy(x, t, ignore_index, label_smoothing=eps)):
//   lse_i  = log sum_c exp(x_ic)
//   loss_i = (1 - eps) (lse_i - x_it) + eps (lse_i - mean_c x_ic)
CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt) {
  Tensor x = row_major(logits), tc = contiguous(targets);
  const int64_t N = x.size(0), C = x.size(1), ld = x.stride(0);
  const DType out_dtype = logits.dtype() == DType::f64 ? DType::f64 : DType::f32;
  CrossEntropyResult res;
  res.lse = Tensor::empty({N}, out_dtype, logits.device());
  res.loss = Tensor::empty({}, out_dtype, logits.device());
  Tensor row_loss = Tensor::empty({N}, DType::f64);  // 0 for ignored rows
  double* rl = row_loss.data<double>();
  const double eps = opt.label_smoothing;
  dispatch_index(tc.dtype(), "cross_entropy", [&](auto itag) {
    using I = typename decltype(itag)::type;
    const I* t = tc.data<I>();
    check_targets(t, N, C, opt.ignore_index, logits, targets);
    dispatch_floating(x.dtype(), "cross_entropy", [&](auto tag) {
      using T = typename decltype(tag)::type;
      using A = acc_t<T>;
      const T* px = x.data<T>();
      dispatch_floating(out_dtype, "cross_entropy", [&](auto otag) {
        using O = typename decltype(otag)::type;
        O* lse = res.lse.data<O>();
#pragma omp parallel for schedule(static) if (N * C >= kParallelMin)
        for (int64_t i = 0; i < N; ++i) {
          const T* row = px + i * ld;
          A m, s, sx = 0;
          if constexpr (std::is_same_v<T, float>) {  // vectorised max and sum of exp
            m = row_max(row, C);
            if (std::isinf(m) && m < 0) m = 0;
            s = exp_shifted_total(row, C, m);
          } else {
            m = -std::numeric_limits<A>::infinity();
            for (int64_t c = 0; c < C; ++c) m = std::max(m, static_cast<A>(row[c]));
            if (std::isinf(m) && m < 0) m = 0;
            s = 0;
            for (int64_t c = 0; c < C; ++c) s += exp_approx(static_cast<A>(row[c]) - m);
          }
          if (eps != 0.0)  // the row mean only enters with label smoothing
            for (int64_t c = 0; c < C; ++c) sx += static_cast<A>(row[c]);
          const A ls = std::log(s);
          lse[i] = static_cast<O>(m + ls);
          const int64_t ti = static_cast<int64_t>(t[i]);
          if (ti == opt.ignore_index) {
            rl[i] = 0;
            continue;
          }
          // (m - x) + log(s) rather than lse - x: m - x is exact, lse rounds at |m|.
          const double nll = (static_cast<double>(m) - static_cast<double>(row[ti])) + static_cast<double>(ls);
          const double smooth =
              (static_cast<double>(m) - static_cast<double>(sx) / static_cast<double>(C)) + static_cast<double>(ls);
          rl[i] = (1.0 - eps) * nll + (eps != 0.0 ? eps * smooth : 0.0);
        }
      });
    });
    int64_t count = 0;
    for (int64_t i = 0; i < N; ++i) count += static_cast<int64_t>(t[i]) != opt.ignore_index;
    res.count = count;
  });
  double total = 0;  // fixed order: the loss does not depend on the thread count
  for (int64_t i = 0; i < N; ++i) total += rl[i];
  const double loss = res.count ? total / static_cast<double>(res.count) : 0.0;
  if (out_dtype == DType::f64)
    *res.loss.data<double>() = loss;
  else
    *res.loss.data<float>() = static_cast<float>(loss);
  return res;
}

// d_x_ic = (exp(x_ic - lse_i) - q_ic) * d_loss / count, with q = (1 - eps) onehot(t_i) + eps / C;
// rows whose target is ignore_index get 0.
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, int64_t count,
                              double d_loss, const CrossEntropyOptions& opt) {
  Tensor x = row_major(logits), tc = contiguous(targets), lc = contiguous(lse);
  const int64_t N = x.size(0), C = x.size(1), ld = x.stride(0);
  Tensor dx = Tensor::empty({N, C}, logits.dtype(), logits.device());
  const double eps = opt.label_smoothing;
  const double scale = count > 0 ? d_loss / static_cast<double>(count) : 0.0;
  dispatch_index(tc.dtype(), "cross_entropy_backward", [&](auto itag) {
    using I = typename decltype(itag)::type;
    const I* t = tc.data<I>();
    check_targets(t, N, C, opt.ignore_index, logits, targets);
    dispatch_floating(x.dtype(), "cross_entropy_backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      using A = acc_t<T>;
      const T* px = x.data<T>();
      T* pd = dx.data<T>();
      dispatch_floating(lc.dtype(), "cross_entropy_backward", [&](auto ltag) {
        using L = typename decltype(ltag)::type;
        const L* pl = lc.data<L>();
        const A sc = static_cast<A>(scale);
        const A off = static_cast<A>(eps / static_cast<double>(C));
        const A on = static_cast<A>(1.0 - eps);
#pragma omp parallel for schedule(static) if (N * C >= kParallelMin)
        for (int64_t i = 0; i < N; ++i) {
          const T* row = px + i * ld;
          T* drow = pd + i * C;
          const int64_t ti = static_cast<int64_t>(t[i]);
          if (ti == opt.ignore_index || count == 0) {
            for (int64_t c = 0; c < C; ++c) drow[c] = static_cast<T>(A(0));
            continue;
          }
          const A l = static_cast<A>(pl[i]);
          if constexpr (std::is_same_v<T, float>) {
            exp_shifted_sum(row, drow, C, l);
            for (int64_t c = 0; c < C; ++c) drow[c] = (drow[c] - off) * sc;
          } else {
            for (int64_t c = 0; c < C; ++c)
              drow[c] = static_cast<T>((exp_approx(static_cast<A>(row[c]) - l) - off) * sc);
          }
          drow[ti] = static_cast<T>((exp_approx(static_cast<A>(row[ti]) - l) - off - on) * sc);
        }
      });
    });
  });
  return dx;
}

}  // namespace gau::ops::cpu
