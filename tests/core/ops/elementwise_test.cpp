// Elementwise ops against naive f64 references: broadcasting, strided views, every float dtype,
// integer paths, in-place versions, fused kernels and error messages.
#include "core/ops/elementwise.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "core/dispatch.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

namespace gau::ops {
namespace {

using test::error_of;
using test::kFloatTypes;
using test::values;
using ::testing::HasSubstr;

struct Tol {
  double atol, rtol;
};
// Output rounding dominates: half an ulp of the storage type, with room for acc_t arithmetic.
Tol tol_for(DType t) {
  switch (t) {
    case DType::f64:
      return {1e-12, 1e-12};
    case DType::f32:
      return {2e-6, 2e-5};
    case DType::bf16:
      return {2e-3, 8e-3};
    case DType::f16:
      return {2e-4, 2e-3};
    default:
      return {0, 0};
  }
}

// ---- host access, independent of the ops under test (test::values reads through the strides) ----

Tensor make(const Shape& shape, DType dt, const std::vector<double>& v) {
  Tensor t = Tensor::empty(shape, dt);
  EXPECT_EQ(static_cast<int64_t>(v.size()), t.numel());
  dispatch_all(dt, "make", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = static_cast<T*>(t.data_ptr());
    for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(static_cast<acc_t<T>>(v[i]));
  });
  return t;
}

Tensor random(const Shape& shape, DType dt, double lo, double hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(shape_numel(shape));
  for (double& e : v) e = dist(gen);
  return make(shape, dt, v);
}

Tensor random_ints(const Shape& shape, DType dt, int lo, int hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<double> v(shape_numel(shape));
  for (double& e : v) e = dist(gen);
  return make(shape, dt, v);
}

// Linear row-major index into a tensor of `in` shape for output index `flat` of `out` shape (numpy broadcasting).
int64_t bcast_index(int64_t flat, const Shape& out, const Shape& in) {
  int64_t idx = 0, mul = 1;
  const int64_t lead = static_cast<int64_t>(out.size() - in.size());
  for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
    int64_t i = flat % out[d];
    flat /= out[d];
    if (d >= lead) {
      int64_t s = in[d - lead];
      if (s != 1) idx += i * mul;
      mul *= s;
    }
  }
  return idx;
}

// Expected values of f over the broadcast of the inputs, computed in double.
std::vector<double> reference(const Shape& out, const std::vector<Tensor>& ins,
                              const std::function<double(const std::vector<double>&)>& f) {
  std::vector<std::vector<double>> vals;
  for (const Tensor& t : ins) vals.push_back(values(t));
  std::vector<double> res(shape_numel(out));
  std::vector<double> args(ins.size());
  for (int64_t i = 0; i < shape_numel(out); ++i) {
    for (size_t k = 0; k < ins.size(); ++k) args[k] = vals[k][bcast_index(i, out, ins[k].shape())];
    res[i] = f(args);
  }
  return res;
}

// Fails with the worst element: index, got, expected, abs and rel error.
void expect_close(const Tensor& got, const std::vector<double>& want, Tol tol, const std::string& what) {
  std::vector<double> g = values(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  int64_t worst = -1;
  double worst_excess = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double err = std::abs(g[i] - want[i]);
    bool same_special = (std::isnan(g[i]) && std::isnan(want[i])) || g[i] == want[i];
    double excess = same_special ? 0 : (std::isnan(err) ? INFINITY : err - (tol.atol + tol.rtol * std::abs(want[i])));
    if (excess > worst_excess) worst_excess = excess, worst = static_cast<int64_t>(i);
  }
  if (worst >= 0) {
    double err = std::abs(g[worst] - want[worst]);
    ADD_FAILURE() << what << ": worst element " << worst << " got " << g[worst] << " expected " << want[worst]
                  << " abs err " << err << " rel err " << err / std::abs(want[worst]) << " (atol " << tol.atol
                  << ", rtol " << tol.rtol << ")";
  }
}

// ---- references ----

