// The CPU kernels give the same bits for any OpenMP thread count: chunks are fixed by the range
// table, and reductions (LAMB's norms, Adafactor's RMS and row/column sums) add per-chunk or
// per-block partial sums in order. A [600, 1000] weight spans ten chunks.
#include <gtest/gtest.h>
#include <omp.h>

#include <string>

#include "core/ops/copy.h"
#include "layers/flat_parameters.h"
#include "optim/factory.h"
#include "tests/optim/problem.h"

namespace gau::optim {
namespace {

std::vector<double> run(const std::string& yaml, int threads) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  test::Params model(
      {{"w", gau::test::randn({600, 1000}, DType::f32, 51)}, {"b", gau::test::randn({1000}, DType::f32, 52)}});
  layers::FlatParameters flat(model);
  layers::ConfigReader r(YAML::Load(yaml), "optim");
  auto opt = make_optimizer(r, flat);
  for (int t = 0; t < 3; ++t) {
    ops::copy_(flat.groups()[0].grads, gau::test::randn(flat.groups()[0].grads.shape(), DType::f32, 60 + t));
    opt->step();
  }
  omp_set_num_threads(before);
  return gau::test::values(flat.groups()[0].params);
}

TEST(OptimizerDeterminism, OneAndTwoThreadsGiveTheSameBits) {
  for (const char* yaml : {"{type: lamb, lr: 0.01}", "{type: adafactor, beta1: 0.9}", "{type: adamw, lr: 0.01}"}) {
    SCOPED_TRACE(yaml);
    const std::vector<double> one = run(yaml, 1), two = run(yaml, 2);
    EXPECT_EQ(one, two);
    EXPECT_NE(one, run("{type: sgd, lr: 0.01}", 1)) << "the updates did something";
  }
}

}  // namespace
}  // namespace gau::optim
