#include "layers/attention/cpu/tile_math.h"

#include <limits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GAU_ATTENTION_AVX2 1
#endif

namespace gau::attention::detail::cpu {

namespace {

#ifdef GAU_ATTENTION_AVX2
// exp_tile on 8 lanes, the same Cephes reduction and polynomial.
inline __m256 exp8(__m256 x) {
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.3762626647949f));
  const __m256 k = _mm256_floor_ps(_mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  const __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ);
  return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(bits)), keep);
}

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#endif

template <typename T>
T exp_shifted_sum_scalar(T* row, int64_t c, int64_t n, T shift) {
  T sum = 0;
  for (; c < n; ++c) {
    row[c] = exp_tile(row[c] - shift);
    sum += row[c];
  }
  return sum;
}

template <typename T>
void softmax_grad_scalar(T* s, T* dp, const T* f, int64_t c, int64_t n, T lse, T d) {
  for (; c < n; ++c) {
    const T keep = f ? f[c] : T(1);
    const T prob = exp_tile(s[c] - lse);
    dp[c] = prob * (dp[c] * keep - d);
    s[c] = prob * keep;
  }
}

template <typename T>
void relu2_grad_scalar(T* s, T* dp, const T* f, int64_t c, int64_t n) {
  for (; c < n; ++c) {
    const T keep = f ? f[c] : T(1);
    const T relu = std::max(s[c], T(0));
    dp[c] = T(2) * relu * dp[c] * keep;
    s[c] = relu * relu * keep;
  }
}

template <typename T>
T row_max_scalar(const T* row, int64_t c, int64_t n, T best) {
  for (; c < n; ++c) best = std::max(best, row[c]);
  return best;
}

template <typename T>
void relu2_scalar(T* row, int64_t c, int64_t n) {
  for (; c < n; ++c) {
    const T relu = std::max(row[c], T(0));
    row[c] = relu * relu;
  }
}

}  // namespace

float row_max(const float* row, int64_t n) {
  int64_t c = 0;
  float best = -std::numeric_limits<float>::infinity();
#ifdef GAU_ATTENTION_AVX2
  __m256 acc = _mm256_set1_ps(best);
  for (; c + 8 <= n; c += 8) acc = _mm256_max_ps(acc, _mm256_loadu_ps(row + c));
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  best = _mm_cvtss_f32(m);
#endif
  return row_max_scalar(row, c, n, best);
}
double row_max(const double* row, int64_t n) {
  return row_max_scalar(row, int64_t{0}, n, -std::numeric_limits<double>::infinity());
}

void relu2_row(float* row, int64_t n) {
  int64_t c = 0;
#ifdef GAU_ATTENTION_AVX2
  for (; c + 8 <= n; c += 8) {
    const __m256 relu = _mm256_max_ps(_mm256_loadu_ps(row + c), _mm256_setzero_ps());
    _mm256_storeu_ps(row + c, _mm256_mul_ps(relu, relu));
  }
#endif
  relu2_scalar(row, c, n);
}
void relu2_row(double* row, int64_t n) { relu2_scalar(row, int64_t{0}, n); }

float exp_shifted_sum(float* row, int64_t n, float shift) {
  int64_t c = 0;
  float sum = 0;
#ifdef GAU_ATTENTION_AVX2
  const __m256 vshift = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  for (; c + 8 <= n; c += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + c), vshift));
    _mm256_storeu_ps(row + c, e);
    acc = _mm256_add_ps(acc, e);
  }
  sum = hsum8(acc);
#endif
  return sum + exp_shifted_sum_scalar(row, c, n, shift);
}
double exp_shifted_sum(double* row, int64_t n, double shift) { return exp_shifted_sum_scalar(row, 0, n, shift); }

void softmax_grad_row(float* s, float* dp, const float* f, int64_t n, float lse, float d) {
  int64_t c = 0;
#ifdef GAU_ATTENTION_AVX2
  const __m256 vlse = _mm256_set1_ps(lse), vd = _mm256_set1_ps(d);
  for (; c + 8 <= n; c += 8) {
    const __m256 prob = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + c), vlse));
    const __m256 keep = f ? _mm256_loadu_ps(f + c) : _mm256_set1_ps(1.0f);
    const __m256 grad = _mm256_fmsub_ps(_mm256_loadu_ps(dp + c), keep, vd);
    _mm256_storeu_ps(dp + c, _mm256_mul_ps(prob, grad));
    _mm256_storeu_ps(s + c, _mm256_mul_ps(prob, keep));
  }
#endif
  softmax_grad_scalar(s, dp, f, c, n, lse, d);
}
void softmax_grad_row(double* s, double* dp, const double* f, int64_t n, double lse, double d) {
  softmax_grad_scalar(s, dp, f, int64_t{0}, n, lse, d);
}

void relu2_grad_row(float* s, float* dp, const float* f, int64_t n) {
  int64_t c = 0;
#ifdef GAU_ATTENTION_AVX2
  const __m256 two = _mm256_set1_ps(2.0f);
  for (; c + 8 <= n; c += 8) {
    const __m256 relu = _mm256_max_ps(_mm256_loadu_ps(s + c), _mm256_setzero_ps());
    const __m256 keep = f ? _mm256_loadu_ps(f + c) : _mm256_set1_ps(1.0f);
    const __m256 relu_keep = _mm256_mul_ps(relu, keep);
    _mm256_storeu_ps(dp + c, _mm256_mul_ps(_mm256_mul_ps(two, relu_keep), _mm256_loadu_ps(dp + c)));
    _mm256_storeu_ps(s + c, _mm256_mul_ps(relu, relu_keep));
  }
#endif
  relu2_grad_scalar(s, dp, f, c, n);
}
void relu2_grad_row(double* s, double* dp, const double* f, int64_t n) { relu2_grad_scalar(s, dp, f, int64_t{0}, n); }

}  // namespace gau::attention::detail::cpu
