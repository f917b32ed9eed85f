#pragma once
// Element types: f32, f64, bf16, f16, i32, i64, bool.
// bf16 and f16 are stored as raw 16-bit patterns; conversions from float round to nearest even,
// the same on host and device, so CPU and CUDA casts agree bit for bit.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "core/macros.h"

namespace gau {

enum class DType : uint8_t { f32, f64, bf16, f16, i32, i64, b8 };

// Bytes per element. Inline: every kernel, view and data_ptr() asks it.
constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::bf16: return 2;
    case DType::f16: return 2;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::b8: return 1;
  }
  return 0;
}
const char* dtype_name(DType t);
DType dtype_from_name(const std::string& name);  // "f32", "float32", "bf16", ... ; throws on unknown
constexpr bool is_floating(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::bf16 || t == DType::f16;
}

GAU_HD uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
GAU_HD float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// float -> bf16 with round-to-nearest-even; NaN stays a quiet NaN.
GAU_HD uint16_t float_to_bf16_bits(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}
GAU_HD float bf16_bits_to_float(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

// float -> IEEE half with round-to-nearest-even, including subnormals and overflow to inf.
GAU_HD uint16_t float_to_f16_bits(float f) {
  uint32_t x = float_bits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {                                               // subnormal or zero
    // value = abs_float; half subnormal unit is 2^-24
    uint32_t exp = abs >> 23;
    if (exp < 102) return static_cast<uint16_t>(sign);  // below half of the smallest subnormal
    uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exp;  // 14 + (112 - exp) ... number of bits to drop to reach 2^-24 units
    uint32_t result = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}
GAU_HD float f16_bits_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return bits_float(sign);
    float v = static_cast<float>(mant) * 5.9604644775390625e-8f;  // mant * 2^-24
    return sign ? -v : v;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

// Host-side storage types. CUDA kernels reinterpret the same bits as __nv_bfloat16 / __half.
struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  GAU_HD bfloat16(float f) : bits(float_to_bf16_bits(f)) {}
  GAU_HD operator float() const { return bf16_bits_to_float(bits); }
};
struct float16 {
  uint16_t bits = 0;
  float16() = default;
  GAU_HD float16(float f) : bits(float_to_f16_bits(f)) {}
  GAU_HD operator float() const { return f16_bits_to_float(bits); }
};

template <typename T>
struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<bfloat16> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<float16> { static constexpr DType value = DType::f16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::b8; };

// The type arithmetic is done in: f64 stays f64, every other float type computes in f32.
template <typename T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, double,
                                 std::conditional_t<std::is_integral_v<T>, T, float>>;

template <typename T>
struct type_tag {
  using type = T;
};

}  // namespace gau
