// Host side of the CUDA FLASH backend (flash_backend.h).
//
// Inputs are brought to the padded chunk layout [b, G c, .] (a copy only when c does not divide n).
// local part: the tiled relu^2 attention kernels of the attention backend on a chunked view:
//   q [b, G c, s] viewed as [b G, 1, c, s] is exactly block-diagonal attention, with scale 1/c,
//   per-chunk key lengths (key_lengths and the padding) and the per-offset bias (radius c - 1).
// global part (flash_kernels.cu), f32 states:
//   P_g = K_g^T V_g per chunk; causal: exclusive prefix over chunks; bidirectional: the total;
//   o = quad + inv_g Q_g state_g.
// backward: d_ql = inv_g dO_g H_g^T; dH_g = inv_g Q_g^T dO_g; D = exclusive suffix (causal) or
//   total (bidirectional); d_kl = V D^T, d_v = d_v_local + K D on valid keys.
#include <cuda_runtime.h>

#include "core/cuda/context.h"
#include "core/ops/view.h"
#include "layers/attention/attention_backend.h"
#include "layers/attention/cuda/flash_kernels.h"
#include "layers/attention/flash_backend.h"

namespace gau::attention::detail {

namespace {

using flash_cuda::Elem;

struct Layout {
  int64_t b, n, s, e, c, G, N;
  Elem elem;
  cudaStream_t stream;
  Device dev;
};

Layout layout_of(const Tensor& qq, const Tensor& v, const FlashResolved& opt) {
  Layout l;
  l.b = qq.size(0), l.n = qq.size(1), l.s = qq.size(2), l.e = v.size(2), l.c = opt.chunk;
  l.G = (l.n + l.c - 1) / l.c;
  l.N = l.G * l.c;
  l.elem = qq.dtype() == DType::bf16 ? Elem::bf16 : Elem::f16;
  l.dev = qq.device();
  l.stream = cuda::current_cuda_stream(l.dev);
  return l;
}

// `rows` blocks of `width` bytes from src (one every src_pitch bytes) to dst (one every dst_pitch).
// One copy per block rather than cudaMemcpy2DAsync: a batch row of FLASH's states passes that
// call's pitch limit (2^31 - 1 bytes) at long n, and b is small.
void copy_blocks(void* dst, int64_t dst_pitch, const void* src, int64_t src_pitch, int64_t width, int64_t rows,
                 cudaStream_t stream) {
  for (int64_t r = 0; r < rows; ++r) {
    char* to = static_cast<char*>(dst) + r * dst_pitch;
    const char* from = static_cast<const char*>(src) + r * src_pitch;
    GAU_CUDA_CHECK(cudaMemcpyAsync(to, from, static_cast<size_t>(width), cudaMemcpyDeviceToDevice, stream));
  }
}

// x [b, n, w] -> [b, N, w], zero rows past n (x itself when N == n).
Tensor pad(const Layout& l, const Tensor& x) {
  if (l.N == l.n) return x;
  const int64_t w = x.size(2), es = static_cast<int64_t>(x.element_size());
  Tensor y = Tensor::empty({l.b, l.N, w}, x.dtype(), l.dev);
  GAU_CUDA_CHECK(cudaMemsetAsync(y.data_ptr(), 0, y.nbytes(), l.stream));
  copy_blocks(y.data_ptr(), l.N * w * es, x.data_ptr(), l.n * w * es, l.n * w * es, l.b, l.stream);
  return y;
}

// y [b, N, w] -> [b, n, w] (y itself when N == n).
Tensor unpad(const Layout& l, const Tensor& y) {
  if (l.N == l.n || !y.defined()) return y;
  const int64_t w = y.size(-1), es = static_cast<int64_t>(y.element_size());
  Tensor x = Tensor::empty({l.b, l.n, w}, y.dtype(), l.dev);
  copy_blocks(x.data_ptr(), l.n * w * es, y.data_ptr(), l.N * w * es, l.n * w * es, l.b, l.stream);
  return x;
}

struct Meta {
  Tensor keys;  // [b G] i64: valid keys per chunk
  Tensor inv;   // [b G] f32: 1 / norm_g
};

Meta chunk_meta(const Layout& l, const FlashResolved& opt) {
  Meta m;
  m.keys = Tensor::empty({l.b * l.G}, DType::i64, l.dev);
  m.inv = Tensor::empty({l.b * l.G}, DType::f32, l.dev);
  const int64_t* lengths = opt.key_lengths.defined() ? opt.key_lengths.data<int64_t>() : nullptr;
  flash_cuda::launch_chunk_meta(lengths, l.b, l.G, l.n, l.c, opt.causal, opt.linear_norm, opt.norm_n,
                                m.keys.data<int64_t>(), m.inv.data<float>(), l.stream);
  return m;
}

// The local part's options: relu^2 over each chunk, as the attention backend sees it.
ResolvedOptions local_options(const FlashResolved& opt, const Meta& m) {
  ResolvedOptions r;
  r.kernel = Kernel::relu2;
  r.causal = opt.causal;
  r.scale = 1.0 / static_cast<double>(opt.chunk);
  r.key_lengths = m.keys;
  if (opt.bias.defined()) {
    r.bias.kind = RelativeBias::Kind::per_offset;
    r.bias.table = opt.bias;
    r.bias.max_offset = opt.chunk - 1;
  }
  return r;
}

Tensor chunked(const Layout& l, const Tensor& x) { return ops::view(x, {l.b * l.G, 1, l.c, x.size(2)}); }

// P [b, G, s, e] f32 = per-chunk x_g^T y_g (scaled by scale[bg], over limit[bg] rows).
Tensor chunk_outer(const Layout& l, const Tensor& x, const Tensor& y, const float* scale, const int64_t* limit) {
  Tensor p = Tensor::empty({l.b, l.G, x.size(2), y.size(2)}, DType::f32, l.dev);
  flash_cuda::launch_chunk_outer(l.elem, l.b * l.G, l.c, x.size(2), y.size(2), x.data_ptr(), y.data_ptr(), scale,
                                 limit, p.data<float>(), l.stream);
  return p;
}

// The sum over chunks of p [b, G, s, e], as [b, 1, s, e] (p is overwritten).
Tensor chunk_total(const Layout& l, const Tensor& p) {
  const int64_t len = p.size(2) * p.size(3);
  flash_cuda::launch_chunk_scan(l.b, l.G, len, false, true, p.data<float>(), l.stream);
  Tensor t = Tensor::empty({l.b, 1, p.size(2), p.size(3)}, DType::f32, l.dev);
  copy_blocks(t.data_ptr(), len * 4, p.data_ptr(), l.G * len * 4, len * 4, l.b, l.stream);
  return t;
}

// out [b, N, w] = addend + alpha x op(m) on the first limit rows of each chunk.
Tensor chunk_apply(const Layout& l, const Tensor& x, const Tensor& m, bool trans_m, const float* alpha,
                   const int64_t* limit, const Tensor& addend, DType dtype) {
  const bool per_chunk = m.size(1) == l.G && l.G > 1;
  const int64_t k = x.size(2), w = trans_m ? m.size(2) : m.size(3);
  Tensor out = Tensor::empty({l.b, l.N, w}, dtype, l.dev);
  flash_cuda::launch_chunk_apply(l.elem, l.b * l.G, l.G, l.c, k, w, x.data_ptr(), m.data<float>(), per_chunk, trans_m,
                                 alpha, limit, addend.defined() ? addend.data_ptr() : nullptr, out.data_ptr(),
                                 l.stream);
  return out;
}

void check(const char* op, const Tensor& qq, const Tensor& v, const FlashResolved& opt) {
  std::string why;
  GAU_CHECK(flash_cuda_supports(qq.dtype(), qq.size(2), v.size(2), opt.chunk, &why), op, ": ", why);
  GAU_CHECK(!opt.bias.defined() || (opt.bias.dtype() == DType::f32 && opt.bias.is_contiguous()), op,
            ": the bias table must be contiguous f32, got ", describe(opt.bias));
  // One grid z-slice per chunk in the kernels of both parts.
  const int64_t chunks = qq.size(0) * ((qq.size(1) + opt.chunk - 1) / opt.chunk);
  GAU_CHECK(chunks <= 65535, op, ": at most 65535 chunks per call (b * ceil(n / c)), got ", chunks, " for ",
            describe(qq), " and c = ", opt.chunk, "; use a larger chunk or split the batch");
}

}  // namespace

bool flash_cuda_supports(DType dtype, int64_t s, int64_t e, int64_t c, std::string* why_not) {
  std::string why;
  if (dtype != DType::bf16 && dtype != DType::f16) {
    why = ::gau::detail::concat("CUDA flash_attention supports bf16 and f16 (f32 state and accumulation), got ",
                                dtype_name(dtype), "; cast the inputs or run on the CPU");
  } else if (!cuda_supports(dtype, s, e, &why)) {
    why = "its local part runs on the CUDA attention kernels: " + why;
  } else if (c < 1) {
    why = ::gau::detail::concat("chunk size must be positive, got ", c);
  }
  if (!why.empty() && why_not != nullptr) *why_not = why;
  return why.empty();
}

FlashForwardResult flash_forward_cuda(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                      const Tensor& v, const FlashResolved& opt) {
  check("flash_attention forward (CUDA)", qq, v, opt);
  cuda::DeviceGuard guard(qq.device());
  const Layout l = layout_of(qq, v, opt);
  Tensor Q = pad(l, qq), K = pad(l, kq), QL = pad(l, ql), KL = pad(l, kl), V = pad(l, v);
  const Meta m = chunk_meta(l, opt);
  const float* inv = m.inv.data<float>();
  const int64_t* keys = m.keys.data<int64_t>();

  ForwardResult local = forward_cuda(chunked(l, Q), chunked(l, K), chunked(l, V), local_options(opt, m));
  Tensor quad = ops::view(local.o, {l.b, l.N, l.e});

  Tensor p = chunk_outer(l, KL, V, nullptr, keys);
  FlashForwardResult r;
  Tensor state;
  if (opt.causal) {
    flash_cuda::launch_chunk_scan(l.b, l.G, l.s * l.e, false, false, p.data<float>(), l.stream);
    state = p;
    if (opt.save_states) r.states = p;
  } else {
    state = chunk_total(l, p);
    r.states = state;
  }
  r.o = unpad(l, chunk_apply(l, QL, state, false, inv, nullptr, quad, qq.dtype()));
  return r;
}

FlashBackwardResult flash_backward_cuda(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                        const Tensor& v, const Tensor& states, const Tensor& d_o,
                                        const FlashResolved& opt) {
  check("flash_attention backward (CUDA)", qq, v, opt);
  cuda::DeviceGuard guard(qq.device());
  const Layout l = layout_of(qq, v, opt);
  Tensor Q = pad(l, qq), K = pad(l, kq), QL = pad(l, ql), KL = pad(l, kl), V = pad(l, v), dO = pad(l, d_o);
  const Meta m = chunk_meta(l, opt);
  const float* inv = m.inv.data<float>();
  const int64_t* keys = m.keys.data<int64_t>();

  // relu^2 saves nothing but its inputs: the attention backward reads no o, and no LSE.
  Tensor dO4 = chunked(l, dO);
  BackwardResult local = backward_cuda(chunked(l, Q), chunked(l, K), chunked(l, V), dO4, Tensor(), dO4,
                                       local_options(opt, m));

  Tensor h = states;  // causal: per-chunk prefix states; bidirectional: [b, 1, s, e]
  if (opt.causal && !h.defined()) {
    h = chunk_outer(l, KL, V, nullptr, keys);
    flash_cuda::launch_chunk_scan(l.b, l.G, l.s * l.e, false, false, h.data<float>(), l.stream);
  }
  FlashBackwardResult r;
  r.d_ql = unpad(l, chunk_apply(l, dO, h, true, inv, nullptr, Tensor(), qq.dtype()));
  Tensor dh = chunk_outer(l, QL, dO, inv, nullptr);
  Tensor dstate;
  if (opt.causal) {
    flash_cuda::launch_chunk_scan(l.b, l.G, l.s * l.e, true, false, dh.data<float>(), l.stream);
    dstate = dh;
  } else {
    dstate = chunk_total(l, dh);
  }
  r.d_kl = unpad(l, chunk_apply(l, V, dstate, true, nullptr, keys, Tensor(), qq.dtype()));
  Tensor d_v_local = ops::view(local.d_v, {l.b, l.N, l.e});
  r.d_v = unpad(l, chunk_apply(l, KL, dstate, false, nullptr, keys, d_v_local, qq.dtype()));
  r.d_qq = unpad(l, ops::view(local.d_q, {l.b, l.N, l.s}));
  r.d_kq = unpad(l, ops::view(local.d_k, {l.b, l.N, l.s}));
  r.d_bias = local.d_bias;
  return r;
}

}  // namespace gau::attention::detail
