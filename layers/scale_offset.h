#pragma once
// ScaleOffset: h per-dimension scale-offsets of one shared z, GAU's cheap queries and keys
// (docs/model.md, "GAU"): q = γ_q ⊙ z + β_q and k = γ_k ⊙ z + β_k cost 2s parameters each
// instead of a projection.
//
//   z [..., s] -> h tensors [..., s]:  out_i = z ⊙ γ[i] + β[i];  gamma [h, s], beta [h, s]
//   PyTorch: [z * gamma[i] + beta[i] for i in range(h)]
//
// γ starts N(0, 0.02) (init::gau_gamma_), β at 0 (init::gau_beta_). Each head is one fused
// gau::scale_offset over z (one pass, one node) on rows of the two tables. GAU uses h = 2 (q, k),
// FLASH h = 4 (qq, kq, ql, kl).
//
// Config: {type: scale_offset, dim: 128, heads: 2}
// forward(z) (the registry's single-input hook) stacks the heads: [..., s] -> [h, ..., s].
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

class ScaleOffset : public Module {
 public:
  ScaleOffset(int64_t dim, int64_t heads, Generator* gen = nullptr);

  // z [..., s] -> h tensors [..., s], head i = z ⊙ gamma[i] + beta[i].
  std::vector<Tensor> forward_heads(const Tensor& z);
  // z [..., s] -> [h, ..., s]: the heads stacked along a new first dim.
  Tensor forward(const Tensor& z) override;

  const Tensor& gamma() const { return gamma_; }  // [h, s]
  const Tensor& beta() const { return beta_; }    // [h, s]
  int64_t dim() const { return dim_; }
  int64_t heads() const { return heads_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const ScaleOffset& m, uint64_t seed);  // [2, 3, s]

 private:
  int64_t dim_, heads_;
  Tensor gamma_, beta_;
};

}  // namespace gau::layers
