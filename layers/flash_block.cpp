#include "layers/flash_block.h"

#include <algorithm>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "core/rng.h"
#include "layers/registry.h"

namespace gau::layers {

namespace {

// FLASH's decode cache: the attention op's running state (O(s e), whatever the position).
struct FlashCache : DecodeCache {
  std::unique_ptr<attention::FlashDecodeState> state;
  int64_t max_length = 0;
};

}  // namespace

FlashBlock::FlashBlock(const FlashBlockOptions& options)
    : SequenceBlock("FLASH"),
      opt_(options),
      e_(gated_input_options(options, 4).e),
      input_(*this, gated_input_options(options, 4)) {  // 4 heads: qq, kq, ql, kl
  GAU_CHECK(opt_.chunk > 0, where(), ": chunk must be > 0, got ", opt_.chunk);
  // No sequence is longer than max_length, so a longer chunk would only pad every one of them
  // to c and divide its scores by c rather than by the length it can have.
  if (opt_.max_length > 0) opt_.chunk = std::min(opt_.chunk, opt_.max_length);
  GAU_CHECK(opt_.dropout >= 0 && opt_.dropout < 1, where(), ": dropout must be in [0, 1), got ", opt_.dropout);
  if (opt_.position == PositionType::relative)
    bias_ = register_parameter("bias", ops::zeros({2 * opt_.chunk - 1}));  // r[i - j] inside a chunk
  w_out_ = register_module("w_out", std::make_shared<Linear>(e_, opt_.dim));
}

attention::FlashOptions FlashBlock::flash_options(const SequenceInfo& info) const {
  attention::FlashOptions f;
  f.chunk = opt_.chunk;
  f.causal = opt_.causal;
  f.bias = bias_;
  f.key_lengths = info.key_lengths;
  f.linear_norm = opt_.linear_norm;
  f.max_length = opt_.max_length;
  return f;
}

Tensor FlashBlock::block(const Tensor& x, const SequenceInfo& info, uint64_t seed, uint64_t offset) {
  GatedInput::Out p = input_.forward(*this, x, 0);
  const std::vector<Tensor>& h = p.heads;
  Tensor a = attention::flash_attention(h[0], h[1], h[2], h[3], p.v, flash_options(info));
  return gated_output(*w_out_, x, p.u, a, opt_.dropout, is_training(), seed, offset);
}

Tensor FlashBlock::forward_sequence(const Tensor& x, const SequenceInfo& info) {
  GAU_CHECK(x.dim() == 3 && x.size(2) == opt_.dim, where(), ": expected x [b, n, ", opt_.dim, "], got ", describe(x));
  GAU_CHECK(opt_.max_length == 0 || x.size(1) <= opt_.max_length, where(), ": the sequence has ", x.size(1),
            " tokens, more than max_length ", opt_.max_length);
  // The dropout mask comes from (seed, offset) fixed here, so a checkpointed block recomputes it.
  Generator& gen = default_generator();
  const uint64_t seed = gen.seed();
  const uint64_t offset = gen.advance(static_cast<uint64_t>(x.numel()));
  if (!opt_.checkpoint) return block(x, info, seed, offset);
  return gau::checkpoint(
      [this, info, seed, offset](const std::vector<Tensor>& in) { return block(in[0], info, seed, offset); }, {x},
      parameters());
}

std::unique_ptr<DecodeCache> FlashBlock::start_decoding(int64_t batch, int64_t max_length) const {
  GAU_CHECK(opt_.causal, where(), ": decoding needs a causal FLASH (causal: true)");
  GAU_CHECK(opt_.max_length == 0 || max_length <= opt_.max_length, where(), ": decoding ", max_length,
            " tokens, more than max_length ", opt_.max_length);
  auto cache = std::make_unique<FlashCache>();
  const Tensor& w = w_out_->weight();
  cache->state =
      std::make_unique<attention::FlashDecodeState>(batch, opt_.s, e_, flash_options({}), w.dtype(), w.device());
  cache->max_length = max_length;
  return cache;
}

Tensor FlashBlock::decode(const Tensor& x, DecodeCache& base) {
  auto* cache = dynamic_cast<FlashCache*>(&base);
  GAU_CHECK(cache != nullptr, where(), ": decode was given a cache from another block type");
  NoGradGuard no_grad;
  const int64_t m = x.size(1), pos = cache->position;
  GAU_CHECK(pos + m <= cache->max_length, where(), ": decoding to position ", pos + m, " past the cache's max_length ",
            cache->max_length);
  GatedInput::Out p = input_.forward(*this, x, pos);
  // The state advances one token at a time: O(c (s + e) + s e) each.
  std::vector<Tensor> rows;
  for (int64_t t = 0; t < m; ++t) {
    auto at = [t](const Tensor& y) { return ops::select(y, 1, t); };  // [b, n, .] -> [b, .]
    const std::vector<Tensor>& h = p.heads;
    rows.push_back(cache->state->step(at(h[0]), at(h[1]), at(h[2]), at(h[3]), at(p.v)));
  }
  cache->position = pos + m;
  return gated_output(*w_out_, x, p.u, ops::stack(rows, 1), opt_.dropout, /*drop=*/false, 0, 0);
}

std::shared_ptr<Module> FlashBlock::from_config(ConfigReader& r) {
  FlashBlockOptions o;
  read_gated_block_options(r, o);
  r.explain({{"chunk", "chunk length c: quadratic attention inside chunks, linear attention across them"},
             {"linear_norm", "the linear part's normaliser: chunk (c), n (the sequence length) or prefix (the keys seen)"}});
  o.chunk = r.integer("chunk", 256, Range::at_least(1));
  o.linear_norm = attention::linear_norm_from_name(r.choice("linear_norm", {"chunk", "n", "prefix"}, "chunk"));
  check_gated_rope(r, o);
  return std::make_shared<FlashBlock>(o);
}

const char* FlashBlock::example_config() { return "{dim: 8, e: 12, s: 4, chunk: 3, max_length: 16, causal: true}"; }

Tensor FlashBlock::example_input(const FlashBlock& m, uint64_t seed) {
  Generator gen(seed);
  const Tensor& w = m.w_out_->weight();  // dtype and device of the block
  return ops::randn({2, 7, m.width()}, w.dtype(), w.device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("flash", FlashBlock);

}  // namespace gau::layers
