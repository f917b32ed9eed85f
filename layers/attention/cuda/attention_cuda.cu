// Host side of the CUDA attention backend (attention_backend.h): checks what the kernels support,
// resolves per-batch-row lengths and scales on the device, tabulates the relative bias index, and
// allocates outputs and workspace as gau Tensors on the current stream.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "core/cuda/context.h"
#include "layers/attention/attention_backend.h"
#include "layers/attention/cpu/attention_math.h"
#include "layers/attention/cuda/attention_kernels.h"
#include "layers/attention/row_scale.h"

namespace gau::attention::detail {

namespace {

using cuda_impl::TileParams;

constexpr int64_t kMaxValueWidth = 2048;

__global__ void prepare_rows_kernel(const int64_t* __restrict__ lengths, const uint8_t* __restrict__ key_mask,
                                    int64_t n_k, double scale, bool by_valid_length, double log_length_base,
                                    float* __restrict__ row_scales,
                                    int* __restrict__ kv_len) {
  __shared__ int64_t counts[256];
  const int64_t b = blockIdx.x;
  int64_t len = lengths != nullptr ? lengths[b] : n_k;
  len = len < 0 ? 0 : (len > n_k ? n_k : len);
  int64_t count = 0;
  if (key_mask != nullptr) {
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) count += key_mask[b * n_k + j] != 0;
  }
  counts[threadIdx.x] = count;
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t valid = len;
    if (key_mask != nullptr) {
      valid = 0;
      for (int t = 0; t < blockDim.x; ++t) valid += counts[t];
    }
    kv_len[b] = static_cast<int>(len);
    row_scales[b] = static_cast<float>(row_scale(scale, by_valid_length, log_length_base, valid));
  }
}

// Workspace that lives as long as one forward or backward call.
struct Prepared {
  TileParams p;
  Tensor row_scale;  // [b] f32
  Tensor kv_len;     // [b] i32
  Tensor bias_map;   // [2 R + 1] i32, T5 only
};

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

void check_inputs(const char* op, const Tensor& q, const Tensor& k, const Tensor& v) {
  std::string why;
  GAU_CHECK(q.is_cuda() && k.device() == q.device() && v.device() == q.device(), op,
            ": expected q, k, v on one CUDA device, got q ", describe(q), ", k ", describe(k), ", v ", describe(v));
  GAU_CHECK(cuda_supports(q.dtype(), q.size(3), v.size(3), &why), op, ": ", why);
  GAU_CHECK(k.dtype() == q.dtype() && v.dtype() == q.dtype(), op, ": q, k, v must share a dtype, got q ",
            describe(q), ", k ", describe(k), ", v ", describe(v));
  GAU_CHECK(q.is_contiguous() && k.is_contiguous() && v.is_contiguous(), op, ": expected contiguous q, k, v, got q ",
            describe(q), ", k ", describe(k), ", v ", describe(v));
}

