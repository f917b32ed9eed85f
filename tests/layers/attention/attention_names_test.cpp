// The public attention names resolve with both `gau` and `gau::attention` brought in by using
// directives, the way user code and examples write them: this file fails to compile if a name in
// gau::attention (a function, an enum, an option struct) collides with one in gau.
#include <gtest/gtest.h>

#include "core/ops/factory.h"
#include "layers/attention/attention.h"
#include "layers/attention/flash.h"

using namespace gau;
using namespace gau::attention;

namespace {

TEST(AttentionNames, UnqualifiedCallsWithBothNamespacesInScope) {
  Tensor q = ops::randn({1, 2, 5, 4}), k = ops::randn({1, 2, 7, 4}), v = ops::randn({1, 2, 7, 3});
  AttentionOptions opt;
  opt.kernel = kernel_from_name("relu2");
  opt.causal = true;
  opt.backend = Backend::automatic;
  opt.bias.kind = RelativeBias::Kind::per_offset;
  opt.bias.max_offset = 2;
  opt.bias.table = ops::zeros({5});
  EXPECT_EQ(dot_product_attention(q, k, v, opt).shape(), (Shape{1, 2, 5, 3}));
  EXPECT_EQ(opt.kernel, Kernel::relu2);

  Tensor x = ops::randn({1, 6, 4}), y = ops::randn({1, 6, 3});
  FlashOptions fo;
  fo.chunk = 4;
  fo.linear_norm = LinearNorm::prefix;
  EXPECT_EQ(flash_attention(x, x, x, x, y, fo).shape(), (Shape{1, 6, 3}));
}

}  // namespace