double ref_unary(Unary op, double x) {
  const double pi = 3.14159265358979323846;
  switch (op) {
    case Unary::neg:
      return -x;
    case Unary::exp:
      return std::exp(x);
    case Unary::log:
      return std::log(x);
    case Unary::sqrt:
      return std::sqrt(x);
    case Unary::rsqrt:
      return 1 / std::sqrt(x);
    case Unary::abs:
      return std::fabs(x);
    case Unary::tanh:
      return std::tanh(x);
    case Unary::sigmoid:
      return 1 / (1 + std::exp(-x));
    case Unary::relu:
      return std::max(x, 0.0);
    case Unary::relu2:
      return std::max(x, 0.0) * std::max(x, 0.0);
    case Unary::silu:
      return x / (1 + std::exp(-x));
    case Unary::gelu:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Unary::erf:
      return std::erf(x);
    case Unary::laplace: {
      double mu = std::sqrt(0.5), sigma = std::sqrt(1 / (4 * pi));
      return 0.5 * (1 + std::erf((x - mu) / (sigma * std::sqrt(2.0))));
    }
  }
  return NAN;
}

double ref_unary_grad(Unary op, double x) {
  const double pi = 3.14159265358979323846;
  double s = 1 / (1 + std::exp(-x));
  switch (op) {
    case Unary::neg:
      return -1;
    case Unary::exp:
      return std::exp(x);
    case Unary::log:
      return 1 / x;
    case Unary::sqrt:
      return 0.5 / std::sqrt(x);
    case Unary::rsqrt:
      return -0.5 * std::pow(x, -1.5);
    case Unary::abs:
      return x > 0 ? 1 : (x < 0 ? -1 : 0);
    case Unary::tanh:
      return 1 - std::tanh(x) * std::tanh(x);
    case Unary::sigmoid:
      return s * (1 - s);
    case Unary::relu:
      return x > 0 ? 1 : 0;
    case Unary::relu2:
      return x > 0 ? 2 * x : 0;
    case Unary::silu:
      return s + x * s * (1 - s);
    case Unary::gelu:
      return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-x * x / 2) / std::sqrt(2 * pi);
    case Unary::erf:
      return 2 / std::sqrt(pi) * std::exp(-x * x);
    case Unary::laplace: {
      double mu = std::sqrt(0.5), sigma = std::sqrt(1 / (4 * pi));
      return std::exp(-(x - mu) * (x - mu) / (2 * sigma * sigma)) / (sigma * std::sqrt(2 * pi));
    }
  }
  return NAN;
}

double ref_binary(Binary op, double a, double b) {
  switch (op) {
    case Binary::add:
      return a + b;
    case Binary::sub:
      return a - b;
    case Binary::mul:
      return a * b;
    case Binary::div:
      return a / b;
    case Binary::pow:
      return std::pow(a, b);
    case Binary::maximum:
      return std::max(a, b);
    case Binary::minimum:
      return std::min(a, b);
  }
  return NAN;
}

double ref_compare(Compare op, double a, double b) {
  switch (op) {
    case Compare::eq:
      return a == b;
    case Compare::ne:
      return a != b;
    case Compare::lt:
      return a < b;
    case Compare::le:
      return a <= b;
    case Compare::gt:
      return a > b;
    case Compare::ge:
      return a >= b;
  }
  return NAN;
}

Unary activation_unary(Activation act) {
  switch (act) {
    case Activation::relu:
      return Unary::relu;
    case Activation::relu2:
      return Unary::relu2;
    case Activation::silu:
      return Unary::silu;
    default:
      return Unary::gelu;
  }
}
double ref_act(Activation act, double x) { return act == Activation::none ? x : ref_unary(activation_unary(act), x); }
double ref_act_grad(Activation act, double x) {
  return act == Activation::none ? 1 : ref_unary_grad(activation_unary(act), x);
}

const Unary kUnary[] = {Unary::neg,  Unary::exp,  Unary::log,     Unary::sqrt,   Unary::rsqrt,
                        Unary::abs,  Unary::tanh, Unary::sigmoid, Unary::relu,   Unary::relu2,
                        Unary::silu, Unary::gelu, Unary::erf,     Unary::laplace};
const Binary kBinary[] = {Binary::add, Binary::sub,     Binary::mul,    Binary::div,
                          Binary::pow, Binary::maximum, Binary::minimum};
const Compare kCompare[] = {Compare::eq, Compare::ne, Compare::lt, Compare::le, Compare::gt, Compare::ge};
const Activation kActs[] = {Activation::none, Activation::relu, Activation::relu2, Activation::silu, Activation::gelu};

bool positive_domain(Unary op) { return op == Unary::log || op == Unary::sqrt || op == Unary::rsqrt; }

std::string label(const char* op, DType t, const char* layout) {
  return std::string(op) + " " + dtype_name(t) + " " + layout;
}

