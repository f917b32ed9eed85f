// Gradient accumulation: k micro-batches of m rows, each mean loss scaled by 1/k, leave in the
// flat gradient buffer the gradients of one batch of k·m rows; with unequal numbers of counted
// tokens the token-weighted scale does (and 1/k does not). A small GAU language model, fp32.
#include "optim/accumulation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/flat_parameters.h"
#include "layers/models/language_model.h"
#include "layers/registry.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau::optim {
namespace {

using test::error_of;
using ::testing::HasSubstr;

constexpr const char* kModel =
    "{type: language_model, vocab: 32, dim: 16, blocks: {type: gau, s: 8}, layers: 2, max_length: 16}";

struct Model {
  std::shared_ptr<layers::LanguageModel> lm;
  layers::FlatParameters flat;
};

// A fresh model holding `state`, flattened (fp32 parameters and gradients).
Model model(const layers::StateDict& state) {
  auto lm = std::dynamic_pointer_cast<layers::LanguageModel>(layers::build(YAML::Load(kModel)));
  lm->load_state_dict(state);
  Model m{lm, layers::FlatParameters(*lm)};
  return m;
}

Tensor rows(const Tensor& t, int64_t start, int64_t count) { return ops::contiguous(ops::narrow(t, 0, start, count)); }

// Targets [b, n] with ignore_index (-100) on the first `ignored[r]` positions of row r.
Tensor targets_with_ignored(const Tensor& targets, const std::vector<int64_t>& ignored) {
  std::vector<double> v = test::values(targets);
  const int64_t n = targets.size(1);
  for (size_t r = 0; r < ignored.size(); ++r) {
    for (int64_t j = 0; j < ignored[r]; ++j) v[r * n + j] = -100;
  }
  std::vector<int64_t> as_int(v.begin(), v.end());
  return ops::from_vector<int64_t>(as_int, targets.shape());
}

int64_t counted(const Tensor& targets) {
  int64_t c = 0;
  for (double t : test::values(targets)) c += t != -100;
  return c;
}

class Accumulation : public ::testing::Test {
 protected:
  void SetUp() override { state = layers::build(YAML::Load(kModel))->state_dict(); }
  layers::StateDict state;
  Tensor ids = layers::example_token_ids(8, 12, 32, Device::cpu(), 1);      // [8, 12]
  Tensor targets = layers::example_token_ids(8, 12, 32, Device::cpu(), 2);  // [8, 12]
};

TEST_F(Accumulation, KMicroBatchesOfMRowsEqualOneBatchOfKmRows) {
  Model full = model(state);
  full.lm->loss(ids, targets).backward();
  const Tensor want = full.flat.groups()[0].grads;
  for (int64_t k : {2, 4, 8}) {
    Model acc = model(state);
    GradAccumulator a(k);
    const int64_t m = 8 / k;
    for (int64_t i = 0; i < k; ++i) {
      a.scale(acc.lm->loss(rows(ids, i * m, m), rows(targets, i * m, m))).backward();
      EXPECT_EQ(a.step(), i == k - 1) << "k=" << k << " micro-batch " << i;
    }
    EXPECT_EQ(a.index(), 0);
    ASSERT_TRUE(acc.flat.bound()) << "the gradients live in the flat buffer";
    GAU_EXPECT_CLOSE(acc.flat.groups()[0].grads, want, 1e-6, 1e-4) << "k=" << k;
  }
}

TEST_F(Accumulation, UnequalTokenCountsNeedTheTokenWeightedScale) {
  const Tensor t = targets_with_ignored(targets, {0, 3, 11, 11, 1, 0, 7, 2});
  const int64_t total = counted(t);
  Model full = model(state);
  full.lm->loss(ids, t).backward();
  const Tensor want = full.flat.groups()[0].grads;

  Model weighted = model(state), plain = model(state);
  GradAccumulator a(4);
  for (int64_t i = 0; i < 4; ++i) {
    const Tensor ti = rows(t, 2 * i, 2), xi = rows(ids, 2 * i, 2);
    a.scale(weighted.lm->loss(xi, ti), counted(ti), total).backward();
    a.scale(plain.lm->loss(xi, ti)).backward();
  }
  GAU_EXPECT_CLOSE(weighted.flat.groups()[0].grads, want, 1e-6, 1e-4);
  EXPECT_FALSE(test::all_close(plain.flat.groups()[0].grads, want, 1e-6, 1e-4))
      << "1/k over-weights the short micro-batches";
}

TEST(GradAccumulator, CountsAndErrors) {
  GradAccumulator a(3);
  EXPECT_FALSE(a.step());
  EXPECT_FALSE(a.step());
  EXPECT_EQ(a.index(), 2);
  EXPECT_TRUE(a.step());
  EXPECT_EQ(a.index(), 0);
  EXPECT_TRUE(GradAccumulator(1).step());
  EXPECT_EQ(a.scale(ops::full({}, 6.0)).item(), 2.0);
  EXPECT_EQ(a.scale(ops::full({}, 6.0), 1, 4).item(), 1.5);
  EXPECT_THAT(error_of([] { GradAccumulator(0); }), HasSubstr("micro_batches must be >= 1, got 0"));
  EXPECT_THAT(error_of([&] { a.scale(ops::full({}, 1.0), 5, 4); }), HasSubstr("got tokens 5, total_tokens 4"));
  EXPECT_THAT(error_of([&] { a.scale(ops::zeros({3})); }), HasSubstr("one-element loss"));
}

}  // namespace
}  // namespace gau::optim
