// ConfigReader and registry errors: unknown keys with path, position and nearest key, missing
// keys, wrong types, ranges, unknown types, and the filled-in config.
#include "layers/config_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "layers/registry.h"
#include "tests/support/checks.h"

namespace gau::layers {
namespace {

using test::error_of;

void expect_has(const std::string& msg, const std::string& want) {
  EXPECT_NE(msg.find(want), std::string::npos) << "missing '" << want << "' in:\n" << msg;
}

TEST(ConfigReader, ReadsValuesAndFillsDefaults) {
  ConfigReader r(YAML::Load("{n: 3, p: 0.5, on: true, name: abc, dims: [1, 2], parts: {a: 2, b: 5}}"), "m");
  EXPECT_EQ(r.integer("n", Range::at_least(1)), 3);
  EXPECT_EQ(r.integer("missing", 7), 7);
  EXPECT_DOUBLE_EQ(r.number("p", Range::between(0, 1)), 0.5);
  EXPECT_TRUE(r.boolean("on"));
  EXPECT_EQ(r.string("name"), "abc");
  EXPECT_EQ(r.choice("kind", {"x", "y"}, "y"), "y");
  EXPECT_EQ(r.integers("dims"), (std::vector<int64_t>{1, 2}));
  const auto parts = r.named_integers("parts");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].first, "b");
  EXPECT_EQ(parts[1].second, 5);
  r.check_no_unknown_keys();
  const YAML::Node f = r.filled();
  EXPECT_EQ(f["missing"].as<int64_t>(), 7);
  EXPECT_EQ(f["kind"].as<std::string>(), "y");
  EXPECT_EQ(f["parts"]["a"].as<int64_t>(), 2);
}

TEST(ConfigReader, UnknownKeyNamesPathPositionNearestAndValidKeys) {
  const YAML::Node node = YAML::Load("dim: 4\nexpanson: 2\n");
  ConfigReader r(node, "model.blocks[2].gau", "configs/x.yaml");
  r.integer("dim");
  r.integer("expansion", 2);
  const std::string msg = error_of([&] { r.check_no_unknown_keys(); });
  expect_has(msg, "model.blocks[2].gau.expanson (configs/x.yaml:2:1): unknown key 'expanson'");
  expect_has(msg, "did you mean 'expansion'?");
  expect_has(msg, "valid keys: dim, expansion");
}

TEST(ConfigReader, MissingWrongTypeAndRange) {
  ConfigReader r(YAML::Load("a: abc\nb: 0\nc: [1]\nd: 1.5\ne: maybe\nf: relu3\n"), "layer");
  expect_has(error_of([&] { r.integer("nope", Range::at_least(1)); }),
             "layer.nope (line 1:1): missing required key 'nope' (an integer >= 1)");
  expect_has(error_of([&] { r.integer("a"); }), "layer.a (line 1:4): expected an integer, got 'abc'");
  expect_has(error_of([&] { r.integer("b", Range::at_least(1)); }), "layer.b (line 2:4): must be >= 1, got 0");
  expect_has(error_of([&] { r.number("c"); }), "expected a number, got a list");
  expect_has(error_of([&] { r.integer("d"); }), "expected an integer, got '1.5'");
  ConfigReader big(YAML::Load("steps: 1e6\nrows: 2.5e3\nhuge: 1e300\nlist: [1e3, 20]\n"), "train");
  EXPECT_EQ(big.integer("steps"), 1000000);  // a whole number in exponent form is an integer
  EXPECT_EQ(big.integer("rows"), 2500);
  expect_has(error_of([&] { big.integer("huge"); }), "expected an integer, got '1e300', too large for an integer");
  EXPECT_EQ(error_of([&] { r.integer("d"); }).find("too large"), std::string::npos);  // 1.5: not a size matter
  EXPECT_EQ(big.integers("list"), (std::vector<int64_t>{1000, 20}));
  expect_has(error_of([&] { r.boolean("e"); }), "expected true or false, got 'maybe'");
  const std::string msg = error_of([&] { r.choice("f", {"relu2", "softmax", "laplace"}, "relu2"); });
  expect_has(msg, "'relu3' is not one of: relu2, softmax, laplace; did you mean 'relu2'?");
  expect_has(error_of([&] { r.number("b", Range::greater_than(0)); }), "must be a finite number > 0, got 0");
}

TEST(Registry, UnknownTypeListsRegisteredTypes) {
  const std::string msg = error_of([] { build(YAML::Load("{type: lineer, in: 2, out: 3}"), "model.head"); });
  expect_has(msg, "model.head.type (line 1:8): unknown layer type 'lineer'; registered types:");
  expect_has(msg, "embedding");
  expect_has(msg, "did you mean 'linear'?");
  expect_has(error_of([] { build(YAML::Load("{in: 2}"), "model"); }), "missing required key 'type'");
  expect_has(error_of([] { build(YAML::Load("[1, 2]"), "model"); }), "model (line 1:1): expected a map of keys");
}

