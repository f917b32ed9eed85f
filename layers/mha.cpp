#include "layers/mha.h"

#include <cmath>
#include <string>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/registry.h"

namespace gau::layers {

MhaOptions read_mha_options(ConfigReader& r) {
  r.explain({{"dim", "width of the input and output (a model sets it)"},
             {"heads", "attention heads; each is dim / heads wide"},
             {"position", "rope on the queries and keys, a learned relative bias (relative_kind), or none"},
             {"causal", "each token attends only to itself and earlier ones (a model sets it)"},
             {"backend", "gau: gau's tiled attention; cudnn: cuDNN's fused attention (CUDA only)"},
             {"max_length", "longest sequence: the rope table and the decoding cache"},
             {"rope_base", "rope: the rotation frequencies are rope_base^(-2j/head width)"},
             {"dropout", "dropout on the output projection, in training"},
             {"bias", "biases on the q, k, v and output projections"},
             {"init", "the projections' init (as for linear)"},
             {"init_std", "the standard deviation of init: normal"}});
  MhaOptions o;
  o.dim = r.integer("dim", Range::at_least(1));
  o.heads = r.integer("heads", Range::at_least(1));
  if (o.dim % o.heads != 0)
    r.fail("heads", "MultiHeadAttention: heads must divide dim " + std::to_string(o.dim) + ", got " +
                        std::to_string(o.heads) + " heads");
  o.position = position_type_from_name(r.choice("position", {"none", "rope", "relative"}, "rope"));
  o.causal = r.boolean("causal", true);
  o.backend =
      r.choice("backend", {"gau", "cudnn"}, "gau") == "cudnn" ? attention::Backend::cudnn : attention::Backend::gau;
  // Read whatever the position type: a language model sets max_length on every block.
  o.max_length = r.integer("max_length", 2048, Range::at_least(1));
  if (o.position == PositionType::rope) {
    if ((o.dim / o.heads) % 2 != 0)
      r.fail("position", "MultiHeadAttention: rope rotates pairs of dimensions, so the head width dim / heads = " +
                             std::to_string(o.dim / o.heads) + " must be even");
    o.rope_base = r.number("rope_base", 10000.0, Range::greater_than(0));
  }
  if (o.position == PositionType::relative)
    o.relative = RelativePositionBias::read_options(r, "relative_", !o.causal);
  o.dropout = r.number("dropout", 0.0, Range::between(0, 1));
  o.linear.bias = r.boolean("bias", false);
  o.linear.init = parse_linear_init(r);
  o.linear.init_std = r.number("init_std", 0.02, Range::greater_than(0));
  return o;
}

MultiHeadAttention::MultiHeadAttention(const MhaOptions& options) : Module("MultiHeadAttention"), options_(options) {
  const int64_t d = options.dim, heads = options.heads;
  GAU_CHECK(d > 0 && heads > 0 && d % heads == 0, "MultiHeadAttention: heads must divide dim, got dim ", d, ", heads ",
            heads);
  GAU_CHECK(options.position != PositionType::rope || (d / heads) % 2 == 0,
            "MultiHeadAttention: rope needs an even head width, got dim / heads = ", d / heads);
  qkv_ = register_module(
      "qkv", std::make_shared<FusedLinear>(
                 d, std::vector<std::pair<std::string, int64_t>>{{"q", d}, {"k", d}, {"v", d}}, options.linear));
  out_ = register_module("out", std::make_shared<Linear>(d, d, options.linear));
  if (options.position == PositionType::rope)
    rope_ =
        register_module("rope", std::make_shared<RotaryEmbedding>(d / heads, options.max_length, options.rope_base));
  if (options.position == PositionType::relative)
    relative_ = register_module("relative_bias", std::make_shared<RelativePositionBias>(options.relative));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(options.dropout));
}

void MultiHeadAttention::check_input(const Tensor& h) const {
  GAU_CHECK(h.defined() && h.dim() == 3 && h.size(2) == options_.dim, where(), ": expected h [b, n, ", options_.dim,
            "], got ", h.defined() ? describe(h) : std::string("an undefined tensor"));
}

