// The tape's cost per op, counted in heap allocations (deterministic, unlike time): recording a
// 1-element op must stay cheap, and a grad-free call must not pay for autograd at all. The
// figures in time are `gau bench autograd`'s.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "autograd/functions.h"
#include "autograd/node.h"
#include "core/ops/factory.h"

namespace {
std::atomic<int64_t> allocations{0};
}  // namespace

// Counting replacements of the global allocation functions, for this test binary only.
void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace gau {
namespace {

// Allocations per call of `fn`, averaged over many calls after a warm-up (so caches, the tape's
// amortised growth and the allocator's pools are in their steady state).
template <typename Fn>
double allocations_per_call(Fn&& fn) {
  for (int i = 0; i < 100; ++i) fn();
  const int calls = 1000;
  const int64_t before = allocations.load();
  for (int i = 0; i < calls; ++i) fn();
  return static_cast<double>(allocations.load() - before) / calls;
}

TEST(OpCost, NeedsRecordAllocatesNothing) {
  Tensor x = ops::randn({1}), w = ops::randn({1});
  w.requires_grad_();
  bool any = false;
  EXPECT_EQ(allocations_per_call([&] { any = autograd::needs_record({x, w}); }), 0.0);
  EXPECT_TRUE(any);
  NoGradGuard off;
  EXPECT_EQ(allocations_per_call([&] { any = autograd::needs_record({x, w}); }), 0.0);
  EXPECT_FALSE(any);
}

TEST(OpCost, ShapesOfSmallRankAreInline) {
  Tensor t;
  // A rank-4 tensor's shape and strides cost nothing beyond the tensor itself.
  const double empty4 = allocations_per_call([&] { t = ops::empty({2, 3, 4, 5}); });
  const double empty1 = allocations_per_call([&] { t = ops::empty({7}); });
  EXPECT_EQ(empty4, empty1);
}

TEST(OpCost, RecordingAOneElementOpStaysCheap) {
  Tensor x = ops::randn({1}), w = ops::randn({1});
  w.requires_grad_();
  Tensor y;
  double kernel = 0;
  {
    NoGradGuard off;
    kernel = allocations_per_call([&] { y = gau::mul(x, w); });
  }
  const double recorded = allocations_per_call([&] { y = gau::mul(x, w); });
  // The kernel: the output's TensorImpl and Storage (the allocator's cache and the iterator
  // allocate nothing). Recording adds the node (inputs, outputs and saved tensors inline) and the
  // output's AutogradMeta. (Before: 8 for the kernel and 15 for recording.)
  EXPECT_LE(kernel, 2.0) << "grad-free 1-element mul";
  EXPECT_LE(recorded - kernel, 2.1) << "recording a 1-element mul (kernel: " << kernel << ")";
}

TEST(OpCost, BackwardOfAChainStaysCheap) {
  Tensor x = ops::randn({1}), w = ops::randn({1});
  w.requires_grad_();
  const int n = 100;
  const double per_graph = allocations_per_call([&] {
    Tensor y = x;
    for (int i = 0; i < n; ++i) y = gau::mul(y, w);
    y.backward();
  });
  // Forward 4, backward: the gradient lists in and out of the closure and mul's two products.
  // (Before: 38.)
  EXPECT_LE(per_graph / n, 10.5) << "record + backward, per op of a 100-op chain";
}

}  // namespace
}  // namespace gau
