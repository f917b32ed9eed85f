#include "layers/attention/cpu/tile_math.h"

namespace gau::attention::detail::cpu {

namespace {

template <typename T>
void softmax_grad_scalar(T* s, T* dp, const T* f, int64_t c, int64_t n, T lse, T d) {
  for (; c < n; ++c) {
    const T keep = f ? f[c] : T(1);
    const T prob = ops::cpu::exp_approx(s[c] - lse);
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
void relu2_scalar(T* row, int64_t c, int64_t n) {
  for (; c < n; ++c) {
    const T relu = std::max(row[c], T(0));
    row[c] = relu * relu;
  }
}

}  // namespace

void relu2_row(float* row, int64_t n) {
  int64_t c = 0;
#ifdef GAU_VEC_AVX2
  for (; c + 8 <= n; c += 8) {
    const __m256 relu = _mm256_max_ps(_mm256_loadu_ps(row + c), _mm256_setzero_ps());
    _mm256_storeu_ps(row + c, _mm256_mul_ps(relu, relu));
  }
#endif
  relu2_scalar(row, c, n);
}
void relu2_row(double* row, int64_t n) { relu2_scalar(row, int64_t{0}, n); }

void softmax_grad_row(float* s, float* dp, const float* f, int64_t n, float lse, float d) {
  int64_t c = 0;
#ifdef GAU_VEC_AVX2
  const __m256 vlse = _mm256_set1_ps(lse), vd = _mm256_set1_ps(d);
  for (; c + 8 <= n; c += 8) {
    const __m256 prob = ops::cpu::exp8(_mm256_sub_ps(_mm256_loadu_ps(s + c), vlse));
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
#ifdef GAU_VEC_AVX2
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
