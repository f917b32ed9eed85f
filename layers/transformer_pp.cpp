#include "layers/transformer_pp.h"

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "layers/registry.h"

namespace gau::layers {

TransformerPP::TransformerPP(const TransformerPPOptions& options) : SequenceBlock("TransformerPP"), options_(options) {
  const int64_t d = options.attention.dim;
  attn_norm_ = register_module("attn_norm", std::make_shared<RMSNorm>(d, options.eps));
  attn_ = register_module("attn", std::make_shared<MultiHeadAttention>(options.attention));
  ffn_norm_ = register_module("ffn_norm", std::make_shared<RMSNorm>(d, options.eps));
  FfnOptions ffn;
  ffn.kind = FfnKind::swiglu;
  ffn.dim = d;
  ffn.hidden = options.hidden;
  ffn.linear = options.attention.linear;
  ffn_ = register_module("ffn", std::make_shared<FeedForward>(ffn));
  ffn_dropout_ = register_module("ffn_dropout", std::make_shared<Dropout>(options.attention.dropout));
}

void TransformerPP::check_input(const Tensor& x) const {
  GAU_CHECK(x.defined() && x.dim() == 3 && x.size(2) == width(), where(), ": expected x [b, n, ", width(), "], got ",
            x.defined() ? describe(x) : std::string("an undefined tensor"));
}

Tensor TransformerPP::forward_sequence(const Tensor& x, const SequenceInfo& info) {
  check_input(x);
  const Tensor h = gau::add(x, attn_->forward_attention(attn_norm_->forward(x), info));
  return gau::add(h, ffn_dropout_->forward(ffn_->forward(ffn_norm_->forward(h))));
}

std::unique_ptr<DecodeCache> TransformerPP::start_decoding(int64_t batch, int64_t max_length) const {
  GAU_CHECK(is_causal(), where(), ": decoding needs a causal block (causal: true in the config)");
  return attn_->start_decoding(batch, max_length);
}

Tensor TransformerPP::decode(const Tensor& x, DecodeCache& cache) {
  NoGradGuard no_grad;
  check_input(x);
  auto* kv = dynamic_cast<KvCache*>(&cache);
  GAU_CHECK(kv != nullptr, where(), ": decode needs the cache this block's start_decoding made");
  const Tensor h = gau::add(x, attn_->decode_attention(attn_norm_->forward(x), *kv));
  return gau::add(h, ffn_->forward(ffn_norm_->forward(h)));
}

std::shared_ptr<Module> TransformerPP::from_config(ConfigReader& r) {
  TransformerPPOptions o;
  o.attention = read_mha_options(r);
  r.explain({{"hidden", "hidden width of the SwiGLU feed-forward"}, {"eps", "epsilon of the two pre-RMSNorms"}});
  r.document("hidden", "integer >= 1", "8 dim / 3 rounded up to a multiple of 8");
  o.hidden = r.integer("hidden", default_ffn_hidden(FfnKind::swiglu, o.attention.dim), Range::at_least(1));
  o.eps = r.number("eps", 1e-5, Range::greater_than(0));
  return std::make_shared<TransformerPP>(o);
}

const char* TransformerPP::example_config() { return "{dim: 8, heads: 2, hidden: 12, max_length: 16}"; }

Tensor TransformerPP::example_input(const TransformerPP& m, uint64_t seed) {
  Generator gen(seed);
  const Tensor& w = m.attention().qkv().weight();
  return ops::randn({2, 5, m.width()}, w.dtype(), w.device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("transformer_pp", TransformerPP);

}  // namespace gau::layers
