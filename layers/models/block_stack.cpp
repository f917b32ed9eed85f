#include "layers/models/block_stack.h"

#include <string>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/registry.h"

namespace gau::layers {

namespace {

std::string shown_type(const YAML::Node& node) {
  return node.IsMap() && node["type"] && node["type"].IsScalar() ? node["type"].Scalar() : std::string("?");
}

// The block config `written` with dim, causal and max_length set; one that repeats them must agree.
YAML::Node with_model_keys(const YAML::Node& written, const std::string& path, const std::string& file,
                           const ModelKeys& keys) {
  const int64_t dim = keys.dim;
  const bool causal = keys.causal;
  ConfigReader check(written, path, file);
  if (!written.IsMap())
    check.fail("",
               "expected a block (a map with a type), got a " + std::string(written.IsSequence() ? "list" : "scalar"));
  const YAML::Node& w = written;
  if (w["dim"] && !(w["dim"].IsScalar() && w["dim"].Scalar() == std::to_string(dim)))
    check.fail("dim", "is " + YAML::Dump(w["dim"]) + ", but the model's dim is " + std::to_string(dim) +
                          "; leave it out (the model sets it)");
  if (w["causal"]) {
    bool given = !causal;
    try {
      given = w["causal"].as<bool>();
    } catch (const YAML::Exception&) {
      check.fail("causal", "expected true or false, got " + YAML::Dump(w["causal"]));
    }
    if (given != causal)
      check.fail("causal", std::string("is ") + (given ? "true" : "false") + ", but this model's blocks are " +
                               (causal ? "causal (a language model)" : "bidirectional (an encoder)") +
                               "; leave it out (the model sets it)");
  }
  if (w["max_length"] && !(w["max_length"].IsScalar() && w["max_length"].Scalar() == std::to_string(keys.max_length)))
    check.fail("max_length", "is " + YAML::Dump(w["max_length"]) + ", but the model's max_length is " +
                                 std::to_string(keys.max_length) + "; leave it out (the model sets it)");
  YAML::Node node = YAML::Clone(written);
  node["dim"] = dim;
  node["causal"] = causal;
  node["max_length"] = keys.max_length;
  return node;
}

// The block's config() without the keys the model sets.
YAML::Node as_written(const Module& block) {
  YAML::Node node = YAML::Clone(block.config());
  node.remove("dim");
  node.remove("causal");
  node.remove("max_length");
  return node;
}

std::shared_ptr<SequenceBlock> build_block(const YAML::Node& written, const std::string& path, const std::string& file,
                                           const ModelKeys& keys) {
  const int64_t dim = keys.dim;
  const bool causal = keys.causal;
  std::shared_ptr<Module> m = build(with_model_keys(written, path, file, keys), path, file);
  auto block = std::dynamic_pointer_cast<SequenceBlock>(m);
  GAU_CHECK(block != nullptr, path, ": type '", shown_type(written), "' builds a ", m->type_name(),
            ", which is not a sequence block (a model stacks SequenceBlocks: gau, flash, transformer_pp)");
  GAU_CHECK(block->width() == dim, block->where(), ": has width ", block->width(), ", the model's dim is ", dim);
  GAU_CHECK(block->is_causal() == causal, block->where(), ": is ", block->is_causal() ? "causal" : "bidirectional",
            ", the model needs ", causal ? "causal" : "bidirectional", " blocks");
  return block;
}

}  // namespace

BlockList::BlockList(std::vector<std::shared_ptr<SequenceBlock>> blocks)
    : Module("BlockList"), blocks_(std::move(blocks)) {
  for (size_t i = 0; i < blocks_.size(); ++i) register_module(std::to_string(i), blocks_[i]);
}

Tensor BlockList::forward_sequence(const Tensor& x, const SequenceInfo& info) const {
  Tensor h = x;
  for (const auto& block : blocks_) h = block->forward_sequence(h, info);
  return h;
}

std::vector<std::shared_ptr<SequenceBlock>> read_block_stack(ConfigReader& r, const ModelKeys& keys) {
  r.explain({{"blocks", "the blocks: one config built `layers` times ({type: gau}), or a list, one per block"},
             {"layers", "how many blocks, with one block config (required then); with a list, its length"}});
  const YAML::Node written = r.raw("blocks", "a block config, or a list of them", layers::ReadKey::Need::required);
  if (!written.IsDefined())
    r.fail("blocks", "missing required key 'blocks' (a block config, built `layers` times, or a list of them)");
  std::vector<std::shared_ptr<SequenceBlock>> blocks;
  YAML::Node filled;
  int64_t layers = 0;
  auto path_of = [&](int64_t i) { return r.path() + ".blocks[" + std::to_string(i) + "]"; };
  if (written.IsSequence()) {
    layers = r.integer("layers", static_cast<int64_t>(written.size()), Range::at_least(0));
    if (layers != static_cast<int64_t>(written.size()))
      r.fail("layers", "is " + std::to_string(layers) + ", but `blocks` lists " + std::to_string(written.size()) +
                           " blocks; leave `layers` out for a list");
    filled = YAML::Node(YAML::NodeType::Sequence);
    for (int64_t i = 0; i < layers; ++i) {
      blocks.push_back(build_block(written[static_cast<size_t>(i)], path_of(i), r.file(), keys));
      filled.push_back(as_written(*blocks.back()));
    }
  } else {
    if (!written.IsMap()) r.fail("blocks", "expected a block config (a map with a type) or a list of them");
    layers = r.integer("layers", Range::at_least(0));
    for (int64_t i = 0; i < layers; ++i) blocks.push_back(build_block(written, path_of(i), r.file(), keys));
    // Every copy was built from the same node: the first one's config stands for all.
    filled = blocks.empty() ? YAML::Clone(written) : as_written(*blocks.front());
  }
  r.record("blocks", filled);
  return blocks;
}

std::optional<NormKind> read_optional_norm(ConfigReader& r, const std::string& key, const std::string& fallback) {
  const std::string name = r.choice(key, {"rms_norm", "layer_norm", "scale_norm", "none"}, fallback);
  if (name == "none") return std::nullopt;
  return norm_kind_from_name(name);
}

std::shared_ptr<Module> make_optional_norm(std::optional<NormKind> kind, int64_t dim, double eps) {
  return kind ? make_norm(*kind, dim, eps) : nullptr;
}

void check_token_batch(const Module& m, const Tensor& ids, int64_t max_length, const SequenceInfo& info) {
  GAU_CHECK(ids.defined() && (ids.dtype() == DType::i32 || ids.dtype() == DType::i64) && ids.dim() == 2, m.where(),
            ": expected token ids [b, n] (i32 or i64), got ",
            ids.defined() ? describe(ids) : std::string("an undefined tensor"));
  GAU_CHECK(ids.size(1) >= 1 && ids.size(1) <= max_length, m.where(), ": sequence length ", ids.size(1),
            " is outside [1, max_length = ", max_length, "] (ids ", describe(ids), ")");
  const Tensor& lengths = info.key_lengths;
  if (!lengths.defined()) return;
  GAU_CHECK((lengths.dtype() == DType::i32 || lengths.dtype() == DType::i64) && lengths.dim() == 1 &&
                lengths.size(0) == ids.size(0) && lengths.device() == ids.device(),
            m.where(), ": key_lengths must be [", ids.size(0), "] (i32 or i64) on the device of the ids ",
            describe(ids), ", got ", describe(lengths));
}

Tensor ignore_padding(const Tensor& targets, const SequenceInfo& info, int64_t ignore_index) {
  if (!info.key_lengths.defined()) return targets;
  const int64_t n = targets.size(1);
  const Tensor positions = ops::arange(0, static_cast<double>(n), 1, targets.dtype(), targets.device());  // [n]
  const Tensor lengths = ops::view(ops::to_dtype(info.key_lengths, targets.dtype()), {targets.size(0), 1});
  return ops::masked_fill(targets, ops::compare(ops::Compare::ge, positions, lengths),
                          static_cast<double>(ignore_index));
}

}  // namespace gau::layers