// ---- unary ----

TEST(Elementwise, UnaryMatchesReferenceEveryDtypeAndLayout) {
  for (DType dt : kFloatTypes) {
    for (Unary op : kUnary) {
      double lo = positive_domain(op) ? 0.1 : -3, hi = 3;
      Tensor base = random({6, 5, 7}, dt, lo, hi, 1);
      // contiguous, transposed, strided slice, expanded (stride 0)
      std::pair<const char*, Tensor> inputs[] = {
          {"contiguous", base},
          {"transposed", transpose(base, 0, 2)},
          {"sliced", slice(base, 1, 1, 5, 2)},
          {"expanded", expand(slice(base, 0, 0, 1), {3, 5, 7})},
      };
      for (auto& [layout, x] : inputs) {
        Tensor y = unary(op, x);
        EXPECT_EQ(y.shape(), x.shape());
        EXPECT_TRUE(y.is_contiguous());
        EXPECT_EQ(y.dtype(), dt);
        expect_close(y, reference(x.shape(), {x}, [&](auto& a) { return ref_unary(op, a[0]); }), tol_for(dt),
                     label(unary_name(op), dt, layout));
      }
    }
  }
}

TEST(Elementwise, UnaryBackwardMatchesReference) {
  for (DType dt : kFloatTypes) {
    for (Unary op : kUnary) {
      double lo = positive_domain(op) ? 0.1 : -3, hi = 3;
      Tensor x = transpose(random({5, 9}, dt, lo, hi, 2), 0, 1);
      Tensor d_y = random({9, 5}, dt, -2, 2, 3);
      Tensor d_x = unary_backward(op, x, d_y);
      EXPECT_EQ(d_x.shape(), x.shape());
      expect_close(d_x, reference(x.shape(), {x, d_y}, [&](auto& a) { return a[1] * ref_unary_grad(op, a[0]); }),
                   tol_for(dt), label(unary_name(op), dt, "backward"));
    }
  }
}

TEST(Elementwise, UnaryBackwardMatchesFiniteDifferencesInF64) {
  for (Unary op : kUnary) {
    double lo = positive_domain(op) ? 0.2 : -2.5, hi = 2.5;
    Tensor x = random({40}, DType::f64, lo, hi, 4);
    Tensor ones = make({40}, DType::f64, std::vector<double>(40, 1.0));
    Tensor d_x = unary_backward(op, x, ones);
    const double h = 1e-6;
    std::vector<double> xv = values(x), fd(40);
    for (int i = 0; i < 40; ++i) fd[i] = (ref_unary(op, xv[i] + h) - ref_unary(op, xv[i] - h)) / (2 * h);
    expect_close(d_x, fd, {1e-6, 1e-6}, label(unary_name(op), DType::f64, "finite differences"));
  }
}

TEST(Elementwise, IntegerNegAndAbs) {
  Tensor x = make({5}, DType::i64, {-3, -1, 0, 2, 7});
  expect_close(neg(x), {3, 1, 0, -2, -7}, {0, 0}, "neg i64");
  expect_close(abs(make({3}, DType::i32, {-4, 0, 5})), {4, 0, 5}, {0, 0}, "abs i32");
}

// ---- binary ----

struct ShapePair {
  Shape a, b;
};
const ShapePair kBroadcastShapes[] = {
    {{2, 3}, {2, 3}}, {{4, 1, 6}, {5, 1}}, {{}, {3}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{7, 1}, {7, 5}},
};

void binary_domain(Binary op, double& alo, double& ahi, double& blo, double& bhi) {
  alo = -3, ahi = 3, blo = -3, bhi = 3;
  if (op == Binary::div) blo = 0.5;  // keep b away from 0
  if (op == Binary::pow) alo = 0.1, blo = -2, bhi = 2;
}

