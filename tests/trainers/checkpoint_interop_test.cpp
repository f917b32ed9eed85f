// Checkpoint interop: a gau checkpoint of a GAU, FLASH or Transformer++ language model, read by an
// independent PyTorch implementation (tests/reference/lm_interop.py), gives gau's logits.
//
// Each case is a tiny preset (configs/models/*_tiny.yaml shrunk by overrides), its weights drawn
// by the seeded init (manual_seed(train.seed), then build_model) and woken (below), saved with
// save_checkpoint and loaded back into a model built from the checkpoint's own config. Its
// logits for fixed ids are compared
//   - always, with the committed fixture tests/reference/fixtures/lm_interop_<case>.json, which
//     lm_interop.py made from the same checkpoint: the fixture also holds a fingerprint of every
//     weight, so a changed init shows as such rather than as a logit mismatch;
//   - with GAU_TEST_PYTHON naming a Python with torch, safetensors and PyYAML, live: the script
//     reads the fresh checkpoint and compares its logits with gau's.
// GAU_INTEROP_WRITE_FIXTURES=1 (with that Python) remakes the fixtures first.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/rng.h"
#include "layers/models/language_model.h"
#include "tests/support/files.h"
#include "tests/support/fixture.h"
#include "tests/support/parity.h"
#include "tests/trainers/config/config_files.h"
#include "trainers/checkpoint.h"
#include "trainers/config/load.h"
#include "trainers/config/model_section.h"
#include "trainers/config/resolve.h"
#include "trainers/safetensors.h"

