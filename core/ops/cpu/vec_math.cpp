#include "core/ops/cpu/vec_math.h"

#include <limits>

namespace gau::ops::cpu {

namespace {

// Scalar loops for f64 and for the tails of the f32 rows; they start at element c.
template <typename T>
T row_max_from(const T* x, int64_t c, int64_t n, T best) {
  for (; c < n; ++c) best = x[c] > best ? x[c] : best;  // NaN never wins, as in the vector loop
  return best;
}

template <typename T>
T exp_shifted_sum_from(const T* x, T* y, int64_t c, int64_t n, T shift) {
  T sum = 0;
  for (; c < n; ++c) {
    y[c] = exp_approx(x[c] - shift);
    sum += y[c];
  }
  return sum;
}

template <typename T>
T exp_shifted_total_from(const T* x, int64_t c, int64_t n, T shift) {
  T sum = 0;
  for (; c < n; ++c) sum += exp_approx(x[c] - shift);
  return sum;
}

}  // namespace

float row_max(const float* x, int64_t n) {
  int64_t c = 0;
  float best = -std::numeric_limits<float>::infinity();
#ifdef GAU_VEC_AVX2
  // Two accumulators hide the max latency; x goes first so a NaN lane keeps the accumulator.
  __m256 a0 = _mm256_set1_ps(best), a1 = a0;
  for (; c + 16 <= n; c += 16) {
    a0 = _mm256_max_ps(_mm256_loadu_ps(x + c), a0);
    a1 = _mm256_max_ps(_mm256_loadu_ps(x + c + 8), a1);
  }
  for (; c + 8 <= n; c += 8) a0 = _mm256_max_ps(_mm256_loadu_ps(x + c), a0);
  best = hmax8(_mm256_max_ps(a0, a1));
#endif
  return row_max_from(x, c, n, best);
}
double row_max(const double* x, int64_t n) {
  return row_max_from(x, int64_t{0}, n, -std::numeric_limits<double>::infinity());
}

void exp_row(const float* x, float* y, int64_t n) {
  int64_t c = 0;
#ifdef GAU_VEC_AVX2
  for (; c + 8 <= n; c += 8) _mm256_storeu_ps(y + c, exp8(_mm256_loadu_ps(x + c)));
#endif
  for (; c < n; ++c) y[c] = exp_approx(x[c]);
}

// 1 / (1 + exp(-v)), the scalar and the 8-lane form computing the same.
inline float sigmoid_approx(float v) { return 1.0f / (1.0f + exp_approx(-v)); }
#ifdef GAU_VEC_AVX2
inline __m256 sigmoid8(__m256 v) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), v))));
}
#endif

void silu_bias_row(const float* x, const float* b, float* y, int64_t n) {
  int64_t c = 0;
#ifdef GAU_VEC_AVX2
  for (; c + 8 <= n; c += 8) {
    const __m256 v = _mm256_add_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(b + c));
    _mm256_storeu_ps(y + c, _mm256_mul_ps(v, sigmoid8(v)));
  }
#endif
  for (; c < n; ++c) {
    const float v = x[c] + b[c];
    y[c] = v * sigmoid_approx(v);
  }
}

void silu_bias_grad_row(const float* x, const float* b, const float* d_y, float* d_x, int64_t n) {
  int64_t c = 0;
#ifdef GAU_VEC_AVX2
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; c + 8 <= n; c += 8) {
    const __m256 v = _mm256_add_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(b + c));
    const __m256 s = sigmoid8(v);
    const __m256 grad = _mm256_mul_ps(s, _mm256_fmadd_ps(v, _mm256_sub_ps(one, s), one));
    _mm256_storeu_ps(d_x + c, _mm256_mul_ps(_mm256_loadu_ps(d_y + c), grad));
  }
#endif
  for (; c < n; ++c) {
    const float v = x[c] + b[c];
    const float s = sigmoid_approx(v);
    d_x[c] = d_y[c] * (s * std::fma(v, 1.0f - s, 1.0f));
  }
}

float exp_shifted_sum(const float* x, float* y, int64_t n, float shift) {
  int64_t c = 0;
  float sum = 0;
#ifdef GAU_VEC_AVX2
  const __m256 vshift = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  for (; c + 8 <= n; c += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + c), vshift));
    _mm256_storeu_ps(y + c, e);
    acc = _mm256_add_ps(acc, e);
  }
  sum = hsum8(acc);
#endif
  return sum + exp_shifted_sum_from(x, y, c, n, shift);
}
double exp_shifted_sum(const double* x, double* y, int64_t n, double shift) {
  return exp_shifted_sum_from(x, y, int64_t{0}, n, shift);
}

float exp_shifted_total(const float* x, int64_t n, float shift) {
  int64_t c = 0;
  float sum = 0;
#ifdef GAU_VEC_AVX2
  const __m256 vshift = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  for (; c + 8 <= n; c += 8) acc = _mm256_add_ps(acc, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + c), vshift)));
  sum = hsum8(acc);
#endif
  return sum + exp_shifted_total_from(x, c, n, shift);
}
double exp_shifted_total(const double* x, int64_t n, double shift) {
  return exp_shifted_total_from(x, int64_t{0}, n, shift);
}

void scale_row(float* y, int64_t n, float s) {
  for (int64_t c = 0; c < n; ++c) y[c] *= s;
}

}  // namespace gau::ops::cpu
