// GatedConv and the plugin's declaration: this file's two macro lines at the end are what make
// libgau_custom.so a gau plugin that `gau train` can load (layers/plugin.h).
#include "gated_conv.h"

#include <cmath>
#include <string>

#include "autograd/functions.h"
#include "causal_conv1d.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/view.h"
#include "layers/init.h"
#include "layers/plugin.h"
#include "layers/registry.h"

namespace gau_custom {

using gau::Tensor;
namespace layers = gau::layers;

namespace {

// The decoding state: the last k - 1 values of v of each sequence, [b, k - 1, e].
struct GatedConvCache : layers::DecodeCache {
  Tensor history;
  int64_t batch = 0;
  int64_t max_length = 0;
};

}  // namespace

GatedConv::GatedConv(const GatedConvOptions& options)
    : SequenceBlock("GatedConv"), opt_(options), e_(options.e > 0 ? options.e : 2 * options.dim) {
  GAU_CHECK(opt_.dim >= 1 && opt_.kernel >= 1 && opt_.max_length >= 0,
            "GatedConv: dim and kernel must be >= 1 and max_length >= 0, got dim ", opt_.dim, ", kernel ", opt_.kernel,
            ", max_length ", opt_.max_length);
  norm_ = register_module("norm", layers::make_norm(opt_.norm, opt_.dim, opt_.norm_eps));
  w_in_ = register_module("w_in", std::make_shared<layers::FusedLinear>(
                                      opt_.dim, std::vector<std::pair<std::string, int64_t>>{{"v", e_}, {"g", e_}}));
  // PyTorch's Conv1d default for a depthwise kernel (fan-in k): U(±1/sqrt(k)).
  conv_ = register_parameter("conv", gau::ops::empty({opt_.kernel, e_}));
  const double bound = 1.0 / std::sqrt(static_cast<double>(opt_.kernel));
  layers::init::uniform_(conv_, -bound, bound);
  w_out_ = register_module("w_out", std::make_shared<layers::Linear>(e_, opt_.dim));
}

void GatedConv::check_input(const Tensor& x) const {
  GAU_CHECK(x.defined() && x.dim() == 3 && x.size(2) == opt_.dim, where(), ": expected x [b, n, ", opt_.dim, "], got ",
            x.defined() ? gau::describe(x) : std::string("an undefined tensor"));
}

layers::NamedViews GatedConv::project_in(const Tensor& x) { return w_in_->forward_views(norm_->forward(x)); }

Tensor GatedConv::project_out(const Tensor& x, const Tensor& conv, const Tensor& g) {
  return gau::add(x, w_out_->forward(gau::mul(conv, gau::silu(g))));
}

// info.key_lengths needs nothing here: padding sits at the end of a row, and a causal convolution
// never carries a later token back into an earlier one.
Tensor GatedConv::forward_sequence(const Tensor& x, const layers::SequenceInfo& /*info*/) {
  check_input(x);
  GAU_CHECK(opt_.max_length == 0 || x.size(1) <= opt_.max_length, where(), ": the sequence has ", x.size(1),
            " tokens, more than max_length ", opt_.max_length);
  const layers::NamedViews p = project_in(x);
  return project_out(x, causal_conv1d(p["v"], conv_), p["g"]);
}

std::unique_ptr<layers::DecodeCache> GatedConv::start_decoding(int64_t batch, int64_t max_length) const {
  GAU_CHECK(batch >= 1 && max_length >= 1, where(), ": decoding needs batch >= 1 and max_length >= 1, got ", batch,
            " and ", max_length);
  GAU_CHECK(opt_.max_length == 0 || max_length <= opt_.max_length, where(), ": decoding ", max_length,
            " tokens, more than max_length ", opt_.max_length);
  auto cache = std::make_unique<GatedConvCache>();
  cache->history = gau::ops::zeros({batch, opt_.kernel - 1, e_}, conv_.dtype(), conv_.device());
  cache->batch = batch;
  cache->max_length = max_length;
  return cache;
}

Tensor GatedConv::decode(const Tensor& x, layers::DecodeCache& base) {
  auto* cache = dynamic_cast<GatedConvCache*>(&base);
  GAU_CHECK(cache != nullptr, where(), ": decode was given a cache that this block's start_decoding did not make");
  gau::NoGradGuard no_grad;
  check_input(x);
  const int64_t m = x.size(1), k = opt_.kernel;
  GAU_CHECK(x.size(0) == cache->batch, where(), ": the cache holds ", cache->batch, " sequences, x ", gau::describe(x));
  GAU_CHECK(cache->position + m <= cache->max_length, where(), ": decoding to position ", cache->position + m,
            " past the cache's max_length ", cache->max_length);
  const layers::NamedViews p = project_in(x);
  // The new tokens' v behind the k - 1 before them: the same op over this window gives, in its
  // last m rows, what forward_sequence gives for these positions.
  const Tensor window = gau::ops::cat({cache->history, p["v"]}, 1);  // [b, k - 1 + m, e]
  const Tensor conv = gau::ops::narrow(causal_conv1d(window, conv_), 1, k - 1, m);
  cache->history = gau::ops::contiguous(gau::ops::narrow(window, 1, m, k - 1));
  cache->position += m;
  return project_out(x, conv, p["g"]);
}

std::shared_ptr<layers::Module> GatedConv::from_config(layers::ConfigReader& r) {
  GatedConvOptions o;
  r.explain({{"dim", "width of the block's input and output (a model sets it)"},
             {"e", "width of the gated expansion"},
             {"kernel", "taps of the causal depthwise convolution"},
             {"norm", "the pre-norm"},
             {"norm_eps", "epsilon of the pre-norm"},
             {"max_length", "longest sequence (a model sets it)"},
             {"causal", "must be true (a model sets it)"}});
  o.dim = r.integer("dim", layers::Range::at_least(1));
  r.document("e", "integer >= 1", "2 dim");  // a default derived from dim, for --keys
  o.e = r.integer("e", 2 * o.dim, layers::Range::at_least(1));
  o.kernel = r.integer("kernel", 4, layers::Range::at_least(1));
  o.norm = layers::norm_kind_from_name(r.choice("norm", {"rms_norm", "layer_norm", "scale_norm"}, "rms_norm"));
  o.norm_eps = r.number("norm_eps", 1e-5, layers::Range::greater_than(0));
  o.max_length = r.integer("max_length", 0, layers::Range::at_least(0));
  if (!r.boolean("causal", true))
    r.fail("causal", "gated_conv is causal only (its convolution looks back, never ahead), got false");
  return std::make_shared<GatedConv>(o);
}

const char* GatedConv::example_config() { return "{dim: 8, e: 12, kernel: 3}"; }

Tensor GatedConv::example_input(const GatedConv& m, uint64_t seed) {
  gau::Generator gen(seed);
  return gau::ops::randn({2, 6, m.width()}, m.conv_.dtype(), m.conv_.device(), 0, 1, &gen);
}

}  // namespace gau_custom

// The plugin record (its name and the gau version it is built against, checked by the loader
// before anything of this library runs) and the layer type it adds.
GAU_PLUGIN("gau_custom");
GAU_REGISTER_LAYER("gated_conv", gau_custom::GatedConv);
