// CPU backward of FLASH mixed chunk attention (math in layers/attention/flash.h).
//
// local: per (row, chunk) in parallel, recomputing the chunk's scores (flash_cpu_local.h).
// global, with H_g the state chunk g read in the forward and N_g its normaliser:
//   d_ql_g = d_o_g H_g^T / N_g                       (H_g: a forward scan, or the saved states)
//   D_h    = sum over chunks g that read kl_h^T v_h of ql_g^T d_o_g / N_g
//   d_kl_h = v_h D_h^T;   d_v_h += kl_h D_h          (valid keys only)
// causal: H_g = sum_{h<g}, so D_h = sum_{g>h}: a reverse scan, a running suffix sum of the
// per-chunk dstate. Nothing G x s x e is kept unless the forward saved its states.
// bidirectional: H and D are one s x e matrix per row each (D by a parallel reduction).
#include "core/ops/copy.h"
#include "layers/attention/cpu/flash_cpu.h"
#include "layers/attention/cpu/flash_cpu_local.h"

namespace gau::attention {
namespace cpu_flash {
namespace {

template <typename A>
detail::FlashBackwardResult backward(const Tensor& qq_t, const Tensor& kq_t, const Tensor& ql_t, const Tensor& kl_t,
                                     const Tensor& v_t, const Tensor& states_t, const Tensor& d_o_t,
                                     const detail::FlashResolved& opt) {
  const Geometry geo = make_geometry(qq_t, v_t, opt);
  const int64_t n = geo.n, s = geo.s, e = geo.e, se = s * e;
  const DType dt = dtype_of<A>::value;
  const A *qq = qq_t.data<A>(), *kq = kq_t.data<A>(), *ql = ql_t.data<A>(), *kl = kl_t.data<A>(), *v = v_t.data<A>();
  const A* d_o = d_o_t.data<A>();
  const A* bias = opt.bias.defined() ? opt.bias.data<A>() : nullptr;

  detail::FlashBackwardResult r;
  r.d_qq = Tensor::empty(qq_t.shape(), dt);
  r.d_kq = Tensor::empty(qq_t.shape(), dt);
  r.d_ql = Tensor::empty(qq_t.shape(), dt);
  r.d_kl = Tensor::empty(qq_t.shape(), dt);
  r.d_v = Tensor::empty(v_t.shape(), dt);
  A *d_qq = r.d_qq.data<A>(), *d_kq = r.d_kq.data<A>(), *d_ql = r.d_ql.data<A>(), *d_kl = r.d_kl.data<A>();
  A* d_v = r.d_v.data<A>();
  BlasSingleThread blas_guard(geo.parallel && omp_get_max_threads() > 1);

  // Local part; it overwrites d_qq, d_kq and d_v (the global part adds into d_v afterwards).
  {
    const int64_t nb = bias ? 2 * geo.c - 1 : 0;
    Scratch<A> scratch(2 * geo.max_rows() * geo.max_rows() + nb);
    if (bias) {
      for (int t = 0; t < omp_get_max_threads(); ++t) std::fill(scratch.at(t), scratch.at(t) + nb, A(0));
    }
    for_each_chunk(geo, [&](int64_t b, int64_t g, int thread) {
      A* w = scratch.at(thread);
      local_backward_chunk(geo, qq, kq, v, bias, d_o, b, g, d_qq, d_kq, d_v, bias ? w : nullptr, w + nb);
    });
    if (bias) {
      r.d_bias = Tensor::empty({nb}, dt);
      A* db = r.d_bias.data<A>();
      std::fill(db, db + nb, A(0));
      for (int t = 0; t < omp_get_max_threads(); ++t)
        for (int64_t j = 0; j < nb; ++j) db[j] += scratch.at(t)[j];
    }
  }

  auto row0 = [&](int64_t b, int64_t g) { return b * n + geo.start(g); };
  // Forward-state contribution of chunk h: x += kl_h^T v_h (valid keys).
  auto add_kv = [&](int64_t b, int64_t h, A* x) {
    gemm<A>(true, false, s, e, geo.keys(b, h), A(1), kl + row0(b, h) * s, s, v + row0(b, h) * e, e, A(1), x, e);
  };
  // Backward-state contribution of chunk g: x += ql_g^T d_o_g / N_g.
  auto add_dstate = [&](int64_t b, int64_t g, A* x) {
    const A inv = A(geo.inv_norm(b, g));
    if (inv == A(0)) return;
    gemm<A>(true, false, s, e, geo.rows(g), inv, ql + row0(b, g) * s, s, d_o + row0(b, g) * e, e, A(1), x, e);
  };
  // d_ql_g = d_o_g H^T / N_g (overwrite).
  auto grad_ql = [&](int64_t b, int64_t g, const A* h) {
    gemm<A>(false, true, geo.rows(g), s, e, A(geo.inv_norm(b, g)), d_o + row0(b, g) * e, e, h, e, A(0),
            d_ql + row0(b, g) * s, s);
  };
  // d_kl_h = v_h D^T (overwrite, zero past the valid keys); d_v_h += kl_h D.
  auto grad_kl_v = [&](int64_t b, int64_t h, const A* dst) {
    const int64_t kv = geo.keys(b, h), rows = geo.rows(h);
    A* dk = d_kl + row0(b, h) * s;
    gemm<A>(false, true, kv, s, e, A(1), v + row0(b, h) * e, e, dst, e, A(0), dk, s);
    std::fill(dk + kv * s, dk + rows * s, A(0));
    gemm<A>(false, false, kv, e, s, A(1), kl + row0(b, h) * s, s, dst, e, A(1), d_v + row0(b, h) * e, e);
  };

  if (!geo.causal) {
    // states [b, 1, s, e] holds the forward KV sum; the dstate sum is one reduction.
    const A* kvsum = states_t.data<A>();
    Tensor dkv_t = Tensor::empty({geo.batch, s, e}, dt);
    A* dkv = dkv_t.data<A>();
    chunk_total<A>(geo, dkv, add_dstate);
    for_each_chunk(geo, [&](int64_t b, int64_t g, int) {
      grad_ql(b, g, kvsum + b * se);
      grad_kl_v(b, g, dkv + b * se);
    });
  } else {
    if (states_t.defined()) {
      const A* st = states_t.data<A>();
      for_each_chunk(geo, [&](int64_t b, int64_t g, int) { grad_ql(b, g, st + (b * geo.G + g) * se); });
    } else {
      chunk_scan<A>(geo, false, add_kv, grad_ql);
    }
    chunk_scan<A>(geo, true, add_dstate, grad_kl_v);
  }
  return r;
}

}  // namespace
}  // namespace cpu_flash

namespace detail {

FlashBackwardResult flash_backward_cpu(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                       const Tensor& v, const Tensor& states, const Tensor& d_o,
                                       const FlashResolved& opt) {
  const DType dtype = qq.dtype(), cdt = cpu_flash::compute_dtype(dtype);
  auto c = [&](const Tensor& x) { return ops::to_dtype(x, cdt); };
  FlashBackwardResult r;
  if (cdt == DType::f64) {
    r = cpu_flash::backward<double>(qq, kq, ql, kl, v, states, d_o, opt);
  } else {
    r = cpu_flash::backward<float>(c(qq), c(kq), c(ql), c(kl), c(v), states, c(d_o), opt);
  }
  for (Tensor* t : {&r.d_qq, &r.d_kq, &r.d_ql, &r.d_kl, &r.d_v}) *t = ops::to_dtype(*t, dtype);
  return r;
}

}  // namespace detail
}  // namespace gau::attention
