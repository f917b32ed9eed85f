// bf16/f16 parameters with f32 master weights: over 100 AdamW steps the master weights follow an
// f32 run (the gradients differ only by being taken at the rounded weights), the parameters are
// the master weights rounded to nearest, the alignment gaps stay zero; stochastic rounding is
// unbiased (a statistical test), reproducible for a seed and drawn afresh each step.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/flat_parameters.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "tests/optim/problem.h"

namespace gau::optim {
namespace {

// Max |a - b| over all elements.
double max_abs_diff(const std::vector<double>& x, const std::vector<double>& y) {
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}
double max_abs_diff(const Tensor& a, const Tensor& b) {
  return max_abs_diff(gau::test::values(a), gau::test::values(b));
}

// The parameters' elements of a flat buffer laid out as `group`, concatenated (the gaps left out:
// a bf16 group aligns to 32 elements, an f32 one to 16).
std::vector<double> parameter_values(const Tensor& flat, const layers::FlatGroup& group) {
  const std::vector<double> all = gau::test::values(flat);
  std::vector<double> out;
  for (const layers::FlatEntry& e : group.entries)
    out.insert(out.end(), all.begin() + e.offset, all.begin() + e.offset + e.numel);
  return out;
}

void run(layers::Module& model, Optimizer& opt, int steps) {
  for (int t = 0; t < steps; ++t) {
    test::set_gradients(model);
    opt.step();
  }
}

TEST(MasterWeights, HalfPrecisionRunsFollowTheF32RunOver100Steps) {
  const AdamOptions adamw{.lr = 0.01, .beta2 = 0.95, .weight_decay = 0.1, .decoupled = true};
  test::Problem f32_model;
  layers::FlatParameters f32_flat(f32_model);
  Adam f32_opt(f32_flat, adamw);
  run(f32_model, f32_opt, 100);
  const std::vector<double> reference = parameter_values(f32_flat.groups()[0].params, f32_flat.groups()[0]);

  // Tolerance: the half runs' gradients are taken at weights rounded to 8 (bf16) or 11 (f16)
  // significant bits, which Adam's normalised steps carry along; measured max |master - f32| over
  // the 52 weights (|w| <= 1): 1.5-1.8e-3 for bf16, 2.1-2.7e-4 for f16. The bounds are 3x that.
  struct Case {
    DType dtype, grad_dtype;
    bool stochastic;
    double tol;
  };
  for (const Case c : {Case{DType::bf16, DType::f32, false, 5e-3}, Case{DType::bf16, DType::bf16, false, 5e-3},
                       Case{DType::bf16, DType::f32, true, 5e-3}, Case{DType::f16, DType::f32, false, 7e-4},
                       Case{DType::f16, DType::f16, true, 7e-4}}) {
    SCOPED_TRACE(std::string(dtype_name(c.dtype)) + " grads " + dtype_name(c.grad_dtype) +
                 (c.stochastic ? " stochastic" : ""));
    test::Problem model(c.dtype);
    layers::FlatParameters flat(model, {.grad_dtype = c.grad_dtype});
    Adam opt(flat, adamw, {.stochastic_rounding = c.stochastic});
    ASSERT_TRUE(opt.master(0).defined());
    EXPECT_EQ(opt.master(0).dtype(), DType::f32);
    EXPECT_EQ(opt.buffer(0, "exp_avg").dtype(), DType::f32);
    run(model, opt, 100);
    const double diff = max_abs_diff(parameter_values(opt.master(0), flat.groups()[0]), reference);
    EXPECT_LT(diff, c.tol);
    EXPECT_GT(diff, 0.0) << "the half run computes its gradients at rounded weights";
    const Tensor params = flat.groups()[0].params;
    if (!c.stochastic) {
      EXPECT_EQ(gau::test::values(params), gau::test::values(ops::to_dtype(opt.master(0), c.dtype)))
          << "the parameters are the master weights rounded to nearest even";
    } else {
      EXPECT_LT(max_abs_diff(params, opt.master(0)), c.dtype == DType::bf16 ? 8e-3 : 1e-3) << "within one ulp";
    }
    const std::vector<double> p = gau::test::values(params), m = gau::test::values(opt.master(0));
    ASSERT_EQ(flat.groups()[0].entries[1].offset, 64);  // gaps [35, 64), [69, 96)
    for (int64_t gap : {35, 50, 63, 69, 95}) {
      EXPECT_EQ(p[gap], 0.0) << gap;
      EXPECT_EQ(m[gap], 0.0) << gap;
    }
  }
}

// One SGD step from w = 1 with g = -1 puts every master weight at 1 + 0.3 ulp.
struct RoundingRun {
  double mean_ulps;  // of the rounded parameters above 1
  std::vector<double> values;
};

RoundingRun round_once(DType dtype, bool stochastic, uint64_t seed, int steps) {
  const double ulp = dtype == DType::bf16 ? std::ldexp(1.0, -7) : std::ldexp(1.0, -10);
  test::Params model({{"w", ops::ones({256, 256}, dtype)}});
  layers::FlatParameters flat(model, {.grad_dtype = DType::f32});
  Sgd sgd(flat, {.lr = 0.3 * ulp}, {.stochastic_rounding = stochastic, .seed = seed});
  ops::fill_(flat.groups()[0].grads, -1.0);
  sgd.step();
  ops::fill_(flat.groups()[0].grads, 0.0);
  for (int s = 1; s < steps; ++s) sgd.step();  // the master weights stay; the rounding is redrawn
  RoundingRun r;
  r.values = gau::test::values(flat.groups()[0].params);
  double sum = 0;
  for (double v : r.values) sum += (v - 1.0) / ulp;
  r.mean_ulps = sum / static_cast<double>(r.values.size());
  return r;
}

TEST(MasterWeights, StochasticRoundingIsUnbiasedReproducibleAndRedrawnEachStep) {
  // Each element rounds up with p = 0.3: the mean of 65536 is 0.3 ± 0.0018 (one standard deviation).
  const double sigma = std::sqrt(0.3 * 0.7 / 65536.0);
  for (DType dtype : {DType::bf16, DType::f16}) {
    SCOPED_TRACE(dtype_name(dtype));
    EXPECT_EQ(round_once(dtype, false, 1, 1).mean_ulps, 0.0) << "nearest rounding drops the 0.3 ulp every time";
    const RoundingRun a = round_once(dtype, true, 1, 1);
    EXPECT_NEAR(a.mean_ulps, 0.3, 5 * sigma);
    for (double v : a.values) ASSERT_TRUE(v == 1.0 || v > 1.0) << v;
    EXPECT_EQ(round_once(dtype, true, 1, 1).values, a.values) << "the same seed and step round the same way";
    EXPECT_NE(round_once(dtype, true, 2, 1).values, a.values) << "another seed rounds another way";
    const RoundingRun later = round_once(dtype, true, 1, 2);
    EXPECT_NE(later.values, a.values) << "each step draws afresh";
    EXPECT_NEAR(later.mean_ulps, 0.3, 5 * sigma);
  }
}

}  // namespace
}  // namespace gau::optim