TEST(Elementwise, BinaryBroadcastsEveryDtype) {
  for (DType dt : kFloatTypes) {
    for (Binary op : kBinary) {
      double alo, ahi, blo, bhi;
      binary_domain(op, alo, ahi, blo, bhi);
      uint32_t seed = 10;
      for (const ShapePair& sp : kBroadcastShapes) {
        Tensor a = random(sp.a, dt, alo, ahi, ++seed);
        Tensor b = random(sp.b, dt, blo, bhi, ++seed);
        Shape out = broadcast_shapes(sp.a, sp.b, "test");
        Tensor c = binary(op, a, b);
        EXPECT_EQ(c.shape(), out);
        EXPECT_TRUE(c.is_contiguous());
        auto f = [&](auto& v) { return ref_binary(op, v[0], v[1]); };
        expect_close(c, reference(out, {a, b}, f), tol_for(dt),
                     label(binary_name(op), dt, (shape_str(sp.a) + " x " + shape_str(sp.b)).c_str()));
        // and the other way round
        expect_close(binary(op, b, a), reference(out, {b, a}, f), tol_for(dt),
                     label(binary_name(op), dt, (shape_str(sp.b) + " x " + shape_str(sp.a)).c_str()));
      }
    }
  }
}

TEST(Elementwise, BinaryOnStridedViews) {
  for (DType dt : kFloatTypes) {
    for (Binary op : {Binary::add, Binary::mul, Binary::div, Binary::maximum}) {
      double alo, ahi, blo, bhi;
      binary_domain(op, alo, ahi, blo, bhi);
      Tensor a = transpose(random({8, 6, 5}, dt, alo, ahi, 20), 0, 2);      // [5, 6, 8], non-contiguous
      Tensor b = slice(random({5, 12, 8}, dt, blo, bhi, 21), 1, 0, 12, 2);  // [5, 6, 8], step 2
      Tensor e = expand(random({5, 1, 8}, dt, blo, bhi, 22), {5, 6, 8});    // stride 0 in the middle
      Tensor col = expand(random({5, 6, 1}, dt, blo, bhi, 23), {5, 6, 8});  // stride 0 innermost
      auto f = [&](auto& v) { return ref_binary(op, v[0], v[1]); };
      expect_close(binary(op, a, b), reference({5, 6, 8}, {a, b}, f), tol_for(dt),
                   label(binary_name(op), dt, "T x sliced"));
      expect_close(binary(op, a, e), reference({5, 6, 8}, {a, e}, f), tol_for(dt),
                   label(binary_name(op), dt, "T x expanded"));
      expect_close(binary(op, b, col), reference({5, 6, 8}, {b, col}, f), tol_for(dt),
                   label(binary_name(op), dt, "sliced x expanded inner"));
    }
  }
}

TEST(Elementwise, BinaryIntegers) {
  for (DType dt : {DType::i32, DType::i64}) {
    for (Binary op : {Binary::add, Binary::sub, Binary::mul, Binary::maximum, Binary::minimum}) {
      Tensor a = random_ints({3, 4}, dt, -50, 50, 30);
      Tensor b = transpose(random_ints({4, 1}, dt, -50, 50, 31), 0, 1);  // [1, 4]
      expect_close(binary(op, a, b), reference({3, 4}, {a, b}, [&](auto& v) { return ref_binary(op, v[0], v[1]); }),
                   {0, 0}, label(binary_name(op), dt, "ints"));
    }
    Tensor a = random_ints({6}, dt, -9, 9, 32);
    expect_close(binary_scalar(Binary::mul, a, 3), reference({6}, {a}, [](auto& v) { return v[0] * 3; }), {0, 0},
                 "mul scalar ints");
  }
}

