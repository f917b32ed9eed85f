// The CPU elementwise iteration (core/ops/cpu/elementwise_iter.h) bit for bit: bf16/f16 ops are the
// f32 op on the widened inputs, rounded once; and every path of the driver (one unit-stride run,
// staged blocks with a partial last block, broadcast inputs, transposed tiles, in place) gives
// the bits the plain contiguous run gives.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/view.h"
#include "tests/support/parity.h"

namespace gau::ops {
namespace {

// Fails with the first element whose bits differ: its index and both values.
void expect_same_bits(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  const Tensor g = contiguous(got), w = contiguous(want);
  const size_t es = g.element_size();
  const char* gp = static_cast<const char*>(g.data_ptr());
  const char* wp = static_cast<const char*>(w.data_ptr());
  for (int64_t i = 0; i < g.numel(); ++i) {
    if (std::memcmp(gp + i * es, wp + i * es, es) != 0) {
      ADD_FAILURE() << what << ": element " << i << " got " << test::values(g)[i] << " expected " << test::values(w)[i]
                    << " (bits differ)";
      return;
    }
  }
}

// Inputs in [-4, 4]: log, sqrt and rsqrt also meet negatives (NaN) and near-zeros.
Tensor data(const Shape& shape, DType dt, uint64_t seed) { return to_dtype(test::uniform64(shape, seed, -4, 4), dt); }

// Operand layouts of one [40, 301] input: 301-element runs (one full kBlock and a partial one), a
// transposed view (tiled, every run staged) and a strided slice.
std::vector<std::pair<std::string, Tensor>> layouts(DType dt, uint64_t seed) {
  return {{"contiguous", data({40, 301}, dt, seed)},
          {"transposed", transpose(data({301, 40}, dt, seed + 1), 0, 1)},
          {"slice", slice(data({40, 602}, dt, seed + 2), 1, 0, 602, 2)}};
}

const Unary kUnary[] = {Unary::neg,  Unary::exp,  Unary::log,     Unary::sqrt,   Unary::rsqrt,
                        Unary::abs,  Unary::tanh, Unary::sigmoid, Unary::relu,   Unary::relu2,
                        Unary::silu, Unary::gelu, Unary::erf,     Unary::laplace};

TEST(ElementwiseIter, HalfDtypesAreTheF32OpRoundedOnce) {
  for (DType dt : {DType::bf16, DType::f16}) {
    for (auto& [name, x] : layouts(dt, 10)) {
      const Tensor x32 = to_dtype(x, DType::f32), d_y = data(x.shape(), dt, 20);
      for (Unary op : kUnary) {
        const std::string what = std::string(unary_name(op)) + " " + dtype_name(dt) + " " + name;
        // f32 exp uses the vectorised polynomial (vec_math.h); bf16/f16 keep std::exp.
        if (op != Unary::exp) expect_same_bits(unary(op, x), to_dtype(unary(op, x32), dt), what);
        expect_same_bits(unary_backward(op, x, d_y), to_dtype(unary_backward(op, x32, to_dtype(d_y, DType::f32)), dt),
                         what + " backward");
      }
      const Tensor col = data({40, 1}, dt, 30);
      for (Binary op : {Binary::add, Binary::sub, Binary::mul, Binary::div, Binary::pow, Binary::maximum}) {
        const std::string what = std::string(binary_name(op)) + " " + dtype_name(dt) + " " + name;
        expect_same_bits(binary(op, x, col), to_dtype(binary(op, x32, to_dtype(col, DType::f32)), dt), what);
        expect_same_bits(binary_scalar(op, x, 0.3), to_dtype(binary_scalar(op, x32, 0.3), dt), what + " scalar");
      }
      const Tensor bias = data({301}, dt, 40);
      const Tensor bias32 = to_dtype(bias, DType::f32);
      expect_same_bits(bias_act_backward(x, bias, Activation::gelu, d_y),
                       to_dtype(bias_act_backward(x32, bias32, Activation::gelu, to_dtype(d_y, DType::f32)), dt),
                       std::string("bias_act_backward ") + dtype_name(dt) + " " + name);
      expect_same_bits(compare(Compare::lt, x, col), compare(Compare::lt, x32, to_dtype(col, DType::f32)),
                       std::string("lt ") + dtype_name(dt) + " " + name);
    }
  }
}

TEST(ElementwiseIter, StagedRunsMatchTheContiguousRun) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::i64}) {
    for (auto& [name, x] : layouts(dt, 50)) {
      const Tensor xc = clone(x), y = data(x.shape(), dt, 60), row = data({301}, dt, 70);
      const std::string what = std::string(dtype_name(dt)) + " " + name;
      expect_same_bits(add(x, y), add(xc, y), "add " + what);
      expect_same_bits(mul(y, x), mul(y, xc), "mul (strided second) " + what);
      expect_same_bits(add(x, row), add(xc, row), "add row " + what);
      expect_same_bits(binary_scalar(Binary::sub, x, 2.0), binary_scalar(Binary::sub, xc, 2.0), "sub scalar " + what);
      expect_same_bits(unary(Unary::neg, x), unary(Unary::neg, xc), "neg " + what);
      const Tensor mask = compare_scalar(Compare::gt, y, 0.0);
      expect_same_bits(where(mask, x, y), where(mask, xc, y), "where " + what);
      expect_same_bits(masked_fill(x, mask, -3.0), masked_fill(xc, mask, -3.0), "masked_fill " + what);
      // In place through the view: the staged output is scattered back into x's storage.
      Tensor in_place = clone(x);
      binary_(Binary::add, x, y);
      binary_(Binary::add, in_place, y);
      expect_same_bits(x, in_place, "add_ " + what);
    }
  }
}

}  // namespace
}  // namespace gau::ops
