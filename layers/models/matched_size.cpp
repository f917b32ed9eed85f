#include "layers/models/matched_size.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "layers/registry.h"

namespace gau::layers {

namespace {

YAML::Node block_or(const YAML::Node& given, const char* type) {
  if (given && !given.IsNull()) return YAML::Clone(given);
  YAML::Node node;
  node["type"] = type;
  return node;
}

// The parameters of one block of `written` in a model of width dim.
int64_t block_parameter_count(const YAML::Node& written, int64_t dim, bool causal, int64_t max_length,
                              const std::string& path) {
  YAML::Node node = YAML::Clone(written);
  node["dim"] = dim;
  node["causal"] = causal;
  node["max_length"] = max_length;
  return build(node, path)->parameter_count();
}

YAML::Node lm_config(const MatchedSizeSpec& spec, const YAML::Node& block, int64_t layers) {
  YAML::Node c;
  c["type"] = "language_model";
  c["vocab"] = spec.vocab;
  c["dim"] = spec.dim;
  c["max_length"] = spec.max_length;
  c["blocks"] = block;
  c["layers"] = layers;
  c["tie_embeddings"] = spec.tie_embeddings;
  return c;
}

YAML::Node with_width(const YAML::Node& block, const std::string& key, int64_t width) {
  YAML::Node b = YAML::Clone(block);
  b[key] = width;
  return b;
}

}  // namespace

int64_t model_parameter_count(const YAML::Node& config) {
  GAU_CHECK(config.IsMap() && config["blocks"] && config["dim"],
            "model_parameter_count: expected a model config "
            "with dim and blocks, got ",
            YAML::Dump(config));
  const int64_t dim = config["dim"].as<int64_t>();
  const bool causal = config["type"].as<std::string>() != "masked_lm";
  // The models' default (layers/models/language_model.h); it sizes tables, not parameters.
  const int64_t max_length = config["max_length"] ? config["max_length"].as<int64_t>() : 512;
  YAML::Node bare = YAML::Clone(config);
  bare["blocks"] = YAML::Node(YAML::NodeType::Sequence);
  bare.remove("layers");
  int64_t total = build(bare, "model")->parameter_count();
  const YAML::Node blocks = config["blocks"];
  if (blocks.IsSequence()) {
    for (size_t i = 0; i < blocks.size(); ++i)
      total += block_parameter_count(blocks[i], dim, causal, max_length, "model.blocks[" + std::to_string(i) + "]");
  } else {
    const int64_t layers = config["layers"] ? config["layers"].as<int64_t>() : 0;
    if (layers > 0) total += layers * block_parameter_count(blocks, dim, causal, max_length, "model.blocks[0]");
  }
  return total;
}

YAML::Node matched_size_config(const std::string& flavour, const MatchedSizeSpec& spec) {
  GAU_CHECK(flavour == "gau" || flavour == "flash" || flavour == "transformer_pp", "matched_size_config: flavour '",
            flavour, "' is not one of: gau, flash, transformer_pp");
  GAU_CHECK(spec.vocab > 0 && spec.dim > 0 && spec.width_multiple > 0 &&
                (spec.transformer_layers > 0 || spec.target_parameters > 0),
            "matched_size_config: needs vocab, dim and width_multiple > 0 and transformer_layers or "
            "target_parameters > 0, got vocab ",
            spec.vocab, ", dim ", spec.dim, ", transformer_layers ", spec.transformer_layers, ", target_parameters ",
            spec.target_parameters);
  const YAML::Node gau_block = block_or(spec.gau_block, "gau");
  const YAML::Node flash_block = block_or(spec.flash_block, "flash");
  YAML::Node tpp_block = block_or(spec.transformer_block, "transformer_pp");
  if (!spec.transformer_block || spec.transformer_block.IsNull())
    tpp_block["heads"] = std::max<int64_t>(1, spec.dim / 64);

  // The GAU model is the reference: 2L layers, L given or nearest the target.
  const int64_t base = model_parameter_count(lm_config(spec, gau_block, 0));
  const int64_t gau_layer = block_parameter_count(gau_block, spec.dim, true, spec.max_length, "model.blocks[0]");
  int64_t layers = spec.transformer_layers;
  if (layers == 0) {
    const double pairs = static_cast<double>(spec.target_parameters - base) / static_cast<double>(2 * gau_layer);
    layers = std::max<int64_t>(1, std::llround(pairs));
  }
  const int64_t reference = base + 2 * layers * gau_layer;

  if (flavour == "gau") return lm_config(spec, gau_block, 2 * layers);
  YAML::Node config;
  if (flavour == "flash") {
    config = lm_config(spec, flash_block, 2 * layers);
  } else {
    // The count is affine in the feed-forward width: two widths give the line, the nearest
    // multiple of width_multiple on it hits the reference.
    const int64_t step = spec.width_multiple, w0 = step, w1 = 64 * step;
    const auto count_at = [&](int64_t w) {
      return model_parameter_count(lm_config(spec, with_width(tpp_block, spec.width_key, w), layers));
    };
    const int64_t c0 = count_at(w0), c1 = count_at(w1);
    GAU_CHECK(c1 > c0, "matched_size_config: the Transformer++ block's '", spec.width_key,
              "' does not change its parameter count (", c0, " at ", w0, ", ", c1, " at ", w1, ")");
    const double per_width = static_cast<double>(c1 - c0) / static_cast<double>(w1 - w0);
    const double width = static_cast<double>(w0) + static_cast<double>(reference - c0) / per_width;
    const int64_t w = std::max<int64_t>(step, std::llround(width / static_cast<double>(step)) * step);
    config = lm_config(spec, with_width(tpp_block, spec.width_key, w), layers);
  }
  const int64_t count = model_parameter_count(config);
  GAU_CHECK(std::abs(static_cast<double>(count - reference)) <= 0.05 * static_cast<double>(reference),
            "matched_size_config: the ", flavour, " model has ", count,
            " parameters, more than 5% from the GAU model's ", reference, " (", 2 * layers, " GAU layers at dim ",
            spec.dim, "); config: ", YAML::Dump(config));
  return config;
}

}  // namespace gau::layers
