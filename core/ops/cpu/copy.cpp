#include "core/ops/copy_kernels.h"

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

// One row of a copy: n elements, `ds` / `ss` bytes apart in dst / src. Instantiated per dtype pair,
// while the walk over rows (copy_rows) is compiled once.
using RowFn = void (*)(char* dst, int64_t ds, const char* src, int64_t ss, int64_t n);

template <typename To, typename From>
void copy_row(char* dst, int64_t ds, const char* src, int64_t ss, int64_t n) {
  if (ds == int64_t{sizeof(To)} && ss == int64_t{sizeof(From)}) {
    if constexpr (std::is_same_v<To, From>) {
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(To));
    } else {
      To* d = reinterpret_cast<To*>(dst);
      const From* s = reinterpret_cast<const From*>(src);
      for (int64_t j = 0; j < n; ++j) d[j] = convert<To>(s[j]);
    }
    return;
  }
  for (int64_t j = 0; j < n; ++j)
    *reinterpret_cast<To*>(dst + j * ds) = convert<To>(*reinterpret_cast<const From*>(src + j * ss));
}

// The row copier for a dtype pair; a copy without conversion moves bits of the element size.
RowFn row_fn(DType to, DType from) {
  if (to == from) {
    switch (dtype_size(to)) {
      case 1:
        return &copy_row<uint8_t, uint8_t>;
      case 2:
        return &copy_row<uint16_t, uint16_t>;
      case 4:
        return &copy_row<uint32_t, uint32_t>;
      default:
        return &copy_row<uint64_t, uint64_t>;
    }
  }
  return dispatch_all(to, "copy_", [&](auto to_tag) {
    using To = typename decltype(to_tag)::type;
    return dispatch_all(from, "copy_", [&](auto from_tag) -> RowFn {
      using From = typename decltype(from_tag)::type;
      return &copy_row<To, From>;
    });
  });
}

// Every innermost row of the collapsed shape, in parallel over rows when large.
void copy_rows(char* dst, size_t dst_size, const char* src, size_t src_size, const Collapsed& c, RowFn row) {
  const size_t rank = c.shape.size();
  const int64_t inner = c.shape[rank - 1];
  const int64_t dsi = c.dst_strides[rank - 1] * static_cast<int64_t>(dst_size);
  const int64_t ssi = c.src_strides[rank - 1] * static_cast<int64_t>(src_size);
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
    row(dst + doff * static_cast<int64_t>(dst_size), dsi, src + soff * static_cast<int64_t>(src_size), ssi, inner);
  }
}

}  // namespace

void copy_(const Tensor& dst, const Tensor& src) {
  Collapsed c = collapse(dst.shape(), dst.strides(), src.strides());
  copy_rows(static_cast<char*>(dst.data_ptr()), dst.element_size(), static_cast<const char*>(src.data_ptr()),
            src.element_size(), c, row_fn(dst.dtype(), src.dtype()));
}

void fill_(const Tensor& dst, double value) {
  Collapsed c = collapse(dst.shape(), dst.strides(), dst.strides());
  // One element holding the value, read with stride 0.
  alignas(8) char v[8];
  dispatch_all(dst.dtype(), "fill_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T t = convert<T>(value);
    std::memcpy(v, &t, sizeof(T));
  });
  copy_rows(static_cast<char*>(dst.data_ptr()), dst.element_size(), v, dst.element_size(),
            Collapsed{c.shape, c.dst_strides, Shape(c.shape.size(), 0)}, row_fn(dst.dtype(), dst.dtype()));
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
    for (int64_t i = 0; i < n; ++i) p[i] = T(static_cast<A>(std::fma(std, philox_normal(seed, offset, i), mean)));
  });
}

}  // namespace gau::ops::cpu