namespace gau::trainers {
namespace {

namespace fs = std::filesystem;

// gau computes in f32, the reference in f64, so the difference is gau's rounding: about 1e-7 per
// operation, grown by sums of up to e = 64 terms, relu²'s squaring and up to five blocks;
// measured at up to 1.2e-6 of (|logit| + rms) over the ten cases. 1e-5 leaves that a margin of 8
// (the rule of expect_matches: each logit within rtol (|ref| + rms(ref)), sums within rtol of
// their L1 mass), while every misread convention tried in the reference moved the logits by 7e-4
// of that or more (RoPE off or on adjacent pairs, GAU's inv_n from the input's n instead of
// max_length, q and k or ql and kl swapped, FLASH without its linear part or with another
// normaliser or chunk, β dropped, another RMSNorm eps; and for the relative and kernel cases: the
// offset's sign flipped, a bias dropped, offsets past max_offset given 0 instead of the outermost
// bias, T5's bidirectional halves swapped or bidirectional misread, T5's log bucket rounded
// instead of floored, softmax_plus without its log n / log B, at base 512, with log of the input's
// n or with the factor on the bias too, relu² in place of softmax or Laplace, Laplace's μ 0.5,
// FLASH's chunk not clamped to max_length, ScaleNorm's eps added or under the root instead of a
// clamp, rope_base 10000, LayerNorm's and the final norm's eps at their defaults). GAU at
// max_length 64 is the least sensitive: its relu² weights stay small at 1/n; so is RoPE in a
// softmax block at 1/(n√s) (8e-4), whose weights stay near uniform.
constexpr double kRtol = 1e-5;

struct Case {
  const char* name;    // fixtures/lm_interop_<name>.json
  const char* preset;  // configs/models/<preset>.yaml
  std::vector<std::string> overrides;
  int64_t b, n;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// vocab 64, d = 32, 2 blocks, max_length 64: small enough for a fast test and small fixtures.
std::vector<std::string> tiny(uint64_t seed, std::vector<std::string> more) {
  std::vector<std::string> o = {"model.vocab=64", "model.dim=32", "model.max_length=64", "model.layers=2",
                                "train.seed=" + std::to_string(seed)};
  o.insert(o.end(), more.begin(), more.end());
  return o;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // The presets' options: ScaleNorm blocks, RoPE, a final RMSNorm, tied embeddings. n = 32 is
      // below max_length 64, so GAU's inv_n must use max_length, not the input's n.
      {"gau", "gau_tiny", tiny(11, {"model.blocks.s=16"}), 2, 32},
      // chunk 8 < n: 4 chunks, so the causal linear part across chunks matters.
      {"flash", "flash_tiny", tiny(12, {"model.blocks.s=16", "model.blocks.chunk=8"}), 2, 32},
      {"transformer_pp", "transformer_pp_tiny", tiny(13, {"model.blocks.heads=4", "model.blocks.hidden=48"}), 2, 32},
      // The other options the reference implements: n = 29 pads FLASH's last chunk; the prefix
      // normaliser; LayerNorm and RMSNorm blocks; final norms other than RMSNorm; an untied head;
      // no positions; GAU's 1/sqrt(s); Transformer++ with biases.
      {"flash_variants", "flash_tiny",
       tiny(14, {"model.blocks.s=16", "model.blocks.chunk=8", "model.blocks.linear_norm=prefix",
                 "model.blocks.norm=layer_norm", "model.final_norm=scale_norm", "model.tie_embeddings=false"}),
       2, 29},
      {"gau_variants", "gau_tiny",
       tiny(15, {"model.blocks.s=16", "model.blocks.position=none", "model.blocks.scale=inv_sqrt_s",
                 "model.blocks.norm=rms_norm", "model.final_norm=none"}),
       2, 20},
      {"transformer_pp_variants", "transformer_pp_tiny",
       tiny(16, {"model.blocks.heads=2", "model.blocks.hidden=40", "model.blocks.bias=true",
                 "model.final_norm=layer_norm"}),
       2, 17},
      // GAU's other kernels, one per block of a list: softmax with RoPE at 1/(n√s); Laplace at
      // 1/n with learned biases per offset, 6 < n so the outer offsets share one; softmax_plus
      // (a base of 8, not 512) at 1/√s with one-directional T5 buckets. relative_init_std 0.5 lets
      // the biases weigh against the scores. Each block has another norm, and e and norm_eps are
      // not the defaults: ScaleNorm's eps 0.11 lies inside the range of the embeddings' norms
      // (0.09 to 0.14), so its clamp max(||x||, eps) acts on some rows and not on others.
      {"gau_kernels", "gau_tiny",
       tiny(17, {"model.layers=3",
                 "model.blocks=[{type: gau, s: 16, kernel: softmax, scale: inv_n_sqrt_s, e: 48, norm_eps: 0.11},"
                 " {type: gau, s: 16, kernel: laplace, position: relative, relative_kind: per_offset, max_offset: 6,"
                 " relative_init_std: 0.5, norm: rms_norm},"
                 " {type: gau, s: 16, kernel: softmax_plus, softmax_plus_base: 8, scale: inv_sqrt_s,"
                 " position: relative, relative_kind: t5, num_buckets: 8, max_distance: 20, relative_init_std: 0.5,"
                 " norm: layer_norm, norm_eps: 0.01}]"}),
       2, 32},
      // relu² with relative biases: T5 buckets with bidirectional set in a causal model (half the
      // buckets for earlier keys, so other ones than one-directional's), then per offset with
      // max_offset above n at 1/(n√s); n = 24 < max_length; a final RMSNorm with a large eps.
      {"gau_relative", "gau_tiny",
       tiny(18, {"model.blocks=[{type: gau, s: 16, e: 40, position: relative, relative_kind: t5, num_buckets: 12,"
                 " max_distance: 40, bidirectional: true, relative_init_std: 0.3},"
                 " {type: gau, s: 16, position: relative, relative_kind: per_offset, max_offset: 40,"
                 " relative_init_std: 0.3, scale: inv_n_sqrt_s}]",
                 "model.norm_eps=0.05"}),
       2, 24},
      // FLASH's bias per offset inside a chunk: chunks of 8 with the normaliser n (n = 29 pads the
      // last one), then a chunk of 128, which max_length 64 clamps to 64 (its scores divide by 64
      // and its bias has 127 entries); then no positions, in two chunks of 16.
      {"flash_relative", "flash_tiny",
       tiny(19, {"model.layers=3",
                 "model.blocks=[{type: flash, s: 16, chunk: 8, position: relative, linear_norm: n},"
                 " {type: flash, s: 16, e: 48, chunk: 128, position: relative, norm: rms_norm, norm_eps: 0.01},"
                 " {type: flash, s: 8, e: 16, chunk: 16, position: none}]"}),
       2, 29},
      // Transformer++ with biases per offset (max_offset 5 < n) and with T5 buckets (one
      // bias table shared by the heads), then RoPE at another base with another eps, no positions,
      // and a GAU block after them: a list may mix block types.
      {"transformer_pp_relative", "transformer_pp_tiny",
       tiny(20, {"model.layers=5",
                 "model.blocks=[{type: transformer_pp, heads: 4, hidden: 48, position: relative,"
                 " relative_kind: per_offset, max_offset: 5, relative_init_std: 0.5},"
                 " {type: transformer_pp, heads: 2, hidden: 40, position: relative, relative_kind: t5,"
                 " num_buckets: 10, max_distance: 40, relative_init_std: 0.5},"
                 " {type: transformer_pp, heads: 4, hidden: 48, rope_base: 100, eps: 0.01},"
                 " {type: transformer_pp, heads: 2, hidden: 16, position: none}, {type: gau, s: 16}]"}),
       2, 21},
  };
  return all;
}

// The preset with the case's overrides; the presets hold only a model, and a run's config needs
// data too (the stored config is what the reference reads, so any data will do).
config::LoadedConfig load(const Case& c) {
  std::vector<std::string> overrides = {"data={source: synthetic}"};
  overrides.insert(overrides.end(), c.overrides.begin(), c.overrides.end());
  return config::load_config((config::test::source_configs() / "models" / (std::string(c.preset) + ".yaml")).string(),
                             overrides);
}

// The seeded init: the generator seeded with the config's train.seed, then the model built.
std::shared_ptr<layers::LanguageModel> build_seeded(const config::LoadedConfig& config, uint64_t seed) {
  manual_seed(seed);
  auto lm = std::dynamic_pointer_cast<layers::LanguageModel>(config::build_model(config));
  GAU_CHECK(lm != nullptr, "the interop configs build language models");
  return lm;
}

// The init leaves GAU's attention asleep (γ ~ N(0, 0.02), β = 0: relu²(q·k) ~ 1e-10) and every
// gain at 1 (or √d) and bias at 0, under which a misread γ, bias or gain would not show in the
// logits. So every parameter the init left constant c becomes c · U(0.5, 1.5) (U(-0.2, 0.2) for
// c = 0) and GAU/FLASH's γ becomes U(0.5, 1.5), from counter-based draws: the weights stay a
// function of the seed alone.
void wake(layers::Module& model) {
  uint64_t draw = 100;
  for (const auto& [name, p] : model.named_parameters()) {
    ++draw;
    const std::vector<double> v = test::values(p);
    const bool constant = std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
    const bool gamma = name.size() >= 11 && name.compare(name.size() - 11, 11, "heads.gamma") == 0;
    if (!constant && !gamma) continue;
    const double c = gamma ? 1.0 : v.front();
    const Tensor u = c == 0 ? test::counter_uniform(p.shape(), draw, -0.2, 0.2, p.dtype())
                            : test::counter_uniform(p.shape(), draw, 0.5 * c, 1.5 * c, p.dtype());
    ops::copy_(p, u);
  }
}

// Token ids [b, n] in [0, vocab): floor(vocab · u) of the counter-based draws.
Tensor interop_ids(int64_t b, int64_t n, int64_t vocab) {
  std::vector<double> u = test::values(test::counter_uniform({b, n}, 4242, 0, static_cast<double>(vocab), DType::f64));
  std::vector<int64_t> ids;
  for (const double x : u) ids.push_back(static_cast<int64_t>(std::floor(x)));
  return ops::from_vector<int64_t>(ids, {b, n});
}

// One case made: its checkpoint, the model loaded back from it, and that model's logits.
struct Made {
  fs::path checkpoint, gau_out;  // gau_out: ids and logits, for lm_interop.py
  std::shared_ptr<layers::LanguageModel> model;
  Tensor ids, logits;
};

Made make(const Case& c, const fs::path& dir) {
  const config::LoadedConfig config = load(c);
  const YAML::Node resolved = config::resolve_config(config);
  const uint64_t seed = resolved["train"]["seed"].as<uint64_t>();
  auto built = build_seeded(config, seed);
  wake(*built);
  Made m;
  m.checkpoint = save_checkpoint(dir / "run", {.step = 0, .config_yaml = config::dump_config(resolved)}, *built);
  // Loaded back into a model built from the checkpoint's own config, and a seed it does not
  // share: every weight must come from the file.
  const Checkpoint ck = read_checkpoint(m.checkpoint);
  const fs::path written = dir / "config.yaml";
  test::write_bytes(written, ck.state.config_yaml);
  m.model = build_seeded(config::load_config(written.string()), seed + 1000);
  load_checkpoint(m.checkpoint, *m.model);
  m.model->eval();
  m.ids = interop_ids(c.b, c.n, m.model->options().vocab);
  m.logits = m.model->logits(m.ids);
  m.gau_out = dir / "gau_out.safetensors";
  save_safetensors(m.gau_out, {{"ids", m.ids}, {"logits", m.logits}});
  return m;
}

std::string fixture_name(const Case& c) { return std::string("lm_interop_") + c.name; }

std::string script() { return test::reference_path("lm_interop.py").string(); }

std::optional<std::string> interop_python() { return test::python_with({"torch", "safetensors", "numpy", "yaml"}); }

bool writing_fixtures() {
  const char* env = std::getenv("GAU_INTEROP_WRITE_FIXTURES");
  return env && std::string(env) == "1";
}

// The weights against the fixture's fingerprints: the same names, shapes, sums, sums of squares
// and probes. Another draw moves each by about its own size; 1e-6 of the mass still passes an
// element one f32 ulp off, as another libm's log or cos in the normal draws might give.
void expect_same_weights(const layers::StateDict& got, const nlohmann::json& want) {
  ASSERT_EQ(got.size(), want.size()) << "the model has other parameters than the fixture's checkpoint";
  for (const auto& [name, t] : got) {
    SCOPED_TRACE(name + " (a changed init or parameter order remakes the fixtures; see lm_interop.py)");
    ASSERT_TRUE(want.contains(name)) << "not in the fixture";
    const nlohmann::json& w = want[name];
    ASSERT_EQ(Shape(w["shape"].get<std::vector<int64_t>>()), t.shape());
    const std::vector<double> v = test::values(t);
    const std::vector<double> probe = test::values(test::counter_uniform(t.shape(), 7001, -1, 1, DType::f64));
    double sum = 0, sumsq = 0, dot = 0, mass = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      sum += v[i];
      sumsq += v[i] * v[i];
      dot += v[i] * probe[i];
      mass += std::abs(v[i]);
    }
    EXPECT_NEAR(sum, w["sum"].get<double>(), 1e-6 * mass) << "sum";
    EXPECT_NEAR(sumsq, w["sumsq"].get<double>(), 2e-6 * sumsq) << "sum of squares";
    EXPECT_NEAR(dot, w["probe"].get<double>(), 1e-6 * mass) << "probe";
  }
}

class CheckpointInterop : public ::testing::TestWithParam<Case> {
 protected:
  test::TempDir dir_;
};

TEST_P(CheckpointInterop, MatchesTheCommittedPyTorchFixture) {
  const Case& c = GetParam();
  const Made m = make(c, dir_.path());
  if (writing_fixtures()) {
    auto py = interop_python();
    ASSERT_TRUE(py) << "GAU_INTEROP_WRITE_FIXTURES needs GAU_TEST_PYTHON with torch, safetensors and PyYAML";
    const fs::path out = test::reference_path("fixtures/" + fixture_name(c) + ".json");
    auto [rc, log] = test::run_command(*py + " " + script() + " fixture " + m.checkpoint.string() + " " +
                                       m.gau_out.string() + " " + out.string());
    ASSERT_EQ(rc, 0) << log;
  }
  const nlohmann::json fx = test::load_fixture(fixture_name(c));
  ASSERT_FALSE(fx.empty());
  expect_same_weights(m.model->state_dict(), fx["weights"]);
  std::vector<double> ids;
  for (const auto& row : fx["ids"])
    for (const auto& id : row) ids.push_back(id.get<double>());
  EXPECT_EQ(test::values(m.ids), ids) << "the fixture's ids";
  test::expect_matches(m.logits, fx["logits"], kRtol, std::string(c.name) + " logits");
}

TEST_P(CheckpointInterop, PyTorchReadsTheCheckpointAndComputesTheSameLogits) {
  auto py = interop_python();
  if (!py) GTEST_SKIP() << "no Python with torch, safetensors and PyYAML (set GAU_TEST_PYTHON)";
  const Made m = make(GetParam(), dir_.path());
  auto [rc, log] = test::run_command(*py + " " + script() + " check " + m.checkpoint.string() + " " +
                                     m.gau_out.string() + " --rtol " + std::to_string(kRtol));
  EXPECT_EQ(rc, 0) << log;
  std::cout << log;
}

INSTANTIATE_TEST_SUITE_P(Flavours, CheckpointInterop, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// What the fixtures rest on: the seed fixes every weight, bit for bit, and another seed changes them.
TEST(CheckpointInterop, TheSeedFixesTheWeights) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const config::LoadedConfig config = load(c);
    const layers::StateDict a = build_seeded(config, 5)->state_dict(), b = build_seeded(config, 5)->state_dict(),
                            other = build_seeded(config, 6)->state_dict();
    ASSERT_EQ(a.size(), b.size());
    bool any_differs = false;
    for (const auto& [name, t] : a) {
      EXPECT_EQ(test::values(t), test::values(b.at(name))) << name;
      any_differs = any_differs || test::values(t) != test::values(other.at(name));
    }
    EXPECT_TRUE(any_differs);
  }
}

}  // namespace
}  // namespace gau::trainers
