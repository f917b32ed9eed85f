#pragma once
// Vectorised f32 exp shared by the CPU ops (softmax, cross-entropy, elementwise exp) and the
// attention tile kernels. glibc's expf is accurate but scalar; the loops that call it are the
// bottleneck of softmax-like ops, so they use this polynomial 8 lanes at a time instead.
//
// exp(x) = 2^k exp(r), x = k ln2 + r with |r| <= ln2 / 2 (Cephes' two-constant reduction), exp(r)
// by Cephes' degree-6 polynomial, both with FMA. Measured against std::exp in double over a dense sweep of
// [-104, 89] (tests/core/ops/vec_math_test.cpp) the relative error is at most 8.4e-8 (test bound 2e-7)
// wherever the result is a normal float. Edges follow std::exp: exp(-inf) = 0, exp(+inf) and
// overflow = +inf, NaN stays NaN, results below FLT_MIN are denormals (within one denormal step).
// The scalar exp_approx computes exactly what one lane of exp8 does, so a row's tail matches.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GAU_VEC_AVX2 1
#endif

namespace gau::ops::cpu {

namespace vec_detail {
// Inputs are clamped to [kExpLo, kExpHi] first: below kExpLo exp underflows to 0, above kExpHi it
// overflows to inf, and inside the range k fits an int for the 2^k bit trick.
constexpr float kExpLo = -104.0f;
constexpr float kExpHi = 89.0f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;    // ln2 to 9 bits: k * kLn2Hi is exact
constexpr float kLn2Lo = 2.12194440e-4f;  // kLn2Hi - ln2
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

inline float pow2i(int32_t k) {  // 2^k for k in [-126, 127]
  const int32_t bits = (k + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}
}  // namespace vec_detail

// exp(x) on one float, the polynomial of exp8. 2^k is applied as two halves 2^(k>>1) 2^(k-(k>>1)),
// each a normal float, so denormal results and overflow round once, as in std::exp.
inline float exp_approx(float x) {
  using namespace vec_detail;
  if (x != x) return x;
  const float xc = std::min(kExpHi, std::max(kExpLo, x));
  const float k = std::nearbyint(xc * kLog2e);
  const float r = std::fma(k, kLn2Lo, std::fma(-k, kLn2Hi, xc));
  float p = kP0;
  p = std::fma(p, r, kP1);
  p = std::fma(p, r, kP2);
  p = std::fma(p, r, kP3);
  p = std::fma(p, r, kP4);
  p = std::fma(p, r, kP5);
  const float y = std::fma(p, r * r, r) + 1.0f;
  const int32_t ki = static_cast<int32_t>(k), k1 = ki >> 1;
  return y * pow2i(k1) * pow2i(ki - k1);
}
// f64 keeps glibc's exp: the f64 paths are the reference (gradcheck), not the fast path.
inline double exp_approx(double x) { return std::exp(x); }

#ifdef GAU_VEC_AVX2
// exp_approx on 8 lanes.
inline __m256 exp8(__m256 x) {
  using namespace vec_detail;
  // max/min return their second operand when either is NaN: NaN lanes stay NaN through the clamp.
  const __m256 xc = _mm256_min_ps(_mm256_set1_ps(kExpHi), _mm256_max_ps(_mm256_set1_ps(kExpLo), x));
  const __m256 k =
      _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kLn2Hi), xc);
  r = _mm256_fmadd_ps(k, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kP0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP5));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i ki = _mm256_cvtps_epi32(k);  // NaN lanes give INT_MIN: harmless, y is NaN there
  const __m256i k1 = _mm256_srai_epi32(ki, 1), k2 = _mm256_sub_epi32(ki, k1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}
#endif

// Row kernels over contiguous runs (8 lanes at a time for f32 when the build targets AVX2).
// max of x [n]; -inf when n == 0. NaN elements are skipped (callers that care test for NaN apart).
float row_max(const float* x, int64_t n);
double row_max(const double* x, int64_t n);
// y [n] = exp(x [n]); y may alias x.
void exp_row(const float* x, float* y, int64_t n);
// y [n] = exp(x [n] - shift) and returns sum(y); y may alias x.
float exp_shifted_sum(const float* x, float* y, int64_t n, float shift);
double exp_shifted_sum(const double* x, double* y, int64_t n, double shift);
// row [n] = exp(row - shift) in place; returns its sum.
inline float exp_shifted_sum(float* row, int64_t n, float shift) { return exp_shifted_sum(row, row, n, shift); }
inline double exp_shifted_sum(double* row, int64_t n, double shift) { return exp_shifted_sum(row, row, n, shift); }
// sum(exp(x [n] - shift)) without storing the terms.
float exp_shifted_total(const float* x, int64_t n, float shift);
double exp_shifted_total(const double* x, int64_t n, double shift);
// y [n] *= s.
void scale_row(float* y, int64_t n, float s);
// SiLU of v = x + b, elementwise over [n] (b is the bias staged to the row): y = v sigmoid(v), and
// its backward d_x = d_y s (1 + v (1 - s)), s = sigmoid(v) = 1 / (1 + exp(-v)), with exp8. The
// fused bias + SiLU of the GAU's input projection, whose scalar expf was 15% of a training step.
void silu_bias_row(const float* x, const float* b, float* y, int64_t n);
void silu_bias_grad_row(const float* x, const float* b, const float* d_y, float* d_x, int64_t n);

}  // namespace gau::ops::cpu