TEST(Elementwise, MaximumMinimumPropagateNaN) {
  Tensor a = make({3}, DType::f32, {NAN, 1, 2});
  Tensor b = make({3}, DType::f32, {0, NAN, 1});
  std::vector<double> mx = values(maximum(a, b)), mn = values(minimum(a, b));
  EXPECT_TRUE(std::isnan(mx[0]) && std::isnan(mx[1]));
  EXPECT_TRUE(std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(mx[2], 2);
  EXPECT_EQ(mn[2], 1);
}

TEST(Elementwise, BinaryScalarEveryOpAndDtype) {
  for (DType dt : kFloatTypes) {
    for (Binary op : kBinary) {
      double alo, ahi, blo, bhi;
      binary_domain(op, alo, ahi, blo, bhi);
      Tensor a = transpose(random({4, 7}, dt, alo, ahi, 40), 0, 1);
      const double s = op == Binary::pow ? 1.5 : 0.7;
      expect_close(binary_scalar(op, a, s), reference(a.shape(), {a}, [&](auto& v) { return ref_binary(op, v[0], s); }),
                   tol_for(dt), label(binary_name(op), dt, "scalar"));
    }
  }
}

TEST(Elementwise, InPlaceOpsWriteThroughViewsAndBumpVersion) {
  for (DType dt : kFloatTypes) {
    Tensor big = random({6, 8}, dt, -2, 2, 50);
    std::vector<double> before = values(big);
    Tensor a = slice(big, 1, 1, 8, 2);  // [6, 4], strided view into big
    Tensor b = random({4}, dt, -2, 2, 51);
    std::vector<double> want = reference({6, 4}, {a, b}, [](auto& v) { return v[0] * v[1]; });
    uint64_t v0 = a.version();
    binary_(Binary::mul, a, b);
    EXPECT_GT(a.version(), v0);
    EXPECT_EQ(big.version(), a.version());  // shared storage
    expect_close(a, want, tol_for(dt), label("mul_", dt, "view"));
    // columns outside the view are untouched
    std::vector<double> after = values(big);
    for (int64_t r = 0; r < 6; ++r)
      for (int64_t c = 0; c < 8; c += 2) EXPECT_EQ(after[r * 8 + c], before[r * 8 + c]);

    want = reference({6, 4}, {a}, [](auto& v) { return v[0] - 0.25; });
    v0 = a.version();
    binary_scalar_(Binary::sub, a, 0.25);
    EXPECT_GT(a.version(), v0);
    expect_close(a, want, tol_for(dt), label("sub_ scalar", dt, "view"));

    Tensor g = random({6, 1}, dt, -1, 1, 52);
    want = reference({6, 4}, {a, g}, [](auto& v) { return v[0] + 0.5 * v[1]; });
    v0 = a.version();
    axpy_(a, g, 0.5);
    EXPECT_GT(a.version(), v0);
    expect_close(a, want, tol_for(dt), label("axpy_", dt, "broadcast"));
  }
}

TEST(Elementwise, InPlaceWithAnOverlappingSourceReadsItsOldValues) {
  Tensor a = random({40, 40}, DType::f32, -1, 1, 53);  // large enough for tiles
  std::vector<double> old = values(a), want(40 * 40);
  for (int i = 0; i < 40; ++i)
    for (int j = 0; j < 40; ++j) want[i * 40 + j] = old[i * 40 + j] + old[j * 40 + i];
  binary_(Binary::add, a, transpose(a, 0, 1));
  expect_close(a, want, tol_for(DType::f32), "a += a.T");

  Tensor v = random({10}, DType::f64, -1, 1, 54);
  old = values(v);
  axpy_(slice(v, 0, 1, 10), slice(v, 0, 0, 9), 2.0);  // v[1:] += 2 v[:-1]
  for (int i = 9; i >= 1; --i) want[i] = old[i] + 2 * old[i - 1];
  want[0] = old[0];
  expect_close(v, std::vector<double>(want.begin(), want.begin() + 10), tol_for(DType::f64), "shifted axpy_");

  Tensor s = random({5}, DType::f32, -1, 1, 55);
  old = values(s);
  binary_(Binary::mul, s, s);  // the same view: no copy needed
  for (int i = 0; i < 5; ++i) want[i] = old[i] * old[i];
  expect_close(s, std::vector<double>(want.begin(), want.begin() + 5), tol_for(DType::f32), "s *= s");
}

// ---- comparisons and selection ----

TEST(Elementwise, CompareGivesBool) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32, DType::i64}) {
    for (Compare op : kCompare) {
      // small integers so that ties occur
      Tensor a = random_ints({3, 5}, dt, -2, 2, 60);
      Tensor b = transpose(random_ints({5, 1}, dt, -2, 2, 61), 0, 1);  // [1, 5]
      Tensor c = compare(op, a, b);
      EXPECT_EQ(c.dtype(), DType::b8);
      EXPECT_EQ(c.shape(), (Shape{3, 5}));
      expect_close(c, reference({3, 5}, {a, b}, [&](auto& v) { return ref_compare(op, v[0], v[1]); }), {0, 0},
                   label("compare", dt, "broadcast"));
      expect_close(compare_scalar(op, a, 1), reference({3, 5}, {a}, [&](auto& v) { return ref_compare(op, v[0], 1); }),
                   {0, 0}, label("compare_scalar", dt, ""));
    }
  }
}