Prepared prepare(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt,
                 cudaStream_t stream) {
  Prepared out;
  TileParams& p = out.p;
  const int64_t b = q.size(0);
  p.type = q.dtype() == DType::bf16 ? cuda_impl::ElemType::bf16 : cuda_impl::ElemType::f16;
  p.h = q.size(1);
  p.bh = b * p.h;
  p.n_q = q.size(2);
  p.n_k = k.size(2);
  p.s = q.size(3);
  p.e = v.size(3);
  p.kernel = opt.kernel == Kernel::softmax ? 0 : (opt.kernel == Kernel::relu2 ? 1 : 2);
  p.causal = opt.causal;
  p.dropout_p = static_cast<float>(opt.dropout_p);
  p.seed = opt.seed;
  p.offset = opt.offset;
  p.vec_ok = p.e % 8 == 0 && aligned16(q.data_ptr()) && aligned16(k.data_ptr()) && aligned16(v.data_ptr());

  const Device dev = q.device();
  out.row_scale = Tensor::empty({b}, DType::f32, dev);
  out.kv_len = Tensor::empty({b}, DType::i32, dev);
  const int64_t* lengths = nullptr;
  if (opt.key_lengths.defined()) {
    GAU_CHECK(opt.key_lengths.dtype() == DType::i64 && opt.key_lengths.is_contiguous() &&
                  opt.key_lengths.device() == dev && opt.key_lengths.numel() == b,
              "attention (CUDA): key_lengths must be contiguous i64 [", b, "] on ", dev, ", got ",
              describe(opt.key_lengths));
    lengths = static_cast<const int64_t*>(opt.key_lengths.data_ptr());
  }
  if (opt.key_mask.defined()) {
    GAU_CHECK(opt.key_mask.dtype() == DType::b8 && opt.key_mask.is_contiguous() && opt.key_mask.device() == dev &&
                  opt.key_mask.numel() == b * p.n_k,
              "attention (CUDA): key_mask must be contiguous bool [", b, ", ", p.n_k, "] on ", dev, ", got ",
              describe(opt.key_mask));
    p.key_mask = static_cast<const uint8_t*>(opt.key_mask.data_ptr());
  }
  // The scale in double, as on the CPU: row_scale() rounds to f32 once, after the log ratio.
  cuda_impl::launch_prepare_rows(lengths, p.key_mask, b, p.n_k, opt.scale,
                                 opt.scale_by_valid_length, opt.log_length_base,
                                 static_cast<float*>(out.row_scale.data_ptr()),
                                 static_cast<int*>(out.kv_len.data_ptr()), stream);
  p.row_scale = static_cast<const float*>(out.row_scale.data_ptr());
  p.kv_len = static_cast<const int*>(out.kv_len.data_ptr());

  const RelativeBias& bias = opt.bias;
  if (bias.kind != RelativeBias::Kind::none) {
    GAU_CHECK(bias.table.dtype() == DType::f32 && bias.table.is_contiguous() && bias.table.device() == dev,
              "attention (CUDA): the bias table must be contiguous f32 on ", dev, ", got ", describe(bias.table));
    p.bias_table = static_cast<const float*>(bias.table.data_ptr());
    if (bias.kind == RelativeBias::Kind::per_offset) {
      p.bias_radius = bias.max_offset;  // identity map: clamp(rel) + max_offset, as offset_bias_index
    } else {
      // Buckets saturate beyond +-max_distance, so a table over that range is exact; it is built
      // with the CPU's own t5_bucket so both backends index the bias identically.
      p.bias_radius = bias.max_distance;
      std::vector<int32_t> map(static_cast<size_t>(2 * p.bias_radius + 1));
      for (int64_t r = -p.bias_radius; r <= p.bias_radius; ++r)
        map[r + p.bias_radius] =
            static_cast<int32_t>(t5_bucket(r, bias.num_buckets, bias.max_distance, bias.bidirectional));
      out.bias_map = Tensor::empty({static_cast<int64_t>(map.size())}, DType::i32, dev);
      // From pageable memory the copy is staged before cudaMemcpyAsync returns, so `map` may go.
      GAU_CUDA_CHECK(cudaMemcpyAsync(out.bias_map.data_ptr(), map.data(), map.size() * sizeof(int32_t),
                                     cudaMemcpyHostToDevice, stream));
      p.bias_map = static_cast<const int*>(out.bias_map.data_ptr());
    }
  }
  return out;
}

}  // namespace

namespace cuda_impl {
void launch_prepare_rows(const int64_t* lengths, const uint8_t* key_mask, int64_t b, int64_t n_k, double scale,
                         bool by_valid_length, double log_length_base, float* row_scale, int* kv_len,
                         cudaStream_t stream) {
  if (b == 0) return;
  prepare_rows_kernel<<<static_cast<unsigned>(b), 256, 0, stream>>>(lengths, key_mask, n_k, scale, by_valid_length,
                                                                    log_length_base, row_scale, kv_len);
  GAU_CUDA_CHECK_LAUNCH();
}
}  // namespace cuda_impl

bool cuda_supports(DType dtype, int64_t s, int64_t e, std::string* why_not) {
  const bool ok = (dtype == DType::bf16 || dtype == DType::f16) && (s == 64 || s == 128) && e >= 1 &&
                  e <= kMaxValueWidth;
  if (!ok && why_not != nullptr) {
    *why_not = ::gau::detail::concat("the CUDA attention kernels support bf16 and f16 with s in {64, 128} and e <= ",
                              kMaxValueWidth, ", got ", dtype_name(dtype), " s=", s, " e=", e);
  }
  return ok;
}

