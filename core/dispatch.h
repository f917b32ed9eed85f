#pragma once
// Type dispatch: call a generic lambda with a type_tag<T> for the runtime dtype.
//   dispatch_floating(x.dtype(), "softmax", [&](auto tag) { using T = typename decltype(tag)::type; ... });
#include <cstdint>

#include "core/dtype.h"
#include "core/error.h"

namespace gau {

template <typename F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32: return f(type_tag<float>{});
    case DType::f64: return f(type_tag<double>{});
    case DType::bf16: return f(type_tag<bfloat16>{});
    case DType::f16: return f(type_tag<float16>{});
    default: break;
  }
  GAU_FAIL(op, ": expected a floating dtype (f32, f64, bf16, f16), got ", dtype_name(t));
}

template <typename F>
decltype(auto) dispatch_all(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32: return f(type_tag<float>{});
    case DType::f64: return f(type_tag<double>{});
    case DType::bf16: return f(type_tag<bfloat16>{});
    case DType::f16: return f(type_tag<float16>{});
    case DType::i32: return f(type_tag<int32_t>{});
    case DType::i64: return f(type_tag<int64_t>{});
    case DType::b8: return f(type_tag<bool>{});
  }
  GAU_FAIL(op, ": unknown dtype");
}

template <typename F>
decltype(auto) dispatch_index(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::i32: return f(type_tag<int32_t>{});
    case DType::i64: return f(type_tag<int64_t>{});
    default: break;
  }
  GAU_FAIL(op, ": expected an index dtype (i32 or i64), got ", dtype_name(t));
}

// Dispatch over unsigned integers of the dtype's element size, for kernels that only move bits
// (copies without conversion, fills, where, masked_fill): one instantiation per size, not per
// dtype. CPU and CUDA ops both use it.
template <typename F>
void dispatch_bits(DType t, F&& f) {
  switch (dtype_size(t)) {
    case 1:
      return f(type_tag<uint8_t>{});
    case 2:
      return f(type_tag<uint16_t>{});
    case 4:
      return f(type_tag<uint32_t>{});
    default:
      return f(type_tag<uint64_t>{});
  }
}

}  // namespace gau
