#include "tests/support/parity.h"

#include <cmath>

#include "core/dispatch.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/rng.h"

namespace gau::test {

std::vector<double> values(const Tensor& t) {
  const Tensor h = t.is_cuda() ? ops::to_device(t.detach(), Device::cpu()) : t;
  std::vector<double> out(h.numel());
  std::vector<int64_t> idx(h.dim(), 0);
  dispatch_all(h.dtype(), "values", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* base = static_cast<const T*>(h.data_ptr());
    for (int64_t i = 0; i < h.numel(); ++i) {
      int64_t off = 0;
      for (int64_t d = 0; d < h.dim(); ++d) off += idx[d] * h.strides()[d];
      out[i] = static_cast<double>(static_cast<acc_t<T>>(base[off]));
      for (int64_t d = h.dim() - 1; d >= 0; --d) {
        if (++idx[d] < h.shape()[d]) break;
        idx[d] = 0;
      }
    }
  });
  return out;
}


::testing::AssertionResult all_close(const Tensor& got, const Tensor& expected, double atol, double rtol) {
  if (!got.defined() || !expected.defined())
    return ::testing::AssertionFailure() << "all_close: got " << (got.defined() ? describe(got) : "undefined")
                                         << ", expected " << (expected.defined() ? describe(expected) : "undefined");
  if (got.shape() != expected.shape())
    return ::testing::AssertionFailure() << "all_close: shapes differ: got " << describe(got) << ", expected "
                                         << describe(expected);
  std::vector<double> g = values(got), e = values(expected);
  int64_t bad = 0, worst = -1;
  double worst_score = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    bool both_nan = std::isnan(g[i]) && std::isnan(e[i]);
    double err = std::abs(g[i] - e[i]);
    double allowed = atol + rtol * std::abs(e[i]);
    if (both_nan || err <= allowed || (std::isinf(e[i]) && g[i] == e[i])) continue;
    ++bad;
    double score = std::isnan(err) ? INFINITY : err / allowed;
    if (worst < 0 || score > worst_score) {
      worst = static_cast<int64_t>(i);
      worst_score = score;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  size_t w = static_cast<size_t>(worst);
  double err = std::abs(g[w] - e[w]);
  return ::testing::AssertionFailure() << bad << " of " << g.size() << " elements differ (atol " << atol << ", rtol "
                                       << rtol << "); worst at flat " << worst << " "
                                       << shape_str(unravel_index(worst, got.shape())) << ": got " << g[w] << ", expected "
                                       << e[w] << ", abs error " << err << ", rel error "
                                       << err / std::max(std::abs(e[w]), 1e-300) << " (" << describe(got) << " vs "
                                       << describe(expected) << ")";
}

::testing::AssertionResult gradcheck_ok(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                                        const GradcheckOptions& opt) {
  try {
    gradcheck(fn, inputs, opt);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult gradcheck_ok(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                                        const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckFn wrapped = [fn](const std::vector<Tensor>& in) { return std::vector<Tensor>{fn(in)}; };
  return gradcheck_ok(wrapped, inputs, opt);
}

Tensor randn64(const Shape& shape, uint64_t seed, double min_abs) {
  Generator gen(seed);
  Tensor x = ops::randn(shape, DType::f64, Device::cpu(), 0, 1, &gen);
  if (min_abs > 0) {
    double* p = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) p[i] += p[i] < 0 ? -min_abs : min_abs;
  }
  return x;
}

Tensor randn(const Shape& shape, DType dtype, uint64_t seed, double min_abs) {
  return ops::to_dtype(randn64(shape, seed, min_abs), dtype);
}

Tensor uniform64(const Shape& shape, uint64_t seed, double low, double high) {
  Generator gen(seed);
  return ops::rand(shape, DType::f64, Device::cpu(), low, high, &gen);
}

Tensor vec64(const std::vector<double>& v) {
  return ops::from_vector<double>(v, {static_cast<int64_t>(v.size())});
}

}  // namespace gau::test
