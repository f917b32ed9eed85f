#pragma once
// The stack of SequenceBlocks a language model or a masked LM runs its hidden states through,
// and the config keys that describe it:
//
//   blocks: {type: transformer_pp, heads: 8}   one block config, built `layers` times (a uniform stack)
//   layers: 4
//
//   blocks: [{type: gau}, {type: gau}, {type: transformer_pp}]   a list: one config per block
//                                                                 (`layers`, if given, must match)
//
// The model sets each block's `dim` (its own) and `causal` (true for the language model, false
// for the encoder); a block config may repeat them only with the same values. Block i is built
// by the registry at "<model path>.blocks[i]", so its errors name that path, and is a child
// "blocks.<i>" of the model (state dict keys "blocks.3.w_in.weight"). The model's config()
// records the blocks as written, without the keys it added, so the same config rebuilds it at
// another dim.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/block.h"
#include "layers/config_reader.h"
#include "layers/module.h"
#include "layers/norm.h"

namespace gau::layers {

// The blocks in order, as one child module, so that their names are blocks.0, blocks.1, ...
class BlockList : public Module {
 public:
  explicit BlockList(std::vector<std::shared_ptr<SequenceBlock>> blocks);

  const std::vector<std::shared_ptr<SequenceBlock>>& blocks() const { return blocks_; }
  size_t size() const { return blocks_.size(); }
  SequenceBlock& operator[](size_t i) const { return *blocks_[i]; }

  // x [b, n, d] -> [b, n, d] through every block.
  Tensor forward_sequence(const Tensor& x, const SequenceInfo& info) const;

 private:
  std::vector<std::shared_ptr<SequenceBlock>> blocks_;
};

// What a model sets on each of its blocks: a block config may repeat a key only with the same value.
struct ModelKeys {
  int64_t dim = 0;
  bool causal = true;
  int64_t max_length = 0;  // positions (RoPE tables) and GAU's inv_n length
};

// Reads `blocks` and `layers` from r and builds the blocks with the model's keys set.
std::vector<std::shared_ptr<SequenceBlock>> read_block_stack(ConfigReader& r, const ModelKeys& keys);

// A model's optional norm (after the stack, in the MLM head): `key` is one of rms_norm,
// layer_norm, scale_norm (layers/norm.h) or none (nullopt).
std::optional<NormKind> read_optional_norm(ConfigReader& r, const std::string& key, const std::string& fallback);
// make_norm(kind, dim, eps), or null for none.
std::shared_ptr<Module> make_optional_norm(std::optional<NormKind> kind, int64_t dim, double eps);

// Checks ids [b, n] (i32/i64, n <= max_length) and info.key_lengths ([b] i32/i64, on the ids'
// device, when given), naming m.
void check_token_batch(const Module& m, const Tensor& ids, int64_t max_length, const SequenceInfo& info);

// targets [b, n] with the padded positions (n >= key_lengths[r]) set to ignore_index; targets
// itself when info has no key_lengths.
Tensor ignore_padding(const Tensor& targets, const SequenceInfo& info, int64_t ignore_index);

}  // namespace gau::layers
