// FlashDecodeState: token-by-token causal FLASH (math in flash.h). For the token at position t,
// in chunk g = t / c at offset p = t % c:
//   quad = sum_{j <= p} relu(qq . kq_j / c + r[p - j])^2 v_j      (the chunk's keys so far)
//   lin  = ql state / norm_g                                      (state: completed chunks only)
//   pending += kl^T v;  at the chunk's end: state += pending, pending = 0
// so a step costs O(c (s + e) + s e) whatever t is. The state lives on the CPU in f32 (f64 for
// f64): CUDA inputs are copied over and the output copied back.
#include <omp.h>

#include <algorithm>
#include <limits>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/attention/flash.h"
#include "layers/attention/flash_backend.h"

namespace gau::attention {

namespace {

template <typename A>
void decode_step(int64_t batch, int64_t s, int64_t e, int64_t c, int64_t position, const A* bias, double inv_norm,
                 const A* qq, const A* kq, const A* ql, const A* kl, const A* v, A* state, A* pending, A* keys,
                 A* values, A* o, bool chunk_end) {
  const int64_t p = position % c;
  // One token is little work: a parallel region only pays off for large batches.
  const bool parallel = double(batch) * double(c * (s + e) + s * e) > double(1 << 18);
#pragma omp parallel for if (parallel)
  for (int64_t b = 0; b < batch; ++b) {
    const A *q = qq + b * s, *k = kq + b * s, *lq = ql + b * s, *lk = kl + b * s, *vb = v + b * e;
    A* K = keys + b * c * s;
    A* V = values + b * c * e;
    A* out = o + b * e;
    std::copy(k, k + s, K + p * s);
    std::copy(vb, vb + e, V + p * e);
    std::fill(out, out + e, A(0));
    for (int64_t j = 0; j <= p; ++j) {
      A dot = 0;
      for (int64_t d = 0; d < s; ++d) dot += q[d] * K[j * s + d];
      A x = dot / A(c) + (bias ? bias[p - j + c - 1] : A(0));
      if (x <= A(0)) continue;
      const A a = x * x;
      for (int64_t d = 0; d < e; ++d) out[d] += a * V[j * e + d];
    }
    A* st = state + b * s * e;
    A* pe = pending + b * s * e;
    if (inv_norm != 0) {
      for (int64_t d = 0; d < s; ++d) {
        const A w = lq[d] * A(inv_norm);
        for (int64_t f = 0; f < e; ++f) out[f] += w * st[d * e + f];
      }
    }
    for (int64_t d = 0; d < s; ++d)
      for (int64_t f = 0; f < e; ++f) pe[d * e + f] += lk[d] * vb[f];
    if (chunk_end) {
      for (int64_t i = 0; i < s * e; ++i) st[i] += pe[i];
      std::fill(pe, pe + s * e, A(0));
    }
  }
}

}  // namespace

FlashDecodeState::FlashDecodeState(int64_t batch, int64_t s, int64_t e, const FlashOptions& opt, DType dtype,
                                   Device device)
    : opt_(opt), batch_(batch), s_(s), e_(e), dtype_(dtype), device_(device) {
  GAU_CHECK(opt.causal, "FlashDecodeState: decoding needs causal = true");
  GAU_CHECK(opt.chunk > 0, "FlashDecodeState: chunk size c must be positive, got ", opt.chunk);
  GAU_CHECK(batch > 0 && s > 0 && e > 0, "FlashDecodeState: batch, s and e must be positive, got b = ", batch,
            ", s = ", s, ", e = ", e);
  GAU_CHECK(is_floating(dtype), "FlashDecodeState: expected a floating dtype, got ", dtype_name(dtype));
  GAU_CHECK(opt.linear_norm != LinearNorm::n || opt.max_length > 0,
            "FlashDecodeState: linear_norm = n needs max_length > 0 (the length the full forward divides by)");
  const DType cdt = detail::compute_dtype(dtype);
  if (opt.bias.defined()) {
    GAU_CHECK(opt.bias.dim() == 1 && opt.bias.size(0) == 2 * opt.chunk - 1, "FlashDecodeState: bias must be [",
              2 * opt.chunk - 1, "], got ", describe(opt.bias));
    opt_.bias = ops::contiguous(ops::to_dtype(ops::to_device(opt.bias.detach(), Device::cpu()), cdt));
  }
  state_ = ops::zeros({batch, s, e}, cdt);
  pending_ = ops::zeros({batch, s, e}, cdt);
  kq_ = ops::zeros({batch, opt.chunk, s}, cdt);
  v_ = ops::zeros({batch, opt.chunk, e}, cdt);
}

void FlashDecodeState::reset() {
  position_ = 0;
  ops::fill_(state_, 0);
  ops::fill_(pending_, 0);
}

Tensor FlashDecodeState::step(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl, const Tensor& v) {
  const Tensor* qk[] = {&qq, &kq, &ql, &kl};
  for (const Tensor* t : qk) {
    GAU_CHECK(t->defined() && t->dim() == 2 && t->size(0) == batch_ && t->size(1) == s_,
              "FlashDecodeState::step: qq, kq, ql, kl must be [b, s] = [", batch_, ", ", s_, "], got ",
              t->defined() ? describe(*t) : std::string("undefined"));
  }
  GAU_CHECK(v.defined() && v.dim() == 2 && v.size(0) == batch_ && v.size(1) == e_,
            "FlashDecodeState::step: v must be [b, e] = [", batch_, ", ", e_, "], got ",
            v.defined() ? describe(v) : std::string("undefined"));
  for (const Tensor* t : {&qq, &kq, &ql, &kl, &v}) {
    GAU_CHECK(t->dtype() == dtype_ && t->device() == device_, "FlashDecodeState::step: expected ",
              dtype_name(dtype_), " on ", device_, ", got ", describe(*t));
  }
  const DType cdt = detail::compute_dtype(dtype_);
  auto host = [&](const Tensor& x) {
    return ops::contiguous(ops::to_dtype(ops::to_device(x.detach(), Device::cpu()), cdt));
  };
  const int64_t c = opt_.chunk, g = position_ / c;
  const double inv = detail::flash_inv_norm(true, opt_.linear_norm, double(opt_.max_length), c, g,
                                            std::numeric_limits<int64_t>::max());
  const bool chunk_end = position_ % c == c - 1;
  Tensor o = Tensor::empty({batch_, e_}, cdt);
  Tensor hq = host(qq), hk = host(kq), hql = host(ql), hkl = host(kl), hv = host(v);
  auto run = [&](auto tag) {
    using A = typename decltype(tag)::type;
    decode_step<A>(batch_, s_, e_, c, position_, opt_.bias.defined() ? opt_.bias.data<A>() : nullptr, inv,
                   hq.data<A>(), hk.data<A>(), hql.data<A>(), hkl.data<A>(), hv.data<A>(), state_.data<A>(),
                   pending_.data<A>(), kq_.data<A>(), v_.data<A>(), o.data<A>(), chunk_end);
  };
  if (cdt == DType::f64) {
    run(type_tag<double>{});
  } else {
    run(type_tag<float>{});
  }
  ++position_;
  return ops::to_device(ops::to_dtype(o, dtype_), device_);
}

}  // namespace gau::attention