MultiHeadAttention::Heads MultiHeadAttention::project(const Tensor& h, int64_t position_offset) {
  const int64_t b = h.size(0), n = h.size(1), heads = options_.heads, s = head_dim();
  const NamedViews p = qkv_->forward_views(h);  // q, k, v [b, n, d], views of one [b, n, 3d]
  auto split_heads = [&](const Tensor& x) { return gau::permute(gau::reshape(x, {b, n, heads, s}), {0, 2, 1, 3}); };
  Heads out{split_heads(p.views[0]), split_heads(p.views[1]), split_heads(p.views[2])};
  if (rope_) {
    out.q = rope_->apply(out.q, position_offset);
    out.k = rope_->apply(out.k, position_offset);
  }
  return out;
}

Tensor MultiHeadAttention::attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_lengths) {
  attention::AttentionOptions opt;
  opt.kernel = attention::Kernel::softmax;
  opt.causal = options_.causal;
  opt.scale = 1.0 / std::sqrt(static_cast<double>(head_dim()));
  opt.key_lengths = key_lengths;
  opt.backend = options_.backend;
  if (relative_) opt.bias = relative_->bias();
  const Tensor o = attention::dot_product_attention(q, k, v, opt);  // [b, H, n_q, s]
  const int64_t b = q.size(0), n = q.size(2);
  return out_->forward(gau::reshape(gau::permute(o, {0, 2, 1, 3}), {b, n, options_.dim}));
}

Tensor MultiHeadAttention::forward_attention(const Tensor& h, const SequenceInfo& info) {
  check_input(h);
  const Heads x = project(h, 0);
  return dropout_->forward(attend(x.q, x.k, x.v, info.key_lengths));
}

std::unique_ptr<KvCache> MultiHeadAttention::start_decoding(int64_t batch, int64_t max_length) const {
  GAU_CHECK(options_.causal, where(), ": decoding needs causal attention (causal: true in the config)");
  GAU_CHECK(batch > 0 && max_length > 0, where(), ": start_decoding needs batch and max_length > 0, got batch ", batch,
            ", max_length ", max_length);
  GAU_CHECK(!rope_ || max_length <= rope_->max_length(), where(), ": a cache of ", max_length,
            " positions outruns the RoPE table's max_length ", rope_ ? rope_->max_length() : 0);
  const Tensor& w = qkv_->weight();
  auto cache = std::make_unique<KvCache>();
  cache->k = ops::zeros({batch, options_.heads, max_length, head_dim()}, w.dtype(), w.device());
  cache->v = ops::zeros({batch, options_.heads, max_length, head_dim()}, w.dtype(), w.device());
  return cache;
}

Tensor MultiHeadAttention::decode_attention(const Tensor& h, KvCache& cache) {
  NoGradGuard no_grad;
  check_input(h);
  const int64_t pos = cache.position, m = h.size(1);
  GAU_CHECK(cache.k.defined() && h.size(0) == cache.k.size(0), where(), ": decode got a batch of ", h.size(0),
            " sequences for a cache of ", cache.k.defined() ? cache.k.size(0) : 0);
  GAU_CHECK(pos + m <= cache.k.size(2), where(), ": decoding positions ", pos, " .. ", pos + m - 1,
            " overflows the cache of ", cache.k.size(2), " positions");
  const Heads x = project(h, pos);
  ops::copy_(ops::narrow(cache.k, 2, pos, m), x.k);
  ops::copy_(ops::narrow(cache.v, 2, pos, m), x.v);
  Tensor y = attend(x.q, ops::narrow(cache.k, 2, 0, pos + m), ops::narrow(cache.v, 2, 0, pos + m), Tensor());
  cache.position = pos + m;
  return y;
}

std::shared_ptr<Module> MultiHeadAttention::from_config(ConfigReader& r) {
  return std::make_shared<MultiHeadAttention>(read_mha_options(r));
}

const char* MultiHeadAttention::example_config() { return "{dim: 8, heads: 2, max_length: 16}"; }

Tensor MultiHeadAttention::example_input(const MultiHeadAttention& m, uint64_t seed) {
  Generator gen(seed);
  const Tensor& w = m.qkv().weight();
  return ops::randn({2, 5, m.options().dim}, w.dtype(), w.device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("multi_head_attention", MultiHeadAttention);

}  // namespace gau::layers
