#pragma once
// Memory-efficient attention (docs/model.md, "Memory-efficient attention"): tiled forward and
// recompute-backward, never materialising an n x n matrix, on CPU and CUDA.
//
//   S = q k^T * scale + bias(pos_i - j)     (scale folded into the GEMM, never applied to S in memory)
//   softmax: O = softmax(S) v                 saves O and LSE (one float per row)
//   relu2:   O = relu(S)^2 v                  saves nothing but its inputs
//   laplace: O = 0.5 (1 + erf((S - mu) / (sigma sqrt 2))) v,  mu = sqrt(1/2), sigma = sqrt(1/(4 pi))
//
// Shapes: q [b, h, n_q, s], k [b, h, n_k, s], v [b, h, n_k, e] -> o [b, h, n_q, e].
// GAU is h = 1, s = 128, e = 2d; e may differ from s.
//
// Positions: key j sits at position j and query i at pos_i = i + (n_k - n_q), the queries being
// the last n_q positions (a KV-cache step: new queries after the cached keys). The causal mask
// (query i sees keys j <= pos_i) and the relative bias (b(pos_i - j)) both use these positions,
// so the last m queries against n keys get exactly the mask and the biases of the same rows of
// the full n x n pass. Causal or not, the bias uses the same positions (one geometry, the mask
// only added on top). With n_q > n_k the first n_q - n_k queries sit before position 0: causal,
// they see no key and get O = 0.
#include <cstdint>

#include "core/tensor.h"

namespace gau::attention {

enum class Kernel { softmax, relu2, laplace };
enum class Backend { automatic, gau, cudnn };

const char* kernel_name(Kernel k);
Kernel kernel_from_name(const std::string& name);  // "softmax" | "relu2" | "laplace"

// Additive relative-position bias b(rel), rel = pos_i - j (above), expanded inside the tiles.
struct RelativeBias {
  enum class Kind { none, per_offset, t5_buckets };
  Kind kind = Kind::none;
  // per_offset: [2 * max_offset + 1] indexed by clamp(rel, -max_offset, max_offset) + max_offset.
  // t5_buckets: [num_buckets], indexed by the T5 bucket of rel.
  Tensor table;
  int64_t max_offset = 0;
  int64_t num_buckets = 32;
  int64_t max_distance = 128;
  bool bidirectional = true;  // T5: separate buckets for keys before and after the query
};

struct AttentionOptions {
  Kernel kernel = Kernel::softmax;
  bool causal = false;
  // Multiplies q k^T. 0 picks the default: 1/sqrt(s) for softmax and laplace, 1/n_k for relu2.
  double scale = 0;
  // The "inv_n" rule of relu2 and laplace (docs/model.md, GAU: relu^2(q k^T / n) with n the valid
  // length): scale = 1 / L_b for every query of batch row b, L_b = its valid keys (key_lengths[b],
  // the true entries of key_mask[b], or n_k without padding; causal masking does not change L_b;
  // a row with L_b = 0 has no weights). Without padding this is relu2's default 1/n_k.
  // An error together with an explicit scale, and with softmax (which normalises its weights).
  // A decode step against n_k cached keys divides by its own n_k: to reproduce a full pass of
  // length n row by row, give scale = 1/n instead.
  bool scale_by_valid_length = false;
  // softmax_plus (GAU-α; docs/model.md): when > 1, scale · log(L_b) / log(log_length_base) for the
  // queries of batch row b, L_b as above, so that the scores sharpen with the length instead of the
  // weights flattening over more keys (the entropy stays near that of a log_length_base-key row).
  // 0 = off; an error together with scale_by_valid_length. Any kernel. A decode step against n_k
  // cached keys takes log(n_k): to reproduce a full pass of length n, give the scale with log(n) in.
  double log_length_base = 0;
  Tensor key_lengths;  // optional [b] i32/i64: keys j >= key_lengths[b] are padding
  Tensor key_mask;     // optional [b, n_k] bool, true = attend (the alternative to key_lengths)
  RelativeBias bias;
  double dropout_p = 0;  // on the attention weights; the mask is regenerated from (seed, offset)
  uint64_t seed = 0;
  uint64_t offset = 0;
  // automatic = gau's kernels. cudnn (opt-in; GPU, softmax only): the cuDNN SDPA graphs, where a
  // call they do not take runs on gau's kernels and a cuDNN with known SDPA bugs is refused with an
  // error naming its version (layers/attention/cudnn_route.h).
  Backend backend = Backend::automatic;
};

// Differentiable in q, k, v and the bias table (through autograd's Function API). Not named
// `attention`: with `using namespace gau; using namespace gau::attention;` that name would be both
// the namespace and the function, and every unqualified call ambiguous.
Tensor dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opt = {});

}  // namespace gau::attention