TEST(Elementwise, WhereBroadcastsAllThree) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i64}) {
    Tensor cond = compare_scalar(Compare::gt, random({4, 1, 5}, DType::f32, -1, 1, 70), 0);
    Tensor a = random({3, 5}, dt, -5, 5, 71);
    Tensor b = transpose(random({1, 3}, dt, -5, 5, 72), 0, 1);  // [3, 1]
    Tensor out = where(cond, a, b);
    EXPECT_EQ(out.shape(), (Shape{4, 3, 5}));
    expect_close(out, reference({4, 3, 5}, {cond, a, b}, [](auto& v) { return v[0] != 0 ? v[1] : v[2]; }), {0, 0},
                 label("where", dt, ""));
  }
}

TEST(Elementwise, MaskedFillBroadcastsMask) {
  for (DType dt : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32}) {
    Tensor x = transpose(random({6, 4}, dt, -9, 9, 80), 0, 1);  // [4, 6]
    Tensor mask = compare_scalar(Compare::lt, random({1, 6}, DType::f32, 0, 1, 81), 0.5);
    Tensor out = masked_fill(x, mask, -3);
    expect_close(out, reference({4, 6}, {x, mask}, [](auto& v) { return v[1] != 0 ? -3 : v[0]; }), {0, 0},
                 label("masked_fill", dt, ""));
  }
}

// ---- fused ----

TEST(Elementwise, BiasActForwardAndBackward) {
  for (DType dt : kFloatTypes) {
    for (Activation act : kActs) {
      Tensor x = transpose(random({16, 3, 2}, dt, -3, 3, 90), 0, 2);  // [2, 3, 16], non-contiguous
      Tensor bias = random({16}, dt, -1, 1, 91);
      Tensor d_y = random({2, 3, 16}, dt, -1, 1, 92);
      const char* name = act == Activation::none ? "none" : unary_name(activation_unary(act));
      expect_close(bias_act(x, bias, act),
                   reference(x.shape(), {x, bias}, [&](auto& v) { return ref_act(act, v[0] + v[1]); }), tol_for(dt),
                   label("bias_act", dt, name));
      expect_close(bias_act_backward(x, bias, act, d_y),
                   reference(x.shape(), {x, bias, d_y}, [&](auto& v) { return v[2] * ref_act_grad(act, v[0] + v[1]); }),
                   tol_for(dt), label("bias_act_backward", dt, name));
    }
  }
}

TEST(Elementwise, ScaleOffset) {
  for (DType dt : kFloatTypes) {
    Tensor x = slice(random({5, 20}, dt, -3, 3, 100), 1, 0, 20, 2);  // [5, 10], strided
    Tensor gamma = random({10}, dt, 0.5, 1.5, 101);
    Tensor beta = random({10}, dt, -1, 1, 102);
    expect_close(scale_offset(x, gamma, beta),
                 reference(x.shape(), {x, gamma, beta}, [](auto& v) { return v[0] * v[1] + v[2]; }), tol_for(dt),
                 label("scale_offset", dt, ""));
  }
}

// ---- sizes: empty, scalar, and large enough for the threaded paths ----

