// Gather/scatter by index against naive double references; duplicates, strided inputs, i32/i64
// indices, determinism, and errors that name the bad id.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/index.h"
#include "core/ops/view.h"
#include "tests/support/checks.h"
#include "tests/support/parity.h"

using namespace gau;

namespace {

using test::error_of;
using test::expect_close;
using test::values;

Tensor randn(const Shape& shape, DType dt, uint64_t seed) {
  Generator gen(seed);
  return ops::randn(shape, dt, Device::cpu(), 0, 1, &gen);
}

Tensor ids_tensor(const std::vector<int64_t>& v, const Shape& shape, DType dt) {
  return ops::to_dtype(ops::from_vector<int64_t>(v, shape), dt);
}

// bf16 sums round once at the end (rel 2^-8); f32 sums of a few hundred terms.
constexpr test::PerDType tol{.f64 = 1e-12, .f32 = 1e-5, .bf16 = 1e-2, .f16 = 1e-5, .other = 1e-5};

}  // namespace

TEST(Index, EmbeddingGathersRows) {
  const int64_t V = 10, d = 6;
  const std::vector<int64_t> idv = {3, 0, 9, 3, 7, 1};
  for (DType dt : {DType::f32, DType::f64, DType::bf16})
    for (DType it : {DType::i32, DType::i64})
      for (bool strided : {false, true}) {
        // A strided weight is the transpose of a [d, V] buffer; strided ids step over a wider buffer.
        Tensor w = strided ? ops::transpose(randn({d, V}, dt, 1), 0, 1) : randn({V, d}, dt, 1);
        Tensor ids = ids_tensor(idv, {2, 3}, it);
        if (strided) {
          std::vector<int64_t> wide;
          for (int64_t v : idv) wide.push_back(v), wide.push_back(-5);
          ids = ops::slice(ids_tensor(wide, {2, 6}, it), 1, 0, 6, 2);
        }
        Tensor y = ops::embedding(w, ids);
        EXPECT_EQ(y.shape(), (Shape{2, 3, d}));
        EXPECT_EQ(y.dtype(), dt);
        std::vector<double> wv = values(w), want;
        for (int64_t id : idv)
          for (int64_t j = 0; j < d; ++j) want.push_back(wv[id * d + j]);
        EXPECT_EQ(values(y), want) << dtype_name(dt) << " " << dtype_name(it) << (strided ? " strided" : "");
      }
}

TEST(Index, EmbeddingBackwardAccumulatesDuplicatesDeterministically) {
  const int64_t V = 7, d = 33, N = 5000;
  std::vector<int64_t> idv(N);
  for (int64_t i = 0; i < N; ++i) idv[i] = (i * 5 + i / 3) % V;
  for (DType dt : {DType::f32, DType::f64, DType::bf16}) {
    Tensor ids = ids_tensor(idv, {50, 100}, DType::i64);
    Tensor g = randn({50, 100, d}, dt, 2);
    Tensor dw = ops::embedding_backward(g, ids, V + 2);  // rows 7 and 8 receive nothing
    EXPECT_EQ(dw.shape(), (Shape{V + 2, d}));
    EXPECT_EQ(dw.dtype(), dt);
    std::vector<double> gv = values(g), want((V + 2) * d, 0.0);
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < d; ++j) want[idv[i] * d + j] += gv[i * d + j];
    expect_close(values(dw), want, tol(dt), std::string("embedding_backward ") + dtype_name(dt));
    Tensor again = ops::embedding_backward(g, ids, V + 2);
    EXPECT_EQ(std::memcmp(again.data_ptr(), dw.data_ptr(), dw.nbytes()), 0) << "not bitwise deterministic";
  }
}

TEST(Index, IndexAddInPlaceIncludingStridedOut) {
  std::vector<int64_t> idv = {4, 0, 4, 2};
  for (bool strided : {false, true}) {
    // out [5, 2, 3]; the strided one is a permuted view of a [3, 2, 5] buffer.
    Tensor out = strided ? ops::permute(randn({3, 2, 5}, DType::f32, 3), {2, 1, 0}) : randn({5, 2, 3}, DType::f32, 3);
    Tensor src = randn({4, 2, 3}, DType::f32, 4);
    std::vector<double> want = values(out), sv = values(src);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 6; ++j) want[idv[i] * 6 + j] += sv[i * 6 + j];
    const uint64_t v0 = out.version();
    ops::index_add_(out, ids_tensor(idv, {4}, DType::i32), src);
    EXPECT_GT(out.version(), v0);
    expect_close(values(out), want, 1e-6, strided ? "index_add_ strided" : "index_add_");
  }
}

TEST(Index, GatherRowsPicksOnePerRow) {
  Tensor x = ops::transpose(randn({5, 4}, DType::f64, 5), 0, 1);  // [4, 5], strided
  std::vector<int64_t> idv = {4, 0, 2, 2};
  Tensor y = ops::gather_rows(x, ids_tensor(idv, {4}, DType::i64));
  std::vector<double> xv = values(x), want;
  for (int64_t i = 0; i < 4; ++i) want.push_back(xv[i * 5 + idv[i]]);
  EXPECT_EQ(y.shape(), (Shape{4}));
  EXPECT_EQ(values(y), want);
}

TEST(Index, ErrorsNameTheBadIdAndShapes) {
  Tensor w = ops::zeros({10, 4});
  std::string e = error_of([&] { ops::embedding(w, ids_tensor({1, 2, 3, 9, 10, 0}, {2, 3}, DType::i64)); });
  EXPECT_NE(e.find("embedding: id 10 at position 4 is out of range [0, 10)"), std::string::npos) << e;
  EXPECT_NE(e.find("f32[10, 4]"), std::string::npos) << e;
  EXPECT_NE(e.find("i64[2, 3]"), std::string::npos) << e;
  e = error_of([&] { ops::embedding(w, ids_tensor({-1}, {1}, DType::i32)); });
  EXPECT_NE(e.find("embedding: id -1 at position 0 is out of range [0, 10)"), std::string::npos) << e;
  e = error_of([&] { ops::embedding(w, ops::zeros({3})); });
  EXPECT_NE(e.find("embedding: ids must be i32 or i64, got f32[3]"), std::string::npos) << e;
  e = error_of([&] { ops::embedding_backward(ops::zeros({3, 4}), ids_tensor({0, 5, 1}, {3}, DType::i64), 5); });
  EXPECT_NE(e.find("embedding_backward: index 5 at position 1 is out of range [0, 5)"), std::string::npos) << e;
  e = error_of([&] { ops::embedding_backward(ops::zeros({2, 4}), ids_tensor({0, 1, 2}, {3}, DType::i64), 5); });
  EXPECT_NE(e.find("embedding_backward: d_y must be a floating [ids..., d] tensor, got d_y f32[2, 4]"),
            std::string::npos)
      << e;
  e = error_of([&] { ops::index_add_(ops::zeros({5, 3}), ids_tensor({0, 1}, {2}, DType::i64), ops::zeros({2, 4})); });
  EXPECT_NE(e.find("index_add_: src must be f32[2, 3]"), std::string::npos) << e;
  e = error_of([&] { ops::gather_rows(ops::zeros({2, 3}), ids_tensor({0, 3}, {2}, DType::i64)); });
  EXPECT_NE(e.find("gather_rows: index 3 at position 1 is out of range [0, 3)"), std::string::npos) << e;
}
