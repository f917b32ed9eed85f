#include "core/ops/cpu/copy.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/dispatch.h"
#include "core/ops/cpu/parallel.h"
#include "core/rng.h"

namespace gau::ops::cpu {

namespace {

template <typename To, typename From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<From, bfloat16> || std::is_same_v<From, float16>) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bfloat16> || std::is_same_v<To, float16>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else {
    return static_cast<To>(v);
  }
}

// Dims merged where the layout allows (a contiguous run over several dims becomes one), so most
// copies run as a few long inner loops.
struct Collapsed {
  Shape shape, dst_strides, src_strides;
};

Collapsed collapse(const Shape& shape, const Shape& ds, const Shape& ss) {
  Collapsed c;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (!c.shape.empty() && c.dst_strides.back() == ds[i] * shape[i] && c.src_strides.back() == ss[i] * shape[i]) {
      c.shape.back() *= shape[i];
      c.dst_strides.back() = ds[i];
      c.src_strides.back() = ss[i];
      continue;
    }
    c.shape.push_back(shape[i]);
    c.dst_strides.push_back(ds[i]);
    c.src_strides.push_back(ss[i]);
  }
  if (c.shape.empty()) c.shape = {1}, c.dst_strides = {1}, c.src_strides = {1};
  return c;
}

template <typename To, typename From>
void copy_strided(To* dst, const From* src, const Collapsed& c) {
  const size_t rank = c.shape.size();
  const int64_t inner = c.shape[rank - 1];
  const int64_t dsi = c.dst_strides[rank - 1], ssi = c.src_strides[rank - 1];
  int64_t outer = 1;
  for (size_t i = 0; i + 1 < rank; ++i) outer *= c.shape[i];
#pragma omp parallel for schedule(static) if (outer * inner >= kParallelMin)
  for (int64_t o = 0; o < outer; ++o) {
    int64_t rem = o, doff = 0, soff = 0;
    for (size_t i = rank - 1; i-- > 0;) {
      int64_t idx = rem % c.shape[i];
      rem /= c.shape[i];
      doff += idx * c.dst_strides[i];
      soff += idx * c.src_strides[i];
    }
    To* d = dst + doff;
    const From* s = src + soff;
    if (dsi == 1 && ssi == 1) {
      if constexpr (std::is_same_v<To, From>) {
        std::memcpy(d, s, static_cast<size_t>(inner) * sizeof(To));
      } else {
        for (int64_t j = 0; j < inner; ++j) d[j] = convert<To>(s[j]);
      }
    } else {
      for (int64_t j = 0; j < inner; ++j) d[j * dsi] = convert<To>(s[j * ssi]);
    }
  }
}

}  // namespace

void copy_(const Tensor& dst, const Tensor& src) {
  Collapsed c = collapse(dst.shape(), dst.strides(), src.strides());
  dispatch_all(dst.dtype(), "copy_", [&](auto to_tag) {
    using To = typename decltype(to_tag)::type;
    dispatch_all(src.dtype(), "copy_", [&](auto from_tag) {
      using From = typename decltype(from_tag)::type;
      copy_strided(static_cast<To*>(dst.data_ptr()), static_cast<const From*>(src.data_ptr()), c);
    });
  });
}

void fill_(const Tensor& dst, double value) {
  Collapsed c = collapse(dst.shape(), dst.strides(), dst.strides());
  dispatch_all(dst.dtype(), "fill_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = convert<T>(value);
    copy_strided(static_cast<T*>(dst.data_ptr()), &v, Collapsed{c.shape, c.dst_strides, Shape(c.shape.size(), 0)});
  });
}

void fill_uniform_(const Tensor& dst, double low, double high, uint64_t seed, uint64_t offset) {
  const int64_t n = dst.numel();
  dispatch_floating(dst.dtype(), "rand", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = static_cast<T*>(dst.data_ptr());
    using A = acc_t<T>;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i)
      p[i] = T(static_cast<A>(low + (high - low) * static_cast<double>(philox_uniform(seed, offset, i))));
  });
}

void fill_normal_(const Tensor& dst, double mean, double std, uint64_t seed, uint64_t offset) {
  const int64_t n = dst.numel();
  dispatch_floating(dst.dtype(), "randn", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = static_cast<T*>(dst.data_ptr());
    using A = acc_t<T>;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i)
      p[i] = T(static_cast<A>(std::fma(std, philox_normal(seed, offset, i), mean)));
  });
}

}  // namespace gau::ops::cpu
