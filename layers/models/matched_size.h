#pragma once
// Language-model configs of matching size for the three flavours, so that GAU, FLASH and
// Transformer++ are compared at the same parameter count (within ±5%), by the paper's rule:
//
//   Transformer++ with L layers   <->   GAU (FLASH-Quad) and FLASH with 2L layers
//   (one GAU layer stands for an attention block plus a feed-forward block)
//
// GAU and FLASH keep their blocks' defaults (e = 2d, s = 128; FLASH adds its chunk c), which the
// rule matches closely: 2 layers hold about 2 d (2e + s) + 2 e d = 12 d² + 2 d s. A Transformer++
// layer holds 4 d² of attention and 3 d f of SwiGLU, so its feed-forward width f is the free
// number: matched_size_config sets it (a multiple of 8) so that the Transformer++ model comes
// nearest the GAU model of the same L. Every count is measured by building the blocks through the
// registry, so it is exact for whatever the blocks hold (biases, norms, scale-offsets).
//
//   MatchedSizeSpec spec{.vocab = 256, .dim = 256, .transformer_layers = 2};
//   YAML::Node gau = matched_size_config("gau", spec);              // 4 GAU layers
//   YAML::Node tpp = matched_size_config("transformer_pp", spec);   // 2 layers, f matched
//   // or spec.target_parameters = 2'000'000: L is the one whose GAU model is nearest 2M
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

namespace gau::layers {

struct MatchedSizeSpec {
  int64_t vocab = 256;
  int64_t dim = 128;
  int64_t max_length = 512;
  int64_t transformer_layers = 0;  // L (>= 1); 0: chosen from target_parameters
  int64_t target_parameters = 0;   // used when transformer_layers is 0
  // The block config of each flavour, without dim and causal (the model sets them); null: the
  // defaults {type: gau}, {type: flash} and {type: transformer_pp, heads: max(1, dim / 64)}.
  YAML::Node gau_block, flash_block, transformer_block;
  // The Transformer++ block's key for its feed-forward width, tuned to match, in steps of
  // width_multiple.
  std::string width_key = "hidden";
  int64_t width_multiple = 8;
  bool tie_embeddings = true;
};

// The language_model config of `flavour` (gau | flash | transformer_pp) at the spec's size;
// throws when its parameters fall outside ±5% of the GAU model's, with both counts.
YAML::Node matched_size_config(const std::string& flavour, const MatchedSizeSpec& spec);

// The parameters of the model `config` builds ({type: language_model | masked_lm, ...}), from the
// model without blocks plus each block built alone (the blocks share no parameters), so nothing
// of the model's size is allocated.
int64_t model_parameter_count(const YAML::Node& config);

}  // namespace gau::layers
