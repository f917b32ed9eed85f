#pragma once
// Model FLOPs of one language-model training step (forward + backward, no optimizer update),
// counted analytically from the built model: what `gau bench model` divides by the step time to
// get the model FLOPs utilisation (MFU). Model FLOPs count the model's math once: no recompute
// (the attention backward's recomputed scores, checkpointing), no masked-out or padded work, and
// no elementwise ops (norms, SiLU, RoPE, softmax, the loss), which are a few percent at most.
//
// For b rows of n tokens (T = b n tokens), d the width, V the vocabulary:
//
//   step = 6 P T + 3 Σ_blocks attention_forward
//
//   P: the weights of every GEMM: the logits' V d (tied to the embedding or not; the embedding
//      lookup itself is a gather) plus per block
//        GAU, FLASH:     d (2e + s) + e d          (w_in d -> 2e + s, w_out e -> d)
//        Transformer++:  4 d² + 3 d f              (qkv d -> 3d, out d -> d, SwiGLU d -> 2f -> d;
//                                                   2 d f for an MLP feed-forward)
//      6 = 2 (forward, a multiply-add) + 4 (backward: the input's and the weight's gradient).
//   attention_forward, per block, with pairs(m) = m (m + 1) / 2 query-key pairs when causal, m² if not:
//        GAU:            b · pairs(n) · 2 (s + e)          q kᵀ (s wide), then A v (e wide)
//        FLASH:          b · [pairs_local · 2 (s + e) + 4 n s e]
//                        local pairs within chunks of c (the last chunk of n mod c tokens has
//                        pairs(n mod c)), and the linear part: kl_gᵀ v_g per chunk and ql_g KV_g,
//                        2 n s e each
//        Transformer++:  b · pairs(n) · 2 (2 d)            over H heads of d / H: q kᵀ and A v
//      3 = forward + a backward of twice the forward (the gradients of both operands of each
//      product), as for the GEMMs.
#include <cstdint>

#include "core/error.h"
#include "layers/flash_block.h"
#include "layers/gau.h"
#include "layers/models/language_model.h"
#include "layers/transformer_pp.h"

namespace gau::bench {

struct StepFlops {
  double matmul_params = 0;      // P
  double matmul = 0;             // 6 P T
  double attention_forward = 0;  // Σ over blocks
  double total() const { return matmul + 3 * attention_forward; }
};

// Query-key pairs of one row of m tokens.
inline double attention_pairs(int64_t m, bool causal) {
  const double x = static_cast<double>(m);
  return causal ? x * (x + 1) / 2 : x * x;
}

inline StepFlops language_model_step_flops(const layers::LanguageModel& model, int64_t b, int64_t n) {
  const double d = static_cast<double>(model.options().dim);
  const double rows = static_cast<double>(b);
  StepFlops f;
  f.matmul_params = static_cast<double>(model.options().vocab) * d;
  for (const auto& block : model.blocks().blocks()) {
    const bool causal = block->is_causal();
    if (const auto* g = dynamic_cast<const layers::Gau*>(block.get())) {
      const double e = static_cast<double>(g->e()), s = static_cast<double>(g->options().s);
      f.matmul_params += d * (2 * e + s) + e * d;
      f.attention_forward += rows * attention_pairs(n, causal) * 2 * (s + e);
    } else if (const auto* fl = dynamic_cast<const layers::FlashBlock*>(block.get())) {
      const layers::FlashBlockOptions& o = fl->options();
      const double e = static_cast<double>(o.e > 0 ? o.e : 2 * o.dim), s = static_cast<double>(o.s);
      const int64_t c = o.chunk;
      const double local = static_cast<double>(n / c) * attention_pairs(c, causal) + attention_pairs(n % c, causal);
      f.matmul_params += d * (2 * e + s) + e * d;
      f.attention_forward += rows * (local * 2 * (s + e) + 4 * static_cast<double>(n) * s * e);
    } else if (const auto* t = dynamic_cast<const layers::TransformerPP*>(block.get())) {
      const double hidden = static_cast<double>(t->ffn().hidden());
      const double ffn_in = t->ffn().kind() == layers::FfnKind::mlp ? 1 : 2;
      f.matmul_params += 4 * d * d + (ffn_in + 1) * d * hidden;
      f.attention_forward += rows * attention_pairs(n, causal) * 2 * (2 * d);
    } else {
      GAU_CHECK(false, "language_model_step_flops: no FLOP count for block ", block->where(),
                " (GAU, FLASH and Transformer++ blocks have one)");
    }
  }
  f.matmul = 6 * f.matmul_params * rows * static_cast<double>(n);
  return f;
}

}  // namespace gau::bench
