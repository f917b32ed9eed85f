// Parameter groups: glob matching over hierarchical names, first-match lr multipliers, and the
// ranges of the flat buffer: merged across alignment gaps for elementwise optimizers, one per
// parameter (with its matrix view) for LAMB and Adafactor, every element of every parameter in
// exactly one range with its own settings.
#include "optim/param_groups.h"

#include <gtest/gtest.h>

#include "tests/optim/problem.h"

namespace gau::optim {
namespace {

TEST(ParamGroups, GlobMatchesWholeHierarchicalNames) {
  EXPECT_TRUE(glob_match("*.bias", "blocks.3.gau.w_in.bias"));
  EXPECT_FALSE(glob_match("*.bias", "blocks.3.gau.bias_table"));
  EXPECT_TRUE(glob_match("*norm*", "blocks.0.norm1.weight"));
  EXPECT_TRUE(glob_match("blocks.?.*", "blocks.7.ffn.weight"));
  EXPECT_FALSE(glob_match("blocks.?.*", "blocks.12.ffn.weight"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "a.x.b.y.c"));
  EXPECT_FALSE(glob_match("a*b*c", "a.x.b.y.cd"));
  EXPECT_TRUE(glob_match("embedding.weight", "embedding.weight"));
}

TEST(ParamGroups, ElementwiseRangesMergeAcrossGapsWhenSettingsAgree) {
  test::Problem model;
  layers::FlatParameters flat(model);
  const layers::FlatGroup& g = flat.groups()[0];
  // lin.weight [0, 35), lin.bias at 48 (64-byte alignment), proj.weight at 64.
  ASSERT_EQ(g.entries[1].offset, 48);
  ASSERT_EQ(g.entries[2].offset, 64);

  const std::vector<KernelRange> all = group_ranges(g, {}, 0.1, true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].offset, 0);
  EXPECT_EQ(all[0].numel, 64 + 12);
  EXPECT_EQ(all[0].weight_decay, 0.1);

  const GroupRules rules{.no_decay = {"*.bias"}, .lr_multipliers = {{"proj.*", 0.5}, {"*", 2.0}}};
  const std::vector<KernelRange> split = group_ranges(g, rules, 0.1, true);
  ASSERT_EQ(split.size(), 3u);
  EXPECT_EQ(split[0].offset, 0);
  EXPECT_EQ(split[0].numel, 35);
  EXPECT_EQ(split[0].weight_decay, 0.1);
  EXPECT_EQ(split[0].lr_scale, 2.0);
  EXPECT_EQ(split[1].offset, 48);
  EXPECT_EQ(split[1].numel, 5);
  EXPECT_EQ(split[1].weight_decay, 0.0);
  EXPECT_EQ(split[2].offset, 64);
  EXPECT_EQ(split[2].numel, 12);
  EXPECT_EQ(split[2].lr_scale, 0.5);

  // lin.* shares settings across weight and bias (decay off for neither): one range [0, 53).
  const std::vector<KernelRange> two = group_ranges(g, {.lr_multipliers = {{"lin.*", 0.5}}}, 0.1, true);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].numel, 53);
  EXPECT_EQ(two[1].offset, 64);
}

TEST(ParamGroups, PerParameterRangesCarryTheMatrixView) {
  test::Problem model;
  layers::FlatParameters flat(model);
  const std::vector<KernelRange> r = group_ranges(flat.groups()[0], {}, 0.0, false);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].rows, 7);
  EXPECT_EQ(r[0].cols, 5);
  EXPECT_EQ(r[1].rows, 1);
  EXPECT_EQ(r[1].cols, 0);
  EXPECT_EQ(r[2].rows, 3);
  EXPECT_EQ(r[2].cols, 4);
  EXPECT_EQ(unmatched_pattern({.no_decay = {"*.bias", "*.gamma"}}, parameter_names(flat)), "*.gamma");
  EXPECT_EQ(unmatched_pattern({.no_decay = {"*.bias"}, .lr_multipliers = {{"proj*", 1.0}}}, parameter_names(flat)), "");
}

TEST(ParamGroups, ChunksCoverEveryRangeInOrder) {
  std::vector<KernelRange> ranges(2);
  ranges[0].offset = 0, ranges[0].numel = 3 * kChunkElements + 5;
  ranges[1].offset = ranges[0].numel + 11, ranges[1].numel = 7;
  const RangeTable t = make_range_table(ranges, Device::cpu());
  ASSERT_EQ(t.chunks.size(), 5u);
  EXPECT_EQ(t.ranges[0].first_chunk, 0);
  EXPECT_EQ(t.ranges[0].chunks, 4);
  EXPECT_EQ(t.ranges[1].first_chunk, 4);
  EXPECT_EQ(t.ranges[1].chunks, 1);
  EXPECT_EQ(t.chunks[3].begin, 3 * kChunkElements);
  EXPECT_EQ(t.chunks[3].end, 3 * kChunkElements + 5);
  EXPECT_EQ(t.chunks[4].range, 1);
  EXPECT_EQ(t.chunks[4].begin, ranges[1].offset);
  EXPECT_FALSE(t.device_ranges.defined());
}

}  // namespace
}  // namespace gau::optim
