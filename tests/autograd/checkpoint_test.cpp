// checkpoint: same gradients as the plain function (inputs and captured parameters), a lower
// allocator peak on a chain with big intermediates, nesting, and the in-place check on inputs.
#include <gtest/gtest.h>

#include <iostream>

#include "autograd/functions.h"
#include "core/allocator.h"
#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::randn64;
using In = std::vector<Tensor>;

// A small layer: tanh(x W) * exp(x W) + b, with W and b captured (leaves).
struct Layer {
  Tensor w, b;
  Tensor operator()(const Tensor& x) const {
    Tensor h = gau::matmul(x, w);
    return gau::add(gau::mul(gau::tanh(h), gau::exp(gau::mul(h, 0.3))), b);
  }
};

TEST(Checkpoint, SameGradientsAsThePlainFunction) {
  Layer layer{randn64({4, 4}, 1).requires_grad_(), randn64({4}, 2).requires_grad_()};
  Tensor x = randn64({3, 4}, 3);

  Tensor x1 = x.detach().requires_grad_();
  gau::sum(layer(layer(x1))).backward();
  Tensor dw_plain = ops::clone(layer.w.grad()), db_plain = ops::clone(layer.b.grad());
  layer.w.zero_grad();
  layer.b.zero_grad();

  Tensor x2 = x.detach().requires_grad_();
  auto seg = [&](const In& in) { return layer(in[0]); };
  Tensor y = gau::checkpoint(seg, {gau::checkpoint(seg, {x2})});
  gau::sum(y).backward();

  GAU_EXPECT_CLOSE(x2.grad(), x1.grad(), 1e-12, 1e-10);
  GAU_EXPECT_CLOSE(layer.w.grad(), dw_plain, 1e-12, 1e-10);
  GAU_EXPECT_CLOSE(layer.b.grad(), db_plain, 1e-12, 1e-10);
}

TEST(Checkpoint, Gradcheck) {
  Tensor w = randn64({3, 3}, 4);
  GAU_EXPECT_GRADCHECK(
      [](const In& in) {
        Tensor w = in[1];
        auto seg = [w](const In& xs) { return std::vector<Tensor>{gau::tanh(gau::matmul(xs[0], w)), xs[0]}; };
        std::vector<Tensor> outs = gau::checkpoint(seg, {in[0]}, {w});
        return gau::add(outs[0], gau::mul(outs[1], 2.0));
      },
      {randn64({2, 3}, 5), w});
}

TEST(Checkpoint, RecordsWhenOnlyCapturedParamsRequireGrad) {
  Tensor w = randn64({3}, 6).requires_grad_();
  Tensor data = randn64({3}, 7);  // e.g. token embeddings fed as data
  Tensor y = gau::checkpoint([&](const In& in) { return gau::mul(in[0], w); }, {data}, {w});
  ASSERT_TRUE(y.requires_grad());
  gau::sum(y).backward();
  GAU_EXPECT_CLOSE(w.grad(), data, 0, 0);
}

TEST(Checkpoint, InPlaceChangeOfAnInputIsAnError) {
  Tensor x = randn64({3}, 8).requires_grad_();
  Tensor h = gau::mul(x, 2.0);
  Tensor y = gau::checkpoint([](const In& in) { return gau::exp(in[0]); }, {h});
  ops::binary_scalar_(ops::Binary::add, h, 1.0);
  try {
    gau::sum(y).backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'checkpoint'"), std::string::npos) << e.what();
  }
}

// Peak bytes of forward + backward of `depth` segments of 4 big elementwise ops each.
size_t peak_of_chain(bool use_checkpoint, int64_t n, int depth) {
  Tensor x = ops::full({n}, 0.5).requires_grad_();
  auto segment = [](const In& in) {
    Tensor h = in[0];
    for (int i = 0; i < 2; ++i) h = gau::tanh(gau::mul(h, 0.9));  // each op saves an [n] tensor
    return h;
  };
  empty_cache();
  size_t base = memory_stats().current;
  reset_peak_memory();
  {
    Tensor h = x;
    for (int s = 0; s < depth; ++s) h = use_checkpoint ? gau::checkpoint(segment, {h}) : segment({h});
    gau::sum(h).backward();
  }
  size_t peak = memory_stats().peak - base;
  return peak;
}

TEST(Checkpoint, LowersThePeakOnAChainWithBigIntermediates) {
  const int64_t n = 1 << 20;  // 4 MiB per f32 intermediate
  const int depth = 8;
  size_t plain = peak_of_chain(false, n, depth);
  size_t ckpt = peak_of_chain(true, n, depth);
  const double mib = 1024.0 * 1024.0;
  std::cout << "[ checkpoint ] peak plain " << plain / mib << " MiB, with checkpoint " << ckpt / mib << " MiB\n";
  EXPECT_LT(static_cast<double>(ckpt), 0.5 * static_cast<double>(plain));
}

TEST(Checkpoint, GradientsMatchOnTheMemoryChain) {
  auto run = [](bool use_checkpoint) {
    Tensor x = randn64({64}, 9).requires_grad_();
    auto segment = [](const In& in) { return gau::tanh(gau::mul(in[0], 0.9)); };
    Tensor h = x;
    for (int s = 0; s < 5; ++s) h = use_checkpoint ? gau::checkpoint(segment, {h}) : segment({h});
    gau::sum(h).backward();
    return x.grad();
  };
  GAU_EXPECT_CLOSE(run(true), run(false), 0, 0);
}

}  // namespace
}  // namespace gau
