// Every optimizer over 20 steps of the test problem (problem.h) against the trajectories of
// tests/reference/optim_trajectories.py (torch.optim for SGD and Adam(W), the papers for LAMB,
// Adafactor and Lion), built from the fixture's config through make_optimizer: in f64 to 1e-10
// and in f32 to fp32 tolerance, with parameter groups (no decay on the bias) and lr multipliers.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "layers/flat_parameters.h"
#include "optim/factory.h"
#include "tests/optim/problem.h"

namespace gau::optim {
namespace {

struct Tolerance {
  double atol, rtol;
};

void run_case(const std::string& name, const nlohmann::json& c, DType dtype, Tolerance tol) {
  SCOPED_TRACE(name + " " + dtype_name(dtype));
  test::Problem model(dtype);
  layers::FlatParameters flat(model);
  layers::ConfigReader r(YAML::Load(c["config"].dump()), "optim");
  std::unique_ptr<Optimizer> opt = make_optimizer(r, flat);
  EXPECT_EQ(opt->type(), c["config"]["type"].get<std::string>());
  for (int t = 1; t <= 20; ++t) {
    test::set_gradients(model);
    opt->step();
    EXPECT_EQ(opt->step_count(), t);
    const std::string key = std::to_string(t);
    if (!c["params"].contains(key)) continue;
    for (const auto& [pname, p] : model.named_parameters()) {
      const std::vector<double> got = gau::test::values(p);
      const std::vector<double> want = c["params"][key][pname].get<std::vector<double>>();
      ASSERT_EQ(got.size(), want.size()) << pname;
      double worst = 0;
      size_t at = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        const double excess = std::abs(got[i] - want[i]) - (tol.atol + tol.rtol * std::abs(want[i]));
        if (excess > worst || i == 0) worst = excess, at = i;
      }
      EXPECT_LE(worst, 0.0) << pname << " after step " << t << ": element " << at << " got " << got[at] << ", expected "
                            << want[at];
    }
  }
}

TEST(OptimizerTrajectory, MatchesTheReferenceInF64AndF32) {
  const nlohmann::json fx = gau::test::load_fixture("optim_trajectories");
  ASSERT_TRUE(fx.contains("cases"));
  for (const auto& [name, c] : fx["cases"].items()) {
    run_case(name, c, DType::f64, {1e-10, 1e-10});
    run_case(name, c, DType::f32, {2e-5, 2e-5});
  }
}

}  // namespace
}  // namespace gau::optim
