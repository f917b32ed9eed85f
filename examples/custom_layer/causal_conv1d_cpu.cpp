// CPU kernels of causal_conv1d (causal_conv1d_kernels.h). Channels are innermost in memory, so
// every loop keeps the channel loop innermost: it reads rows in order and the compiler vectorises
// it. OpenMP splits the work when the project found it; without it the pragmas are ignored.
#include <algorithm>
#include <vector>

#include "causal_conv1d_kernels.h"

namespace gau_custom::kernels {

template <typename T>
void forward_cpu(const T* x, const T* w, T* y, const ConvDims& d) {
  const int64_t rows = d.b * d.n;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = r % d.n;
    T* yr = y + r * d.c;
    std::fill(yr, yr + d.c, T(0));
    // Tap j reads row t - j of the same sequence; taps before the sequence's start read zeros.
    for (int64_t j = 0; j < d.k && j <= t; ++j) {
      const T* xr = x + (r - j) * d.c;
      const T* wj = w + j * d.c;
      for (int64_t ch = 0; ch < d.c; ++ch) yr[ch] += wj[ch] * xr[ch];
    }
  }
}

template <typename T>
void backward_input_cpu(const T* dy, const T* w, T* dx, const ConvDims& d) {
  const int64_t rows = d.b * d.n;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = r % d.n;
    T* dxr = dx + r * d.c;
    std::fill(dxr, dxr + d.c, T(0));
    // x[t] fed y[t + j] through tap j, for the outputs that exist (t + j < n).
    for (int64_t j = 0; j < d.k && t + j < d.n; ++j) {
      const T* dyr = dy + (r + j) * d.c;
      const T* wj = w + j * d.c;
      for (int64_t ch = 0; ch < d.c; ++ch) dxr[ch] += wj[ch] * dyr[ch];
    }
  }
}

template <typename T>
void backward_weight_cpu(const T* x, const T* dy, T* dw, const ConvDims& d) {
  // dw reduces over every row. Each thread owns a block of channels and walks all rows for them,
  // so there are no shared accumulators and the sum's order, hence the result, does not depend
  // on the thread count. Sums are kept in double: b·n terms can be many.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (d.c + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t c0 = blk * kBlock, width = std::min(kBlock, d.c - c0);
    std::vector<double> acc(static_cast<size_t>(d.k * width), 0.0);
    for (int64_t s = 0; s < d.b; ++s) {
      for (int64_t t = 0; t < d.n; ++t) {
        const T* dyr = dy + (s * d.n + t) * d.c + c0;
        for (int64_t j = 0; j < d.k && j <= t; ++j) {
          const T* xr = x + (s * d.n + t - j) * d.c + c0;
          double* a = acc.data() + j * width;
          for (int64_t ch = 0; ch < width; ++ch) a[ch] += static_cast<double>(xr[ch]) * static_cast<double>(dyr[ch]);
        }
      }
    }
    for (int64_t j = 0; j < d.k; ++j)
      for (int64_t ch = 0; ch < width; ++ch) dw[j * d.c + c0 + ch] = static_cast<T>(acc[static_cast<size_t>(j * width + ch)]);
  }
}

template void forward_cpu<float>(const float*, const float*, float*, const ConvDims&);
template void forward_cpu<double>(const double*, const double*, double*, const ConvDims&);
template void backward_input_cpu<float>(const float*, const float*, float*, const ConvDims&);
template void backward_input_cpu<double>(const double*, const double*, double*, const ConvDims&);
template void backward_weight_cpu<float>(const float*, const float*, float*, const ConvDims&);
template void backward_weight_cpu<double>(const double*, const double*, double*, const ConvDims&);

}  // namespace gau_custom::kernels
