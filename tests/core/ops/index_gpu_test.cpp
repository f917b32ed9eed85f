// CUDA embedding, embedding_backward, index_add_ and gather_rows against the CPU backend.
// Gathers are exact; accumulations use atomics (any order): f32 1e-5, f64 1e-12, bf16/f16 as
// the rounding of one sum allows (2e-2, 2e-3).
#include <gtest/gtest.h>

#include <string>

#include "core/ops/copy.h"
#include "core/ops/index.h"
#include "tests/support/cuda_fixture.h"
#include "tests/support/parity.h"

namespace gau {
namespace {

using test::kFloatTypes;
using test::on_cuda;
using test::parity_tol;

Tensor ids(const Shape& shape, int64_t limit, DType dt, uint64_t seed) {
  return ops::to_dtype(test::uniform64(shape, seed, 0, static_cast<double>(limit)), dt);
}

class CudaIndexTest : public test::CudaTest {};

TEST_F(CudaIndexTest, EmbeddingForwardAndBackward) {
  for (DType dt : kFloatTypes) {
    for (DType it : {DType::i32, DType::i64}) {
      Tensor w = test::randn({50, 24}, dt, 1);
      Tensor id = ids({4, 30}, 50, it, 2);  // 120 ids over 50 rows: many duplicates
      GAU_EXPECT_CLOSE(ops::embedding(on_cuda(w), on_cuda(id)), ops::embedding(w, id), 0, 0) << dtype_name(dt);
      Tensor dy = test::randn({4, 30, 24}, dt, 3);
      GAU_EXPECT_CLOSE(ops::embedding_backward(on_cuda(dy), on_cuda(id), 50), ops::embedding_backward(dy, id, 50),
                       parity_tol(dt), parity_tol(dt))
          << dtype_name(dt);
    }
  }
}

TEST_F(CudaIndexTest, IndexAddAndGatherRows) {
  for (DType dt : kFloatTypes) {
    Tensor out = test::randn({10, 3, 4}, dt, 4), src = test::randn({25, 3, 4}, dt, 5);
    Tensor index = ids({25}, 10, DType::i64, 6);
    Tensor og = ops::clone(on_cuda(out));
    ops::index_add_(og, on_cuda(index), on_cuda(src));
    ops::index_add_(out, index, src);
    GAU_EXPECT_CLOSE(og, out, parity_tol(dt), parity_tol(dt)) << dtype_name(dt);
    Tensor x = test::randn({40, 13}, dt, 7);
    Tensor pick = ids({40}, 13, DType::i32, 8);
    GAU_EXPECT_CLOSE(ops::gather_rows(on_cuda(x), on_cuda(pick)), ops::gather_rows(x, pick), 0, 0) << dtype_name(dt);
  }
}

TEST_F(CudaIndexTest, OutOfRangeIdIsAnErrorNamingIt) {
  Tensor w = on_cuda(test::randn({8, 4}, DType::f32, 9));
  Tensor host_ids = ops::to_dtype(test::uniform64({6}, 10, 0, 8), DType::i64);
  host_ids.data<int64_t>()[4] = 11;
  try {
    ops::embedding(w, on_cuda(host_ids));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("11"), std::string::npos) << msg;
    EXPECT_NE(msg.find("embedding"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace gau
