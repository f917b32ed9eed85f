#include "layers/positions.h"

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/ops/rope.h"
#include "core/ops/view.h"
#include "layers/attention/cpu/attention_math.h"
#include "layers/init.h"
#include "layers/rebind.h"
#include "layers/registry.h"

namespace gau::layers {

PositionType position_type_from_name(const std::string& name) {
  if (name == "none") return PositionType::none;
  if (name == "rope") return PositionType::rope;
  if (name == "relative") return PositionType::relative;
  GAU_FAIL("unknown position type '", name, "', expected one of none, rope, relative");
}
namespace {

std::string described(const Tensor& x) { return x.defined() ? describe(x) : std::string("an undefined tensor"); }

// Rows of a table for positions [offset, offset + n), in x's dtype.
Tensor table_rows(const Module& m, const Tensor& table, int64_t offset, int64_t n, int64_t max_length,
                  const Tensor& x) {
  GAU_CHECK(offset >= 0 && offset + n <= max_length, m.where(), ": positions ", offset, " .. ", offset + n - 1,
            " are outside the table of max_length ", max_length, " (raise max_length in the config)");
  GAU_CHECK(x.device() == table.device(), m.where(), ": the input ", describe(x), " is not on the device of the table ",
            describe(table));
  return ops::to_dtype(ops::narrow(table, 0, offset, n), x.dtype());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RotaryEmbedding

RotaryEmbedding::RotaryEmbedding(int64_t dim, int64_t max_length, double base)
    : Module("RotaryEmbedding"), dim_(dim), max_length_(max_length), base_(base) {
  GAU_CHECK(dim > 0 && dim % 2 == 0,
            "RotaryEmbedding: dim must be even and > 0 (RoPE rotates pairs of dimensions), got ", dim);
  GAU_CHECK(max_length > 0 && base > 0, "RotaryEmbedding: max_length and base must be > 0, got max_length ", max_length,
            ", base ", base);
  table_ = register_buffer("table", ops::rope_table(max_length, dim, base, DType::f64), false);
}

Tensor RotaryEmbedding::apply(const Tensor& x, int64_t position_offset) const {
  GAU_CHECK(x.defined() && x.dim() >= 2 && x.size(-1) == dim_ && is_floating(x.dtype()), where(),
            ": expected a floating x [..., n, ", dim_, "], got ", described(x));
  const int64_t n = x.size(-2);
  GAU_CHECK(position_offset >= 0 && position_offset + n <= max_length_, where(), ": positions ", position_offset,
            " .. ", position_offset + n - 1, " are outside the table of max_length ", max_length_,
            " (raise max_length in the config)");
  if (table_.dtype() != DType::f32 && table_.dtype() != DType::f64)
    rebind(table_, ops::rope_table(max_length_, dim_, base_, DType::f32, table_.device()));
  GAU_CHECK(x.device() == table_.device(), where(), ": the input ", describe(x), " is not on the device of the table ",
            describe(table_));
  return gau::rope(x, table_, position_offset);
}

std::shared_ptr<Module> RotaryEmbedding::from_config(ConfigReader& r) {
  r.explain({{"dim", "width of each rotated vector (even: dimensions j and j + dim/2 rotate together)"},
             {"max_length", "positions in the cached sin/cos table"},
             {"base", "the rotation frequencies are base^(-2j/dim)"}});
  const int64_t dim = r.integer("dim", Range::at_least(1));
  if (dim % 2 != 0)
    r.fail("dim", "RotaryEmbedding rotates pairs of dimensions: dim must be even, got " + std::to_string(dim));
  const int64_t max_length = r.integer("max_length", 2048, Range::at_least(1));
  const double base = r.number("base", 10000.0, Range::greater_than(0));
  return std::make_shared<RotaryEmbedding>(dim, max_length, base);
}

const char* RotaryEmbedding::example_config() { return "{dim: 6, max_length: 16}"; }

Tensor RotaryEmbedding::example_input(const RotaryEmbedding& m, uint64_t seed) {
  Generator gen(seed);
  return ops::randn({2, 2, 5, m.dim()}, DType::f32, m.table().device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("rotary_embedding", RotaryEmbedding);

// ---------------------------------------------------------------------------------------------
// RelativePositionBias

namespace {

void check_t5_sizes(int64_t num_buckets, int64_t max_distance, bool bidirectional, std::string* why) {
  const int64_t min_buckets = bidirectional ? 4 : 2;
  if (num_buckets < min_buckets) {
    *why = "t5 buckets need num_buckets >= " + std::to_string(min_buckets) + (bidirectional ? " (bidirectional)" : "") +
           ", got " + std::to_string(num_buckets);
    return;
  }
  const int64_t max_exact = (bidirectional ? num_buckets / 2 : num_buckets) / 2;
  if (max_distance <= max_exact)
    *why = "t5 buckets need max_distance > " + std::to_string(max_exact) + " (half the buckets of a direction), got " +
           std::to_string(max_distance);
}

}  // namespace

RelativePositionBias::RelativePositionBias(const RelativeBiasOptions& options)
    : Module("RelativePositionBias"), options_(options) {
  int64_t size = 0;
  if (options.kind == RelativeBiasKind::per_offset) {
    GAU_CHECK(options.max_offset >= 0, "RelativePositionBias: max_offset must be >= 0, got ", options.max_offset);
    size = 2 * options.max_offset + 1;
  } else {
    std::string why;
    check_t5_sizes(options.num_buckets, options.max_distance, options.bidirectional, &why);
    GAU_CHECK(why.empty(), "RelativePositionBias: ", why);
    size = options.num_buckets;
  }
  table_ = register_parameter("table", ops::empty({size}));
  init::normal_(table_, 0.0, options.init_std, options.gen ? *options.gen : default_generator());
}

attention::RelativeBias RelativePositionBias::bias() const {
  attention::RelativeBias b;
  b.table = table_;
  if (options_.kind == RelativeBiasKind::per_offset) {
    b.kind = attention::RelativeBias::Kind::per_offset;
    b.max_offset = options_.max_offset;
  } else {
    b.kind = attention::RelativeBias::Kind::t5_buckets;
    b.num_buckets = options_.num_buckets;
    b.max_distance = options_.max_distance;
    b.bidirectional = options_.bidirectional;
  }
  return b;
}

int64_t RelativePositionBias::index(int64_t rel) const {
  if (options_.kind == RelativeBiasKind::per_offset)
    return attention::detail::offset_bias_index(rel, options_.max_offset);
  return attention::detail::t5_bucket(rel, options_.num_buckets, options_.max_distance, options_.bidirectional);
}

Tensor RelativePositionBias::forward(const Tensor& rel) {
  GAU_CHECK(rel.defined() && (rel.dtype() == DType::i32 || rel.dtype() == DType::i64), where(),
            ": expected relative positions (i32 or i64), got ", described(rel));
  const Tensor host = ops::contiguous(ops::to_dtype(ops::to_device(rel, Device::cpu()), DType::i64));
  const int64_t* r = host.data<int64_t>();
  std::vector<int64_t> idx(static_cast<size_t>(host.numel()));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = index(r[i]);
  const Tensor ids = ops::from_vector<int64_t>(idx, rel.shape(), table_.device());
  return gau::reshape(gau::embedding(gau::reshape(table_, {table_.numel(), 1}), ids), rel.shape());
}

RelativeBiasOptions RelativePositionBias::read_options(ConfigReader& r, const std::string& prefix,
                                                       bool bidirectional_default) {
  const std::string kind_key = prefix + "kind", init_key = prefix + "init_std";
  r.explain({{kind_key.c_str(), "per_offset: one learned bias per offset up to max_offset; t5: T5's log-spaced buckets"},
             {"max_offset", "per_offset: offsets beyond ±max_offset share the outermost bias"},
             {"num_buckets", "t5: buckets of the offset, exact for small offsets and log-spaced up to max_distance"},
             {"max_distance", "t5: offsets at or beyond this share the last bucket"},
             {"bidirectional", "t5: keys after the query get buckets of their own"},
             {init_key.c_str(), "the biases start N(0, this)"}});
  RelativeBiasOptions o;
  const std::string kind = r.choice(kind_key, {"per_offset", "t5"}, "t5");
  if (kind == "per_offset") {
    o.kind = RelativeBiasKind::per_offset;
    o.max_offset = r.integer("max_offset", 127, Range::at_least(0));
  } else {
    o.kind = RelativeBiasKind::t5;
    o.num_buckets = r.integer("num_buckets", 32, Range::at_least(2));
    o.max_distance = r.integer("max_distance", 128, Range::at_least(1));
    if (!prefix.empty()) r.document("bidirectional", "true or false", "not causal");  // the block's
    o.bidirectional = r.boolean("bidirectional", bidirectional_default);
    std::string why;
    check_t5_sizes(o.num_buckets, o.max_distance, o.bidirectional, &why);
    // The key the config gave, of the two that must agree (the default one else).
    if (!why.empty())
      r.fail(r.raw("max_distance").IsDefined() ? "max_distance" : "num_buckets", "RelativePositionBias: " + why);
  }
  o.init_std = r.number(init_key, 0.02, Range::greater_than(0));
  return o;
}

std::shared_ptr<Module> RelativePositionBias::from_config(ConfigReader& r) {
  return std::make_shared<RelativePositionBias>(read_options(r, "", true));
}

const char* RelativePositionBias::example_config() { return "{kind: t5, num_buckets: 8, max_distance: 16}"; }

Tensor RelativePositionBias::example_input(const RelativePositionBias& m, uint64_t) {
  // Every bucket of the example table is hit: exact and logarithmic offsets of both signs.
  return ops::from_vector<int64_t>({0, 1, -1, 2, -2, 3, -3, 5, -5, 9, -9, 40}, {3, 4}, m.table().device());
}

GAU_REGISTER_LAYER("relative_position_bias", RelativePositionBias);

// ---------------------------------------------------------------------------------------------
// ScaledSinusoidal

ScaledSinusoidal::ScaledSinusoidal(int64_t dim, int64_t max_length, double base)
    : Module("ScaledSinusoidal"), dim_(dim), max_length_(max_length) {
  GAU_CHECK(dim > 0 && dim % 2 == 0, "ScaledSinusoidal: dim must be even and > 0 (sines and cosines), got ", dim);
  GAU_CHECK(max_length > 0 && base > 0, "ScaledSinusoidal: max_length and base must be > 0, got max_length ",
            max_length, ", base ", base);
  const int64_t half = dim / 2;
  std::vector<double> pe(static_cast<size_t>(max_length * dim));
  for (int64_t p = 0; p < max_length; ++p)
    for (int64_t j = 0; j < half; ++j) {
      const double angle = static_cast<double>(p) * std::pow(base, -2.0 * static_cast<double>(j) / dim);
      pe[static_cast<size_t>(p * dim + j)] = std::sin(angle);
      pe[static_cast<size_t>(p * dim + half + j)] = std::cos(angle);
    }
  scale_ = register_parameter("scale", ops::full({1}, 1.0 / std::sqrt(static_cast<double>(dim))));
  table_ = register_buffer("table", ops::from_vector<double>(pe, {max_length, dim}), false);
}

Tensor ScaledSinusoidal::forward(const Tensor& x, int64_t position_offset) {
  GAU_CHECK(x.defined() && x.dim() == 3 && x.size(2) == dim_, where(), ": expected x [b, n, ", dim_, "], got ",
            described(x));
  GAU_CHECK(x.dtype() == scale_.dtype(), where(), ": x ", describe(x), " does not match the scale ", describe(scale_),
            " in dtype");
  const Tensor pe = table_rows(*this, table_, position_offset, x.size(1), max_length_, x);  // [n, d]
  return gau::add(x, gau::mul(pe, scale_));
}

std::shared_ptr<Module> ScaledSinusoidal::from_config(ConfigReader& r) {
  r.explain({{"dim", "width of the input the embedding is added to (even: sines and cosines)"},
             {"max_length", "positions in the cached table"},
             {"base", "the frequencies are base^(-2j/dim)"}});
  const int64_t dim = r.integer("dim", Range::at_least(1));
  if (dim % 2 != 0) r.fail("dim", "ScaledSinusoidal needs an even dim (sines and cosines), got " + std::to_string(dim));
  const int64_t max_length = r.integer("max_length", 2048, Range::at_least(1));
  const double base = r.number("base", 10000.0, Range::greater_than(0));
  return std::make_shared<ScaledSinusoidal>(dim, max_length, base);
}

const char* ScaledSinusoidal::example_config() { return "{dim: 6, max_length: 16}"; }

Tensor ScaledSinusoidal::example_input(const ScaledSinusoidal& m, uint64_t seed) {
  Generator gen(seed);
  return ops::randn({2, 5, m.dim()}, m.scale().dtype(), m.scale().device(), 0, 1, &gen);
}

GAU_REGISTER_LAYER("scaled_sinusoidal", ScaledSinusoidal);

}  // namespace gau::layers
