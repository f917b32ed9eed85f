#pragma once
// Launchers of the CUDA kernels of FLASH's global (linear) part, called by flash_cuda.cu.
// Every array is in the padded chunk layout: a batch row holds G chunks of exactly c rows
// (N = G c tokens), chunk bg = b * G + g starts at row bg * c. Storage is bf16 or f16; states
// and accumulation are f32.
#include <cuda_runtime.h>

#include <cstdint>

#include "layers/attention/flash.h"

namespace gau::attention::detail::flash_cuda {

enum class Elem { bf16, f16 };

// Per chunk bg: keys[bg] = valid keys of the chunk (i64, also the local part's key_lengths) and
// inv[bg] = 1 / norm_g of its linear part (0: none). lengths [b] i64 or null (all n valid).
void launch_chunk_meta(const int64_t* lengths, int64_t b, int64_t G, int64_t n, int64_t c, bool causal,
                       LinearNorm norm, double norm_n, int64_t* keys, float* inv, cudaStream_t stream);

// out[bg] (f32 [kx, ky]) = (scale ? scale[bg] : 1) * sum over rows r < (limit ? limit[bg] : c) of
// x[bg c + r, :]^T y[bg c + r, :];  x [bG c, kx], y [bG c, ky].
void launch_chunk_outer(Elem t, int64_t bG, int64_t c, int64_t kx, int64_t ky, const void* x, const void* y,
                        const float* scale, const int64_t* limit, float* out, cudaStream_t stream);

// In place over chunks g of each row b of states [b, G, len] f32: exclusive prefix (reverse:
// suffix) sums; total: states[b, 0] = the sum over g instead (only entry 0 is written).
void launch_chunk_scan(int64_t b, int64_t G, int64_t len, bool reverse, bool total, float* states,
                       cudaStream_t stream);

// out[bg c + r, :] (T [bG c, w]) = (addend ? addend[...] : 0) + alpha[bg] * x[bg c + r, :] op(M[bg])
// for r < (limit ? limit[bg] : c), and = addend (or 0) for the rows past the limit.
//   x [bG c, k] T;  M f32: trans_m ? [w, k] : [k, w], one per chunk when per_chunk_m (M[bg]), else
//   one per batch row shared by its G chunks (M[bg / G], the bidirectional total).
void launch_chunk_apply(Elem t, int64_t bG, int64_t G, int64_t c, int64_t k, int64_t w, const void* x,
                        const float* m, bool per_chunk_m, bool trans_m, const float* alpha, const int64_t* limit,
                        const void* addend, void* out, cudaStream_t stream);

}  // namespace gau::attention::detail::flash_cuda
