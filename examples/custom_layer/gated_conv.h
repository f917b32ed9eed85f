#pragma once
// GatedConv: a gated causal-convolution block, a SequenceBlock that a gau language model can
// stack beside its GAU, FLASH and Transformer++ blocks.
//
//   x [b, n, d] -> y [b, n, d]
//   h      = norm(x)
//   [v|g]  = h W_inᵀ + b_in                     ONE GEMM d -> 2e (FusedLinear), two views [b, n, e]
//   a      = causal_conv1d(v, w_conv) ⊙ silu(g)  w_conv [k, e], causal_conv1d.h
//   y      = x + a W_outᵀ + b_out
//   PyTorch: v, g = linear(norm(x), W_in, b_in).chunk(2, -1); y = x + linear(conv(v) * silu(g), W_out, b_out)
//
// Token t mixes tokens t - k + 1 .. t only. Decoding keeps the last k - 1 values of v per
// sequence, all the convolution needs (zeros before the first token: the convolution's own
// padding), so each new token costs the same whatever its position.
//
// Config: {type: gated_conv, dim: 128, e: 256, kernel: 4, norm: rms_norm, norm_eps: 1e-5,
//          max_length: 0, causal: true}
//   e defaults to 2·dim. In a language model, the model sets dim, causal and max_length (0: no
//   limit). causal: false is refused: the convolution only looks back.
#include <cstdint>
#include <memory>

#include "layers/block.h"
#include "layers/config_reader.h"
#include "layers/fused_linear.h"
#include "layers/linear.h"
#include "layers/norm.h"

namespace gau_custom {

struct GatedConvOptions {
  int64_t dim = 128;
  int64_t e = 0;  // 0: 2·dim
  int64_t kernel = 4;
  gau::layers::NormKind norm = gau::layers::NormKind::rms_norm;
  double norm_eps = 1e-5;
  int64_t max_length = 0;  // 0: any length
};

class GatedConv : public gau::layers::SequenceBlock {
 public:
  explicit GatedConv(const GatedConvOptions& options);

  gau::Tensor forward_sequence(const gau::Tensor& x, const gau::layers::SequenceInfo& info) override;
  int64_t width() const override { return opt_.dim; }
  bool is_causal() const override { return true; }
  std::unique_ptr<gau::layers::DecodeCache> start_decoding(int64_t batch, int64_t max_length) const override;
  gau::Tensor decode(const gau::Tensor& x, gau::layers::DecodeCache& cache) override;

  int64_t e() const { return e_; }
  int64_t kernel() const { return opt_.kernel; }
  const gau::Tensor& conv_weight() const { return conv_; }  // [k, e]

  // The registry's three hooks (layers/registry.h).
  static std::shared_ptr<gau::layers::Module> from_config(gau::layers::ConfigReader& r);
  static const char* example_config();
  static gau::Tensor example_input(const GatedConv& m, uint64_t seed);  // [2, 6, dim]

 private:
  void check_input(const gau::Tensor& x) const;
  // h = norm(x) -> the views v and g of h W_inᵀ + b_in.
  gau::layers::NamedViews project_in(const gau::Tensor& x);
  // x + (conv ⊙ silu(g)) W_outᵀ + b_out.
  gau::Tensor project_out(const gau::Tensor& x, const gau::Tensor& conv, const gau::Tensor& g);

  GatedConvOptions opt_;
  int64_t e_;
  std::shared_ptr<gau::layers::Module> norm_;
  std::shared_ptr<gau::layers::FusedLinear> w_in_;
  gau::Tensor conv_;
  std::shared_ptr<gau::layers::Linear> w_out_;
};

}  // namespace gau_custom
