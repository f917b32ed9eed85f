#include "layers/gau.h"

#include <cmath>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "core/rng.h"
#include "layers/registry.h"

namespace gau::layers {

namespace {

const char* scale_name(GauScale s) {
  switch (s) {
    case GauScale::inv_n:
      return "inv_n";
    case GauScale::inv_sqrt_s:
      return "inv_sqrt_s";
    case GauScale::inv_n_sqrt_s:
      return "inv_n_sqrt_s";
  }
  return "?";
}

// The GAU's decode cache: k [b, max_length, s] and v [b, max_length, e] of every token so far
// (q and u belong to the new tokens only).
struct GauCache : DecodeCache {
  Tensor k, v;
  int64_t max_length = 0;
};

}  // namespace

Gau::Gau(const GauOptions& options)
    : SequenceBlock("GAU"),
      opt_(options),
      e_(gated_input_options(options, 2).e),
      input_(*this, gated_input_options(options, 2)) {
  GAU_CHECK(opt_.dropout >= 0 && opt_.dropout < 1 && opt_.attention_dropout >= 0 && opt_.attention_dropout < 1, where(),
            ": dropout and attention_dropout must be in [0, 1), got ", opt_.dropout, " and ", opt_.attention_dropout);
  GAU_CHECK(opt_.softmax_plus_base == 0 || (opt_.softmax_plus_base > 1 && opt_.kernel == attention::Kernel::softmax),
            where(), ": softmax_plus_base must be 0 (off) or a base > 1 with the softmax kernel, got ",
            opt_.softmax_plus_base, " with kernel ", attention::kernel_name(opt_.kernel));
  if (opt_.position == PositionType::relative)
    bias_ = register_module("bias", std::make_shared<RelativePositionBias>(opt_.relative));
  w_out_ = register_module("w_out", std::make_shared<Linear>(e_, opt_.dim));
}

attention::AttentionOptions Gau::attention_options(int64_t n, const SequenceInfo& info) const {
  attention::AttentionOptions a;
  a.kernel = opt_.kernel;
  a.causal = opt_.causal;
  a.key_lengths = info.key_lengths;
  if (bias_) a.bias = bias_->bias();
  const double length = static_cast<double>(opt_.max_length > 0 ? opt_.max_length : n);
  const double inv_sqrt_s = 1.0 / std::sqrt(static_cast<double>(opt_.s));
  // Without a configured length, inv_n's n is the row's own length: its valid tokens when padded
  // (relu2 and laplace; softmax normalises its weights and keeps a fixed scale).
  const bool per_row = opt_.max_length == 0 && opt_.scale == GauScale::inv_n && info.key_lengths.defined() &&
                       opt_.kernel != attention::Kernel::softmax;
  if (per_row) {
    a.scale_by_valid_length = true;
  } else {
    switch (opt_.scale) {
      case GauScale::inv_n:
        a.scale = 1.0 / length;
        break;
      case GauScale::inv_sqrt_s:
        a.scale = inv_sqrt_s;
        break;
      case GauScale::inv_n_sqrt_s:
        a.scale = inv_sqrt_s / length;
        break;
    }
  }
  // softmax_plus's n follows inv_n's: the configured length, else each row's valid keys (the op's
  // log_length_base rule, which takes n_k without padding).
  const bool softmax_plus = opt_.softmax_plus_base > 0;
  if (softmax_plus && opt_.max_length > 0)
    a.scale *= std::log(static_cast<double>(opt_.max_length)) / std::log(opt_.softmax_plus_base);
  else if (softmax_plus)
    a.log_length_base = opt_.softmax_plus_base;
  return a;
}

Tensor Gau::attend(const Tensor& q, const Tensor& k, const Tensor& v, const attention::AttentionOptions& a) const {
  Tensor att = attention::dot_product_attention(gau::unsqueeze(q, 1), gau::unsqueeze(k, 1), gau::unsqueeze(v, 1), a);
  return gau::squeeze(att, 1);  // one head: [b, 1, n, e] -> [b, n, e]
}

Tensor Gau::block(const Tensor& x, const SequenceInfo& info, uint64_t seed, uint64_t offset) {
  GatedInput::Out p = input_.forward(*this, x, 0);
  attention::AttentionOptions a = attention_options(x.size(1), info);
  const bool training = is_training();
  if (opt_.attention_dropout > 0 && training) {
    a.dropout_p = opt_.attention_dropout;
    a.seed = seed;
    a.offset = offset + 1;  // a stream of its own: the output dropout draws from `offset`
  }
  return gated_output(*w_out_, x, p.u, attend(p.heads[0], p.heads[1], p.v, a), opt_.dropout, training, seed, offset);
}

Tensor Gau::forward_sequence(const Tensor& x, const SequenceInfo& info) {
  GAU_CHECK(x.dim() == 3 && x.size(2) == opt_.dim, where(), ": expected x [b, n, ", opt_.dim, "], got ", describe(x));
  GAU_CHECK(opt_.max_length == 0 || x.size(1) <= opt_.max_length, where(), ": the sequence has ", x.size(1),
            " tokens, more than max_length ", opt_.max_length);
  // Dropout draws its masks from (seed, offset) fixed here, so a checkpointed block recomputes
  // the same masks in backward.
  Generator& gen = default_generator();
  const uint64_t seed = gen.seed();
  const uint64_t offset = gen.advance(static_cast<uint64_t>(x.numel()) * 2 + 1);
  if (!opt_.checkpoint) return block(x, info, seed, offset);
  return gau::checkpoint(
      [this, info, seed, offset](const std::vector<Tensor>& in) { return block(in[0], info, seed, offset); }, {x},
      parameters());
}

std::unique_ptr<DecodeCache> Gau::start_decoding(int64_t batch, int64_t max_length) const {
  GAU_CHECK(opt_.causal, where(), ": decoding needs a causal GAU (causal: true)");
  GAU_CHECK(opt_.scale == GauScale::inv_sqrt_s || opt_.max_length > 0, where(), ": scale ", scale_name(opt_.scale),
            " with max_length 0 divides by each sequence's length, which decoding does not know; set max_length");
  GAU_CHECK(opt_.softmax_plus_base == 0 || opt_.max_length > 0, where(),
            ": kernel softmax_plus with max_length 0 scales by the log of each sequence's length, which decoding "
            "does not know; set max_length");
  GAU_CHECK(opt_.max_length == 0 || max_length <= opt_.max_length, where(), ": decoding ", max_length,
            " tokens, more than max_length ", opt_.max_length);
  auto cache = std::make_unique<GauCache>();
  const Tensor& w = w_out_->weight();
  cache->k = ops::zeros({batch, max_length, opt_.s}, w.dtype(), w.device());
  cache->v = ops::zeros({batch, max_length, e_}, w.dtype(), w.device());
  cache->max_length = max_length;
  return cache;
}

Tensor Gau::decode(const Tensor& x, DecodeCache& base) {
  auto* cache = dynamic_cast<GauCache*>(&base);
  GAU_CHECK(cache != nullptr, where(), ": decode was given a cache from another block type");
  NoGradGuard no_grad;
  const int64_t m = x.size(1), pos = cache->position, total = pos + m;
  GAU_CHECK(total <= cache->max_length, where(), ": decoding to position ", total, " past the cache's max_length ",
            cache->max_length);
  GatedInput::Out p = input_.forward(*this, x, pos);
  ops::copy_(ops::narrow(cache->k, 1, pos, m), p.heads[1]);
  ops::copy_(ops::narrow(cache->v, 1, pos, m), p.v);
  // Against every cached key: the op puts the m queries at the last m positions (causal).
  Tensor a = attend(p.heads[0], ops::narrow(cache->k, 1, 0, total), ops::narrow(cache->v, 1, 0, total),
                    attention_options(total, {}));
  cache->position = total;
  return gated_output(*w_out_, x, p.u, a, opt_.dropout, /*drop=*/false, 0, 0);
}

std::shared_ptr<Module> Gau::from_config(ConfigReader& r) {
  GauOptions o;
  r.explain({{"scale", "the scores' scale: 1/n, 1/sqrt(s), or both (n: max_length, else the row's valid tokens)"},
             {"kernel",
              "the attention kernel: relu2 (the paper's relu(x)^2), softmax, softmax_plus (GAU-alpha: softmax "
              "of the scores times log(n) / log(softmax_plus_base)) or laplace"},
             {"softmax_plus_base", "softmax_plus's length at which the scores keep their scale (GAU-alpha: 512)"},
             {"attention_dropout", "dropout on the attention weights"}});
  read_gated_block_options(r, o);
  if (o.position == PositionType::relative)
    o.relative = RelativePositionBias::read_options(r, "relative_", /*bidirectional_default=*/!o.causal);
  const std::string scale = r.choice("scale", {"inv_n", "inv_sqrt_s", "inv_n_sqrt_s"}, "inv_n");
  o.scale = scale == "inv_sqrt_s"     ? GauScale::inv_sqrt_s
            : scale == "inv_n_sqrt_s" ? GauScale::inv_n_sqrt_s
                                      : GauScale::inv_n;
  const std::string kernel = r.choice("kernel", {"relu2", "softmax", "softmax_plus", "laplace"}, "relu2");
  o.kernel = attention::kernel_from_name(kernel == "softmax_plus" ? "softmax" : kernel);
  if (kernel == "softmax_plus") o.softmax_plus_base = r.number("softmax_plus_base", 512.0, Range::greater_than(1));
  o.attention_dropout = r.number("attention_dropout", 0.0, Range::between(0, 0.999));
  check_gated_rope(r, o);
  return std::make_shared<Gau>(o);
}

const char* Gau::example_config() { return "{dim: 8, e: 12, s: 4, max_length: 16, causal: true}"; }

Tensor Gau::example_input(const Gau& m, uint64_t seed) {
  Generator gen(seed);
  const Tensor& w = m.w_out_->weight();  // dtype and device of the block
  return ops::randn({2, 6, m.width()}, w.dtype(), w.device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("gau", Gau);

}  // namespace gau::layers
