#pragma once
// What both backends' optimizer kernels share about an UpdateTarget: its element types and the
// write-back of the rounded bf16/f16 copy (GAU_HD, so the CPU and the GPU round alike).
#include <cstdint>
#include <type_traits>

#include "core/dtype.h"
#include "core/error.h"
#include "core/macros.h"
#include "core/rng.h"
#include "optim/kernels.h"

namespace gau::optim {

// The copy type of a target without a bf16/f16 copy.
struct NoCopy {};

// Calls f(type_tag<W>, type_tag<G>, type_tag<C>) for the target's weight, gradient and copy types:
// (f64, f64, none), (f32, f32, none), (f32, f32 | bf16, bf16), (f32, f32 | f16, f16).
template <typename F>
void dispatch_target(const UpdateTarget& t, const char* op, F&& f) {
  const DType w = t.w.dtype(), g = t.g.dtype();
  const DType c = t.copy.defined() ? t.copy.dtype() : w;
  GAU_CHECK(t.w.is_contiguous() && t.g.is_contiguous() && t.g.numel() == t.w.numel(), op,
            ": weights and gradients must be flat buffers of one size, got ", describe(t.w), " and ", describe(t.g));
  if (w == DType::f64 && g == DType::f64 && !t.copy.defined())
    return f(type_tag<double>{}, type_tag<double>{}, type_tag<NoCopy>{});
  if (w == DType::f32 && !t.copy.defined() && g == DType::f32)
    return f(type_tag<float>{}, type_tag<float>{}, type_tag<NoCopy>{});
  if (w == DType::f32 && c == DType::bf16) {
    if (g == DType::f32) return f(type_tag<float>{}, type_tag<float>{}, type_tag<bfloat16>{});
    if (g == DType::bf16) return f(type_tag<float>{}, type_tag<bfloat16>{}, type_tag<bfloat16>{});
  }
  if (w == DType::f32 && c == DType::f16) {
    if (g == DType::f32) return f(type_tag<float>{}, type_tag<float>{}, type_tag<float16>{});
    if (g == DType::f16) return f(type_tag<float>{}, type_tag<float16>{}, type_tag<float16>{});
  }
  GAU_FAIL(op, ": unsupported combination of weights ", dtype_name(w), ", gradients ", dtype_name(g), ", copy ",
           t.copy.defined() ? dtype_name(c) : "none");
}

// Calls f(std::bool_constant<stochastic>) so the rounding mode is a compile-time choice.
template <typename F>
void dispatch_rounding(const UpdateTarget& t, F&& f) {
  if (t.stochastic_rounding && t.copy.defined()) return f(std::true_type{});
  return f(std::false_type{});
}

template <typename C>
C* copy_ptr(const UpdateTarget& t) {
  if constexpr (std::is_same_v<C, NoCopy>)
    return nullptr;
  else
    return static_cast<C*>(t.copy.data_ptr());
}

// The rounded copy of w at element i: nearest even, or stochastic from Philox(seed, i / 4, step).
template <typename C, bool kStochastic>
GAU_HD void store_copy(C* copy, int64_t i, float w, uint64_t seed, uint64_t step) {
  if constexpr (!std::is_same_v<C, NoCopy>) {
    if constexpr (kStochastic) {
      const uint32_t u = philox4x32_10(seed, static_cast<uint64_t>(i) / 4, step).v[i % 4];
      if constexpr (std::is_same_v<C, bfloat16>)
        copy[i].bits = stochastic_bf16_bits(w, u);
      else
        copy[i].bits = stochastic_f16_bits(w, u);
    } else {
      copy[i] = C(w);
    }
  }
}

}  // namespace gau::optim