TEST(Elementwise, EmptyAndScalarTensors) {
  Tensor e = Tensor::empty({0, 3}, DType::f32);
  EXPECT_EQ(add(e, make({3}, DType::f32, {1, 2, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(exp(e).numel(), 0);
  Tensor s = make({}, DType::f64, {2});
  Tensor r = mul(s, make({2}, DType::f64, {3, 4}));
  expect_close(r, {6, 8}, {0, 0}, "scalar x vector");
  expect_close(sqrt(s), {std::sqrt(2.0)}, {1e-15, 1e-15}, "sqrt of a scalar");
}

TEST(Elementwise, LargeTensorsTakeThreadedPaths) {
  const int64_t n = 1 << 20;
  Tensor a = random({n}, DType::f32, -1, 1, 110);
  Tensor b = random({n}, DType::f32, -1, 1, 111);
  expect_close(add(a, b), reference({n}, {a, b}, [](auto& v) { return v[0] + v[1]; }), tol_for(DType::f32),
               "add contiguous 1M");
  Tensor m = transpose(random({1024, 1000}, DType::f32, -1, 1, 112), 0, 1);  // [1000, 1024]
  Tensor col = random({1000, 1}, DType::f32, -1, 1, 113);
  expect_close(sub(m, col), reference({1000, 1024}, {m, col}, [](auto& v) { return v[0] - v[1]; }), tol_for(DType::f32),
               "sub transposed x column");
  // transposed operands walk square tiles; 3 dims with partial tiles in both tiled dims
  Tensor t3 = transpose(random({3, 70, 45}, DType::f64, -1, 1, 116), 1, 2);  // [3, 45, 70]
  Tensor c3 = random({3, 45, 70}, DType::f64, -1, 1, 117);
  expect_close(mul(c3, t3), reference({3, 45, 70}, {c3, t3}, [](auto& v) { return v[0] * v[1]; }), tol_for(DType::f64),
               "mul contiguous x transposed 3-d");
  Tensor big = random({1000, 1024}, DType::bf16, -1, 1, 114);
  Tensor row = random({1024}, DType::bf16, -1, 1, 115);
  std::vector<double> want = reference({1000, 1024}, {big, row}, [](auto& v) { return v[0] + v[1]; });
  binary_(Binary::add, big, row);
  expect_close(big, want, tol_for(DType::bf16), "add_ bf16 row broadcast");
}

// ---- errors name the op, shapes, dtypes and devices ----

TEST(Elementwise, ErrorsNameOpShapesAndDtypes) {
  Tensor a = Tensor::empty({2, 3}, DType::f32);
  Tensor b4 = Tensor::empty({4}, DType::f32);
  Tensor d = Tensor::empty({2, 3}, DType::f64);
  Tensor i = Tensor::empty({2, 3}, DType::i32);

  std::string m = error_of([&] { add(a, b4); });
  EXPECT_THAT(m, HasSubstr("add"));
  EXPECT_THAT(m, HasSubstr("[2, 3]"));
  EXPECT_THAT(m, HasSubstr("[4]"));

  m = error_of([&] { mul(a, d); });
  EXPECT_THAT(m, HasSubstr("mul"));
  EXPECT_THAT(m, HasSubstr("f32[2, 3] on cpu"));
  EXPECT_THAT(m, HasSubstr("f64[2, 3] on cpu"));

  m = error_of([&] { div(i, i); });
  EXPECT_THAT(m, HasSubstr("div"));
  EXPECT_THAT(m, HasSubstr("i32[2, 3]"));

  m = error_of([&] { exp(i); });
  EXPECT_THAT(m, HasSubstr("exp"));
  EXPECT_THAT(m, HasSubstr("i32[2, 3]"));

  m = error_of([&] { binary_(Binary::add, b4, a); });  // would need to grow b4
  EXPECT_THAT(m, HasSubstr("add_"));
  EXPECT_THAT(m, HasSubstr("[4]"));
  EXPECT_THAT(m, HasSubstr("[2, 3]"));

  m = error_of([&] { binary_(Binary::add, expand(Tensor::empty({1, 3}), {2, 3}), a); });
  EXPECT_THAT(m, HasSubstr("add_"));
  EXPECT_THAT(m, HasSubstr("expanded"));

  m = error_of([&] { unary_backward(Unary::tanh, a, b4); });
  EXPECT_THAT(m, HasSubstr("tanh_backward"));
  EXPECT_THAT(m, HasSubstr("f32[4] on cpu"));

  m = error_of([&] { binary_scalar(Binary::add, i, 0.5); });
  EXPECT_THAT(m, HasSubstr("add"));
  EXPECT_THAT(m, HasSubstr("0.5"));

  m = error_of([&] { where(a, a, a); });
  EXPECT_THAT(m, HasSubstr("where"));
  EXPECT_THAT(m, HasSubstr("bool"));

  m = error_of([&] { compare(Compare::lt, a, i); });
  EXPECT_THAT(m, HasSubstr("lt"));
  EXPECT_THAT(m, HasSubstr("i32[2, 3] on cpu"));

  m = error_of([&] { bias_act(a, b4, Activation::gelu); });
  EXPECT_THAT(m, HasSubstr("bias_act"));
  EXPECT_THAT(m, HasSubstr("f32[4] on cpu"));

  m = error_of([&] { scale_offset(a, Tensor::empty({3}, DType::f32), Tensor::empty({3}, DType::f64)); });
  EXPECT_THAT(m, HasSubstr("scale_offset"));
  EXPECT_THAT(m, HasSubstr("beta"));

  m = error_of([&] { masked_fill(a, compare_scalar(Compare::gt, b4, 0), 0); });
  EXPECT_THAT(m, HasSubstr("masked_fill"));

  m = error_of([&] { axpy_(a, d, 1.0); });
  EXPECT_THAT(m, HasSubstr("axpy_"));
  EXPECT_THAT(m, HasSubstr("f64[2, 3] on cpu"));
}

}  // namespace
}  // namespace gau::ops
