// CPU forward of FLASH mixed chunk attention (math in layers/attention/flash.h).
//   local:  per (row, chunk) in parallel: S = qq kq^T / c (BLAS), A = relu(S + r)^2, o = A v (BLAS)
//   global: bidirectional: KV = sum_g kl_g^T v_g (parallel reduction), o += ql KV / L
//           causal: segmented exclusive scan of kl_g^T v_g, o_g += ql_g state_g / norm_g
#include "core/dispatch.h"
#include "core/ops/copy.h"
#include "layers/attention/cpu/flash_cpu.h"
#include "layers/attention/cpu/flash_cpu_local.h"

namespace gau::attention {
namespace cpu_flash {

Geometry make_geometry(const Tensor& qq, const Tensor& v, const detail::FlashResolved& opt) {
  Geometry geo;
  geo.batch = qq.size(0);
  geo.n = qq.size(1);
  geo.s = qq.size(2);
  geo.e = v.size(2);
  geo.c = opt.chunk;
  geo.G = (geo.n + geo.c - 1) / geo.c;
  geo.causal = opt.causal;
  geo.norm = opt.linear_norm;
  geo.norm_n = opt.norm_n;
  geo.parallel = double(geo.batch) * double(geo.n) * double(geo.c + geo.s) * double(geo.s + geo.e) > double(1 << 20);
  geo.valid.assign(geo.batch, geo.n);
  if (opt.key_lengths.defined()) {
    const int64_t* len = opt.key_lengths.data<int64_t>();
    for (int64_t b = 0; b < geo.batch; ++b) geo.valid[b] = std::clamp<int64_t>(len[b], 0, geo.n);
  }
  return geo;
}

namespace {

template <typename A>
detail::FlashForwardResult forward(const Tensor& qq_t, const Tensor& kq_t, const Tensor& ql_t, const Tensor& kl_t,
                                   const Tensor& v_t, const detail::FlashResolved& opt) {
  const Geometry geo = make_geometry(qq_t, v_t, opt);
  const int64_t n = geo.n, s = geo.s, e = geo.e;
  const A *qq = qq_t.data<A>(), *kq = kq_t.data<A>(), *ql = ql_t.data<A>(), *kl = kl_t.data<A>(), *v = v_t.data<A>();
  const A* bias = opt.bias.defined() ? opt.bias.data<A>() : nullptr;
  Tensor o_t = Tensor::empty({geo.batch, n, e}, dtype_of<A>::value);
  A* o = o_t.data<A>();
  BlasSingleThread blas_guard(geo.parallel && omp_get_max_threads() > 1);

  {
    Scratch<A> scratch(geo.max_rows() * geo.max_rows());
    for_each_chunk(geo, [&](int64_t b, int64_t g, int thread) {
      local_forward_chunk(geo, qq, kq, v, bias, b, g, o, scratch.at(thread));
    });
  }

  // kl_g^T v_g over the chunk's valid keys, added to the s x e matrix x.
  auto add_kv = [&](int64_t b, int64_t g, A* x) {
    const int64_t row0 = b * n + geo.start(g);
    gemm<A>(true, false, s, e, geo.keys(b, g), A(1), kl + row0 * s, s, v + row0 * e, e, A(1), x, e);
  };
  // o_g += ql_g x / norm_g.
  auto apply = [&](int64_t b, int64_t g, const A* x) {
    const int64_t row0 = b * n + geo.start(g);
    const A inv = A(geo.inv_norm(b, g));
    if (inv == A(0)) return;
    gemm<A>(false, false, geo.rows(g), e, s, inv, ql + row0 * s, s, x, e, A(1), o + row0 * e, e);
  };

  Tensor states;
  if (!geo.causal) {
    states = Tensor::empty({geo.batch, 1, s, e}, dtype_of<A>::value);
    A* kv = states.data<A>();
    chunk_total<A>(geo, kv, add_kv);
    for_each_chunk(geo, [&](int64_t b, int64_t g, int) { apply(b, g, kv + b * s * e); });
  } else if (opt.save_states) {
    states = Tensor::empty({geo.batch, geo.G, s, e}, dtype_of<A>::value);
    A* st = states.data<A>();
    chunk_scan<A>(geo, false, add_kv, [&](int64_t b, int64_t g, const A* x) {
      std::copy(x, x + s * e, st + (b * geo.G + g) * s * e);
      apply(b, g, x);
    });
  } else {
    chunk_scan<A>(geo, false, add_kv, apply);
  }
  return {o_t, states};
}

}  // namespace
}  // namespace cpu_flash

namespace detail {

FlashForwardResult flash_forward_cpu(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                     const Tensor& v, const FlashResolved& opt) {
  const DType dtype = qq.dtype(), cdt = cpu_flash::compute_dtype(dtype);
  auto c = [&](const Tensor& x) { return ops::to_dtype(x, cdt); };
  FlashForwardResult r;
  if (cdt == DType::f64) {
    r = cpu_flash::forward<double>(qq, kq, ql, kl, v, opt);
  } else {
    r = cpu_flash::forward<float>(c(qq), c(kq), c(ql), c(kl), c(v), opt);
  }
  r.o = ops::to_dtype(r.o, dtype);
  return r;
}

}  // namespace detail
}  // namespace gau::attention