ForwardResult forward_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt) {
  check_inputs("attention forward (CUDA)", q, k, v);
  cuda::DeviceGuard guard(q.device());
  cudaStream_t stream = cuda::current_cuda_stream(q.device());
  Prepared prep = prepare(q, k, v, opt, stream);
  ForwardResult res;
  res.o = Tensor::empty({q.size(0), q.size(1), q.size(2), v.size(3)}, q.dtype(), q.device());
  if (opt.kernel == Kernel::softmax) res.lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, DType::f32, q.device());
  cuda_impl::launch_forward(prep.p, q.data_ptr(), k.data_ptr(), v.data_ptr(), res.o.data_ptr(),
                            res.lse.defined() ? static_cast<float*>(res.lse.data_ptr()) : nullptr, stream);
  return res;
}

BackwardResult backward_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                             const Tensor& d_o, const ResolvedOptions& opt) {
  check_inputs("attention backward (CUDA)", q, k, v);
  const bool softmax = opt.kernel == Kernel::softmax;
  GAU_CHECK(o.dtype() == q.dtype() && d_o.dtype() == q.dtype() && o.is_contiguous() && d_o.is_contiguous() &&
                o.shape() == d_o.shape() && o.device() == q.device() && d_o.device() == q.device(),
            "attention backward (CUDA): o and d_o must be contiguous, like q's dtype and device, same shape; got q ",
            describe(q), ", o ", describe(o), ", d_o ", describe(d_o));
  GAU_CHECK(!softmax || (lse.defined() && lse.dtype() == DType::f32 && lse.is_contiguous()),
            "attention backward (CUDA): softmax needs the forward's f32 LSE, got ",
            lse.defined() ? describe(lse) : std::string("none"));
  cuda::DeviceGuard guard(q.device());
  cudaStream_t stream = cuda::current_cuda_stream(q.device());
  const Device dev = q.device();
  Prepared prep = prepare(q, k, v, opt, stream);
  prep.p.vec_ok = prep.p.vec_ok && aligned16(d_o.data_ptr());

  BackwardResult res;
  res.d_q = Tensor::empty(q.shape(), q.dtype(), dev);
  res.d_k = Tensor::empty(k.shape(), k.dtype(), dev);
  res.d_v = Tensor::empty(v.shape(), v.dtype(), dev);
  Tensor d_q_acc = Tensor::empty(q.shape(), DType::f32, dev);  // atomics target, converted at the end
  GAU_CUDA_CHECK(cudaMemsetAsync(d_q_acc.data_ptr(), 0, d_q_acc.nbytes(), stream));
  Tensor d_rows;
  if (softmax) d_rows = Tensor::empty({q.size(0), q.size(1), q.size(2)}, DType::f32, dev);
  if (opt.bias.kind != RelativeBias::Kind::none) {
    res.d_bias = Tensor::empty(opt.bias.table.shape(), DType::f32, dev);
    GAU_CUDA_CHECK(cudaMemsetAsync(res.d_bias.data_ptr(), 0, res.d_bias.nbytes(), stream));
  }

  cuda_impl::BackwardBuffers buf;
  buf.o = o.data_ptr();
  buf.lse = softmax ? static_cast<const float*>(lse.data_ptr()) : nullptr;
  buf.d_o = d_o.data_ptr();
  buf.d_rows = softmax ? static_cast<float*>(d_rows.data_ptr()) : nullptr;
  buf.d_q_acc = static_cast<float*>(d_q_acc.data_ptr());
  buf.d_q = res.d_q.data_ptr();
  buf.d_k = res.d_k.data_ptr();
  buf.d_v = res.d_v.data_ptr();
  buf.d_bias = res.d_bias.defined() ? static_cast<float*>(res.d_bias.data_ptr()) : nullptr;
  cuda_impl::launch_backward(prep.p, q.data_ptr(), k.data_ptr(), v.data_ptr(), buf, stream);
  return res;
}

}  // namespace gau::attention::detail
