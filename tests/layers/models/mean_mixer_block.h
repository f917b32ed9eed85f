#pragma once
// A test double of a sequence block, registered by each model test executable (never by the
// library) as "test_mean_mixer", so the models are tested before and apart from the real blocks:
//
//   m_i = mean of x_j over the valid j <= i (causal), or over every valid j (bidirectional)
//   y_i = x_i + silu(m_i) Wᵀ + b                     x [b, n, d], W [d, d] (a Linear "proj")
//
// Valid: j < key_lengths[r] (all j without key_lengths), so padding reaches it through
// SequenceInfo as it reaches attention. Its decode cache is the running sum of x [b, d].
// Config: {type: test_mean_mixer, dim: 8, causal: true}
#include <algorithm>
#include <memory>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/block.h"
#include "layers/linear.h"
#include "layers/registry.h"
#include "tests/support/parity.h"

namespace gau::layers {

class TestMeanMixer : public SequenceBlock {
 public:
  TestMeanMixer(int64_t dim, bool causal) : SequenceBlock("TestMeanMixer"), dim_(dim), causal_(causal) {
    proj_ = register_module("proj", std::make_shared<Linear>(dim, dim));
  }

  Tensor forward_sequence(const Tensor& x, const SequenceInfo& info) override {
    const int64_t b = x.size(0), n = x.size(1);
    std::vector<double> lengths(static_cast<size_t>(b), static_cast<double>(n));
    if (info.key_lengths.defined()) lengths = test::values(info.key_lengths);
    std::vector<double> valid, inv_count;  // [b, n] each
    for (int64_t r = 0; r < b; ++r)
      for (int64_t i = 0; i < n; ++i) {
        const double len = std::min(lengths[static_cast<size_t>(r)], static_cast<double>(n));
        const double count = causal_ ? std::min(static_cast<double>(i + 1), len) : len;
        valid.push_back(static_cast<double>(i) < len ? 1.0 : 0.0);
        inv_count.push_back(count > 0 ? 1.0 / count : 0.0);
      }
    const Tensor valid_t = column(valid, b, n, x), inv_t = column(inv_count, b, n, x);  // [b, n, 1]
    const Tensor kept = gau::mul(x, valid_t);
    const Tensor sums = causal_ ? gau::cumsum(kept, 1) : gau::sum(kept, {1}, true);
    return gau::add(x, proj_->forward(gau::silu(gau::mul(sums, inv_t))));
  }

  int64_t width() const override { return dim_; }
  bool is_causal() const override { return causal_; }

  struct Cache : DecodeCache {
    Tensor sum;  // [b, 1, d]
  };
  std::unique_ptr<DecodeCache> start_decoding(int64_t batch, int64_t) const override {
    GAU_CHECK(causal_, where(), ": a bidirectional block cannot decode");
    auto cache = std::make_unique<Cache>();
    cache->sum = ops::zeros({batch, 1, dim_}, proj_->weight().dtype(), proj_->weight().device());
    return cache;
  }
  Tensor decode(const Tensor& x, DecodeCache& base) override {
    NoGradGuard no_grad;
    Cache& cache = dynamic_cast<Cache&>(base);
    const int64_t b = x.size(0), m = x.size(1);
    std::vector<double> inv_count;
    for (int64_t r = 0; r < b; ++r)
      for (int64_t i = 0; i < m; ++i) inv_count.push_back(1.0 / static_cast<double>(cache.position + i + 1));
    const Tensor sums = gau::add(gau::cumsum(x, 1), cache.sum);  // [b, m, d]
    const Tensor y = gau::add(x, proj_->forward(gau::silu(gau::mul(sums, column(inv_count, b, m, x)))));
    cache.sum = gau::narrow(sums, 1, m - 1, 1);
    cache.position += m;
    return y;
  }

  const Linear& proj() const { return *proj_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r) {
    const int64_t dim = r.integer("dim", Range::at_least(1));
    r.integer("max_length", 0, Range::at_least(0));  // set by the model; a running mean has no table
    return std::make_shared<TestMeanMixer>(dim, r.boolean("causal", true));
  }
  static const char* example_config() { return "{dim: 4, causal: true}"; }
  static Tensor example_input(const TestMeanMixer& m, uint64_t seed) {
    return test::randn({2, 3, m.width()}, m.proj().weight().dtype(), seed);
  }

 private:
  // v [b, n] -> [b, n, 1] in x's dtype and on its device.
  static Tensor column(const std::vector<double>& v, int64_t b, int64_t n, const Tensor& x) {
    return ops::to_device(ops::to_dtype(ops::from_vector<double>(v, {b, n, 1}), x.dtype()), x.device());
  }

  int64_t dim_;
  bool causal_;
  std::shared_ptr<Linear> proj_;
};

GAU_REGISTER_LAYER("test_mean_mixer", TestMeanMixer);

}  // namespace gau::layers
