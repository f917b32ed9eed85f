#pragma once
// Position information for attention: rotary embeddings (RoPE), a learned relative-position bias
// (per offset or T5 buckets) and the scaled sinusoidal absolute embedding.
//
// ---- RotaryEmbedding (Su et al. 2021), rotate-half convention ----
//   x [..., n, s] -> [..., n, s];  row i sits at position p = position_offset + i
//   ω_j = base^(-2j/s),  c = cos(p ω_j),  t = sin(p ω_j),  j < s/2
//   x = [x1 | x2] (the two halves of the last dim)
//   y = [x1 c - x2 t | x2 c + x1 t]
//   PyTorch: x * cos + torch.cat([-x2, x1], -1) * sin   (cos, sin = [c | c], [t | t])
// The pairs rotated together are (j, j + s/2), as in GPT-NeoX and HF LLaMA, not adjacent
// dimensions. q·k after rotation depends only on the difference of the two positions, which is
// what lets a KV cache keep rotated keys: decoding passes the cache position as position_offset.
// One fused op (gau::rope, core/ops/rope.h; its backward is the inverse rotation) over a cached
// table [max_length, s] = [cos | sin], a non-persistent buffer: recomputed, never in the state
// dict or the flat parameter storage. It is built in f64 and follows to() to f32 or f64; the op
// reads only f32 or f64 tables, so after to() has rounded it to bf16 or f16 with the rest of the
// model, the first apply() rebuilds it in f32 on its device.
//
// ---- RelativePositionBias (docs/model.md, "Relative-position bias") ----
//   rel = pos_query - pos_key;  bias(rel) = table[index(rel)]
//   per_offset: table [2 max_offset + 1], index = clamp(rel, -max_offset, max_offset) + max_offset
//   t5:         table [num_buckets], index = the T5 bucket of rel (exact for small |rel|, log-spaced
//               up to max_distance; bidirectional tables give keys after the query their own half)
// The module never builds an n x n tensor: bias() hands the table to dot_product_attention through
// AttentionOptions::bias, whose tiles expand it. forward(rel) looks up explicit offsets.
//
// ---- ScaledSinusoidal (Hua et al. 2022, FLASH's absolute positions) ----
//   x [b, n, d] -> x + a · pe[offset + i],  pe[p] = [sin(p ω_0 .. p ω_{d/2-1}) | cos(p ω_0 ..)]
//   ω_j = base^(-2j/d);  a a learned scalar starting at 1/sqrt(d)
//   PyTorch: x + torch.cat([sin(p * inv_freq), cos(p * inv_freq)], -1) * scale
//
// Configs:
//   {type: rotary_embedding, dim: 64, max_length: 2048, base: 10000}
//   {type: relative_position_bias, kind: t5, num_buckets: 32, max_distance: 128, bidirectional: true}
//   {type: relative_position_bias, kind: per_offset, max_offset: 127}
//   {type: scaled_sinusoidal, dim: 512, max_length: 2048, base: 10000}
#include <cstdint>
#include <memory>
#include <string>

#include "core/rng.h"
#include "layers/attention/attention.h"
#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

// How a block (MHA, GAU, FLASH) encodes positions: rotary q/k, a learned relative bias added to
// the scores, or nothing.
enum class PositionType { none, rope, relative };
// "none" | "rope" | "relative"; anything else is an error listing the choices.
PositionType position_type_from_name(const std::string& name);

class RotaryEmbedding : public Module {
 public:
  // dim s must be even.
  RotaryEmbedding(int64_t dim, int64_t max_length, double base = 10000);

  // x [..., n, s] -> [..., n, s], rows at positions position_offset .. position_offset + n - 1
  // (which must stay below max_length).
  Tensor apply(const Tensor& x, int64_t position_offset = 0) const;
  Tensor forward(const Tensor& x) override { return apply(x, 0); }

  int64_t dim() const { return dim_; }
  int64_t max_length() const { return max_length_; }
  double base() const { return base_; }
  // [max_length, s]: row p = [cos(p ω_0) .. cos(p ω_{s/2-1}) | sin(p ω_0) .. sin(p ω_{s/2-1})]
  const Tensor& table() const { return table_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const RotaryEmbedding& m, uint64_t seed);  // [2, 2, 5, s]

 private:
  int64_t dim_, max_length_;
  double base_;
  Tensor table_;
};

enum class RelativeBiasKind { per_offset, t5 };

struct RelativeBiasOptions {
  RelativeBiasKind kind = RelativeBiasKind::t5;
  int64_t max_offset = 127;    // per_offset
  int64_t num_buckets = 32;    // t5
  int64_t max_distance = 128;  // t5
  bool bidirectional = true;   // t5; false treats every key after the query as rel = 0
  double init_std = 0.02;      // the table starts N(0, init_std)
  Generator* gen = nullptr;    // default_generator() when null
};

class RelativePositionBias : public Module {
 public:
  explicit RelativePositionBias(const RelativeBiasOptions& options = {});

  // The table and its indexing, for AttentionOptions::bias (differentiable in the table).
  attention::RelativeBias bias() const;
  // rel [...] i32/i64 (query position minus key position) -> [...] the biases table[index(rel)].
  Tensor forward(const Tensor& rel) override;
  // The table entry of one relative position.
  int64_t index(int64_t rel) const;

  const Tensor& table() const { return table_; }  // [2 max_offset + 1] or [num_buckets]
  const RelativeBiasOptions& options() const { return options_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  // Reads kind, max_offset | num_buckets, max_distance, bidirectional and init_std. A block that
  // embeds the bias among keys of its own prefixes two of them: `prefix` "relative_" reads
  // relative_kind and relative_init_std (an attention block's init_std is its projections').
  static RelativeBiasOptions read_options(ConfigReader& r, const std::string& prefix, bool bidirectional_default);
  static const char* example_config();
  static Tensor example_input(const RelativePositionBias& m, uint64_t seed);  // i64 [3, 4] offsets

 private:
  RelativeBiasOptions options_;
  Tensor table_;
};

class ScaledSinusoidal : public Module {
 public:
  // dim d must be even.
  ScaledSinusoidal(int64_t dim, int64_t max_length, double base = 10000);

  // x [b, n, d] -> x + scale · pe[position_offset + i] (positions below max_length).
  Tensor forward(const Tensor& x, int64_t position_offset);
  Tensor forward(const Tensor& x) override { return forward(x, 0); }

  int64_t dim() const { return dim_; }
  int64_t max_length() const { return max_length_; }
  const Tensor& scale() const { return scale_; }  // [1]
  const Tensor& table() const { return table_; }  // [max_length, d]

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const ScaledSinusoidal& m, uint64_t seed);  // [2, 5, d]

 private:
  int64_t dim_, max_length_;
  Tensor scale_, table_;
};

}  // namespace gau::layers
