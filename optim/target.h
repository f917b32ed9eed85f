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

// The rounded copy's data, null for a target without one.
template <typename C>
C* copy_ptr(const UpdateTarget& t) {
  if constexpr (std::is_same_v<C, NoCopy>)
    return nullptr;
  else
    return static_cast<C*>(t.copy.data_ptr());
}

// A target's buffers as typed pointers (host or device): the weights, their gradients and the
// rounded copy (null when C is NoCopy).
template <typename W, typename G, typename C>
struct TargetBuffers {
  W* w;
  const G* g;
  C* copy;
};

template <typename W, typename G, typename C>
TargetBuffers<W, G, C> target_buffers(const UpdateTarget& t) {
  return {static_cast<W*>(t.w.data_ptr()), static_cast<const G*>(t.g.data_ptr()), copy_ptr<C>(t)};
}

// Calls f(TargetBuffers<W, G, C>) for the target's weight, gradient and copy types:
// (f64, f64, none), (f32, f32, none), (f32, f32 | bf16, bf16), (f32, f32 | f16, f16).
// Callers take the types from a template lambda: [&]<typename W, typename G, typename C>(...).
template <typename F>
void dispatch_target(const UpdateTarget& t, const char* op, F&& f) {
  const DType w = t.w.dtype(), g = t.g.dtype();
  const DType c = t.copy.defined() ? t.copy.dtype() : w;
  GAU_CHECK(t.w.is_contiguous() && t.g.is_contiguous() && t.g.numel() == t.w.numel(), op,
            ": weights and gradients must be flat buffers of one size, got ", describe(t.w), " and ", describe(t.g));
  if (w == DType::f64 && g == DType::f64 && !t.copy.defined()) return f(target_buffers<double, double, NoCopy>(t));
  if (w == DType::f32 && !t.copy.defined() && g == DType::f32) return f(target_buffers<float, float, NoCopy>(t));
  if (w == DType::f32 && c == DType::bf16) {
    if (g == DType::f32) return f(target_buffers<float, float, bfloat16>(t));
    if (g == DType::bf16) return f(target_buffers<float, bfloat16, bfloat16>(t));
  }
  if (w == DType::f32 && c == DType::f16) {
    if (g == DType::f32) return f(target_buffers<float, float, float16>(t));
    if (g == DType::f16) return f(target_buffers<float, float16, float16>(t));
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