TEST(Registry, NestedPathsInErrorsAndFilledConfig) {
  const char* text =
      "type: sequential\n"
      "layers:\n"
      "  - {type: linear, in: 4, out: 3}\n"
      "  - {type: linear, in: 3, out: 2, bais: false}\n";
  expect_has(error_of([&] { build(YAML::Load(text), "model"); }),
             "model.layers[1].bais (line 4:35): unknown key 'bais'; did you mean 'bias'?");
  auto m = build(YAML::Load("{type: sequential, layers: [{type: linear, in: 4, out: 3}]}"), "model");
  EXPECT_EQ(m->children()[0]->path(), "model.layers[0]");
  const YAML::Node c = m->config();
  EXPECT_EQ(c["type"].as<std::string>(), "sequential");
  EXPECT_EQ(c["layers"][0]["bias"].as<bool>(), true) << "defaults are filled in";
  EXPECT_EQ(c["layers"][0]["init"].as<std::string>(), "uniform");
}

TEST(ConfigReader, ReadKeyLogNotesWhatEachKeyExpects) {
  ReadKeyLog log;
  ConfigReader r(YAML::Load("{n: 3, scale: 2, inner: {k: 1}}"), "m");
  r.integer("n", Range::at_least(1));
  r.document("width", "integer >= 1", "2 n");  // a derived default, described before the read
  r.integer("width", 6, Range::at_least(1));
  r.number("p", 0.5, Range::between(0, 1));
  r.choice("kind", {"x", "y"}, "y");  // a choice reads through string(): its own note stays
  EXPECT_FALSE(r.number_if_given("floor", Range::at_least(0)).has_value());
  EXPECT_EQ(*r.number_if_given("scale", Range::greater_than(0)), 2.0);
  ConfigReader inner(r.raw("inner"), "m.inner");
  inner.integer("k", 0);
  r.raw("list", "list of names");
  EXPECT_EQ(ReadKeyLog::current(), &log);

  using Need = ReadKey::Need;
  const std::vector<ReadKey>& keys = log.keys();
  ASSERT_EQ(keys.size(), 9u);
  auto expect_key = [&](size_t i, const char* path, const char* key, const char* expected, Need need,
                        const char* fallback) {
    EXPECT_EQ(keys[i].path, path) << i;
    EXPECT_EQ(keys[i].key, key) << i;
    EXPECT_EQ(keys[i].expected, expected) << i;
    EXPECT_EQ(keys[i].need, need) << i;
    EXPECT_EQ(keys[i].fallback, fallback) << i;
  };
  expect_key(0, "m", "n", "integer >= 1", Need::required, "");
  expect_key(1, "m", "width", "integer >= 1", Need::fallback, "2 n");
  expect_key(2, "m", "p", "number in [0, 1]", Need::fallback, "0.5");
  expect_key(3, "m", "kind", "one of: x, y", Need::fallback, "y");
  expect_key(4, "m", "floor", "number >= 0", Need::optional, "");
  expect_key(5, "m", "scale", "number > 0", Need::optional, "");
  expect_key(6, "m", "inner", "", Need::fallback, "");  // read raw: nothing to say about it
  expect_key(7, "m.inner", "k", "integer", Need::fallback, "0");
  expect_key(8, "m", "list", "list of names", Need::fallback, "");
}

TEST(ConfigReader, ExplainedKeysHaveHelpInTheLog) {
  ReadKeyLog log;
  ConfigReader r(YAML::Load("{n: 3, inner: {n: 1}}"), "m");
  r.integer("n", Range::at_least(1));
  r.explain({{"n", "rows"}, {"p", "a share"}});  // after the read, or before: either order
  ConfigReader inner(r.raw("inner"), "m.inner");
  inner.explain({{"n", "inner rows"}});
  r.explain({{"p", "the share of rows"}});  // the last word stands
  EXPECT_EQ(log.help("m", "n"), "rows");
  EXPECT_EQ(log.help("m.inner", "n"), "inner rows");
  EXPECT_EQ(log.help("m", "p"), "the share of rows");
  EXPECT_EQ(log.help("m", "q"), "");
}

TEST(ConfigReader, NoLogNoNotes) {
  EXPECT_EQ(ReadKeyLog::current(), nullptr);
  {
    ReadKeyLog outer;
    {
      ReadKeyLog nested;
      ConfigReader(YAML::Load("{n: 1}"), "m").integer("n", 0);
      EXPECT_EQ(nested.keys().size(), 1u);
    }
    EXPECT_EQ(ReadKeyLog::current(), &outer);
    EXPECT_TRUE(outer.keys().empty());
  }
  EXPECT_EQ(ReadKeyLog::current(), nullptr);
}

TEST(ConfigReader, NearestNeedsAPlausibleTypo) {
  EXPECT_EQ(nearest("dimm", {"dim", "expansion"}), "dim");
  EXPECT_EQ(nearest("zzzzzz", {"dim", "expansion"}), "");
  EXPECT_EQ(nearest("0", {"e", "s", "dim"}), "");  // a list index given to a map
  EXPECT_EQ(nearest("ee", {"e", "s", "dim"}), "e");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace gau::layers
