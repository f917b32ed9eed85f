// The loader: every token exactly once per epoch across ranks (world sizes 1, 2, 3; packing on
// and off), targets as the next token within the rules, seeded shuffles, resume from a saved
// position, padding and filler rows, and the too-little-data error.
#include "trainers/data/loader.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/checks.h"
#include "tests/trainers/data/data_test_util.h"

namespace gau::data {
namespace {

using gau::test::error_of;
using test::expect_has;

constexpr int64_t kIgnore = -100;
constexpr int32_t kPad = -1;  // no real token is negative, so a padded position is recognisable

// Documents of the given lengths whose token at position p is p: ids tell positions.
Corpus counting_corpus(const std::vector<int64_t>& lengths) {
  std::vector<int32_t> tokens;
  std::vector<int64_t> starts;
  for (int64_t len : lengths) {
    starts.push_back(static_cast<int64_t>(tokens.size()));
    for (int64_t i = 0; i < len; ++i) tokens.push_back(static_cast<int32_t>(tokens.size()));
  }
  return Corpus({std::make_shared<TokenVector>(std::move(tokens), "counting")}, std::move(starts));
}

LoaderOptions options(int64_t seq_len, int64_t batch, bool packing, int64_t rank = 0, int64_t world = 1) {
  LoaderOptions o;
  o.seq_len = seq_len;
  o.batch_size = batch;
  o.packing = packing;
  o.rank = rank;
  o.world_size = world;
  o.pad_id = kPad;
  o.seed = 7;
  return o;
}

std::vector<int64_t> values(const Tensor& t) {
  if (!t.defined()) return {};
  const int64_t* p = t.data<int64_t>();
  return std::vector<int64_t>(p, p + t.numel());
}

// The target a position must have: the next position, unless that is past `limit`.
int64_t expected_target(int64_t p, const Corpus& c, bool within_document) {
  const int64_t limit = within_document ? c.document_end(c.document_of(p)) : c.size();
  return p + 1 < limit ? p + 1 : kIgnore;
}

class Coverage : public ::testing::TestWithParam<std::tuple<int64_t, bool, bool>> {};

TEST_P(Coverage, EveryTokenExactlyOncePerEpochAcrossRanks) {
  const auto [world, packing, mask] = GetParam();
  const Corpus corpus = counting_corpus({5, 17, 1, 9, 30, 4, 12});  // 78 tokens, 7 documents, 13 windows of 6
  std::map<int64_t, int> seen;
  int64_t steps = -1;
  for (int64_t rank = 0; rank < world; ++rank) {
    LoaderOptions o = options(6, 2, packing, rank, world);
    o.mask_across_documents = mask;
    Loader loader(corpus, o);
    if (steps < 0) steps = loader.steps_per_epoch();
    EXPECT_EQ(loader.steps_per_epoch(), steps) << "every rank takes the same number of steps";
    for (int64_t s = 0; s < steps; ++s) {
      const Batch b = loader.next();
      EXPECT_EQ(b.epoch, 0);
      ASSERT_EQ(b.ids.shape(), (Shape{2, 6}));
      ASSERT_EQ(b.targets.shape(), (Shape{2, 6}));
      const std::vector<int64_t> ids = values(b.ids), targets = values(b.targets), lengths = values(b.key_lengths);
      int64_t tokens = 0, with_target = 0;
      for (int64_t r = 0; r < 2; ++r) {
        const int64_t valid = lengths.empty() ? 6 : lengths[r];
        for (int64_t j = 0; j < 6; ++j) {
          const int64_t id = ids[r * 6 + j], target = targets[r * 6 + j];
          if (id == kPad) {  // padding or a filler row: never a target
            EXPECT_EQ(target, kIgnore);
            continue;
          }
          EXPECT_LT(j, valid) << "a real token inside the row's key length";
          ++seen[id];
          ++tokens;
          with_target += target != kIgnore;
          EXPECT_EQ(target, expected_target(id, corpus, !packing || mask)) << "position " << id;
          if (j > 0 && ids[r * 6 + j - 1] != kPad) {
            EXPECT_EQ(id, ids[r * 6 + j - 1] + 1) << "a row is a contiguous window";
          }
        }
      }
      EXPECT_EQ(b.num_tokens, tokens);
      EXPECT_EQ(b.num_targets, with_target);
    }
    EXPECT_EQ(loader.next().epoch, 1) << "the epoch ends after steps_per_epoch steps";
  }
  // Every token is an input once, but for a window of one token with nothing to predict: with
  // packing off, a document's last token alone in its window (here the document of one token).
  for (int64_t p = 0; p < corpus.size(); ++p) {
    const int64_t d = corpus.document_of(p);
    const bool alone = !packing && (p - corpus.document_begin(d)) % 6 == 0 && p + 1 == corpus.document_end(d);
    EXPECT_EQ(seen.count(p) ? seen[p] : 0, alone ? 0 : 1) << "position " << p;
  }
}

INSTANTIATE_TEST_SUITE_P(WorldSizes, Coverage,
                         ::testing::Combine(::testing::Values(1, 2, 3), ::testing::Bool(), ::testing::Bool()));

std::vector<std::vector<int64_t>> take(Loader& loader, int n) {
  std::vector<std::vector<int64_t>> out;
  for (int i = 0; i < n; ++i) out.push_back(values(loader.next().ids));
  return out;
}

TEST(Loader, ShufflesAreDeterministicPerSeedAndDifferAcrossSeedsAndEpochs) {
  const Corpus corpus = counting_corpus({400});
  LoaderOptions o = options(4, 5, true);  // 100 windows, 20 steps per epoch
  Loader a(corpus, o), b(corpus, o);
  const auto epoch0 = take(a, 20), epoch1 = take(a, 20);
  EXPECT_EQ(take(b, 40), [&] {
    auto both = epoch0;
    both.insert(both.end(), epoch1.begin(), epoch1.end());
    return both;
  }());
  EXPECT_NE(epoch0, epoch1);
  o.seed = 8;
  Loader c(corpus, o);
  EXPECT_NE(take(c, 20), epoch0);
  o.shuffle = false;
  Loader in_order(corpus, o);
  EXPECT_EQ(values(in_order.next().ids),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
}

TEST(Loader, ResumeFromASavedPositionReadsTheSameNextBatches) {
  const Corpus corpus = counting_corpus({50, 33, 71});
  for (int64_t prefetch : {0, 2}) {
    LoaderOptions o = options(8, 3, true);
    o.prefetch = prefetch;
    Loader first(corpus, o);
    const int steps = static_cast<int>(first.steps_per_epoch());
    take(first, steps - 2);  // stop two steps before the epoch ends
    const nlohmann::json saved = first.position();
    const auto expected = take(first, 6);  // crosses into epoch 1

    Loader resumed(corpus, o);
    take(resumed, 3);  // a restore discards whatever was read or prefetched
    resumed.restore(saved.get<LoaderPosition>());
    EXPECT_EQ(resumed.position(), saved.get<LoaderPosition>());
    EXPECT_EQ(take(resumed, 6), expected) << "prefetch " << prefetch;
    EXPECT_EQ(resumed.position(), first.position());
    EXPECT_EQ(resumed.position().epoch, 1);
  }
}

TEST(Loader, ResumeWithAnotherWorldSizeStartsAtTheFirstUnreadSequence) {
  const Corpus corpus = counting_corpus({200});
  Loader single(corpus, options(5, 4, true));  // one rank, 4 rows a step
  take(single, 2);
  const LoaderPosition saved = single.position();
  const std::vector<int64_t> third = values(single.next().ids);
  std::vector<int64_t> halves;
  for (int64_t rank = 0; rank < 2; ++rank) {  // two ranks, 2 rows each: the same 4 sequences
    Loader r(corpus, options(5, 2, true, rank, 2));
    r.restore(saved);
    const std::vector<int64_t> ids = values(r.next().ids);
    halves.insert(halves.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(halves, third);
}

TEST(Loader, RestoreRejectsAPositionFromOtherData) {
  const Corpus corpus = counting_corpus({100});
  Loader loader(corpus, options(10, 2, true));
  LoaderPosition p = loader.position();
  EXPECT_EQ(p.num_windows, 10);
  p.seed = 99;
  std::string msg = error_of([&] { loader.restore(p); });
  expect_has(msg, "saved loader position (seed 99, 10 sequences per epoch) is not from this data (seed 7, 10");
  p.seed = 7, p.index = 10;
  expect_has(error_of([&] { loader.restore(p); }), "index 10) is outside the 10 sequences");
  expect_has(error_of([&] {
               nlohmann::json{{"epoch", 1}}.get<LoaderPosition>();
             }),
             "loader position: expected {epoch, index, seed, num_windows}");
}

TEST(Loader, PaddedRowsCarryKeyLengthsAndFillerRowsNoTargets) {
  const Corpus corpus = counting_corpus({3, 9});  // packing off, seq 4: windows of 3, 4, 4, 1
  LoaderOptions o = options(4, 3, false);
  o.shuffle = false;
  // A causal LM's loader leaves out the window of one token: it has no next token to predict.
  EXPECT_EQ(Loader(corpus, o).num_windows(), 3);
  o.next_token_targets = false;  // a masked LM's keeps it
  Loader loader(corpus, o);
  EXPECT_EQ(loader.num_windows(), 4);
  EXPECT_EQ(loader.steps_per_epoch(), 2);
  Batch b = loader.next();
  EXPECT_EQ(values(b.key_lengths), (std::vector<int64_t>{3, 4, 4}));
  EXPECT_EQ(values(b.ids), (std::vector<int64_t>{0, 1, 2, kPad, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(values(b.targets), (std::vector<int64_t>{1, 2, kIgnore, kIgnore, 4, 5, 6, 7, 8, 9, 10, 11}));
  b = loader.next();  // one window, then two filler rows
  EXPECT_EQ(values(b.key_lengths), (std::vector<int64_t>{1, 4, 4}));
  EXPECT_EQ(values(b.ids),
            (std::vector<int64_t>{11, kPad, kPad, kPad, kPad, kPad, kPad, kPad, kPad, kPad, kPad, kPad}));
  EXPECT_EQ(values(b.targets), std::vector<int64_t>(12, kIgnore));
  EXPECT_EQ(b.num_tokens, 1);
  EXPECT_EQ(b.num_targets, 0);
  // Full rows need no key lengths.
  Loader packed(counting_corpus({8}), options(4, 2, true));
  EXPECT_FALSE(packed.next().key_lengths.defined());
}

// Packed, the stream's last token is only a target: a window of it alone would predict nothing.
TEST(Loader, PackingLeavesOutATrailingWindowWithoutTargets) {
  LoaderOptions o = options(4, 1, true);
  o.shuffle = false;
  Loader loader(counting_corpus({9}), o);  // windows 0-3 and 4-7; token 8 is window 4-7's last target
  EXPECT_EQ(loader.num_windows(), 2);
  loader.next();
  const Batch b = loader.next();
  EXPECT_EQ(values(b.targets), (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_EQ(loader.next().epoch, 1);  // then the next epoch, with no row of token 8 alone
  EXPECT_EQ(Loader(counting_corpus({10}), o).num_windows(), 3);  // 8, 9: a window with one target
  o.next_token_targets = false;
  EXPECT_EQ(Loader(counting_corpus({9}), o).num_windows(), 3);
}

TEST(Loader, DropLastDropsThePartlyFilledStep) {
  const Corpus corpus = counting_corpus({50});  // 10 windows of 5
  LoaderOptions o = options(5, 4, true);
  o.drop_last = true;
  Loader loader(corpus, o);
  EXPECT_EQ(loader.steps_per_epoch(), 2);
  for (int i = 0; i < 6; ++i) {
    const Batch b = loader.next();
    EXPECT_EQ(b.num_tokens, 20) << "every row holds data";
    EXPECT_EQ(b.epoch, i / 2);
  }
}

TEST(Loader, EmptyOrTooShortDataIsAClearError) {
  std::string msg = error_of([&] { Loader(Corpus(), options(16, 2, true)); });
  expect_has(msg, "data: too little data in an empty corpus: 0 tokens in 0 documents make 0 sequences");
  LoaderOptions o = options(4, 2, true, 0, 2);
  o.name = "data.train (x.yaml:3:1)";
  msg = error_of([&] { Loader(counting_corpus({10}), o); });
  expect_has(msg,
             "data.train (x.yaml:3:1): too little data in counting: 10 tokens in 1 document make 3 sequences "
             "of up to seq_len 4 (packing on), but one step needs batch_size 2 x world_size 2 = 4 sequences, "
             "i.e. at least 14 tokens");  // 13 would make a 4th window of one token, with no target
  expect_has(msg, "; use more data, or a smaller seq_len or batch_size");
  o.name = "data.val (x.yaml:3:1)";
  expect_has(error_of([&] { Loader(counting_corpus({10}), o); }),
             "; hold out more (data.val_fraction), give a data.val_path, or use a smaller seq_len or batch_size");
  expect_has(error_of([&] { Loader(counting_corpus({10}), options(4, 1, true, 3, 2)); }), "rank 3 of world_size 2");
}

// Evaluation takes a split smaller than one step: its one step is the windows there are, padded
// with filler rows that hold no targets.
TEST(Loader, APartialStepIsOneStepOfWhatThereIs) {
  LoaderOptions o = options(4, 2, true, 0, 2);
  o.partial_step_ok = true;
  o.shuffle = false;
  Loader loader(counting_corpus({10}), o);  // 3 windows, where a step takes 4
  EXPECT_EQ(loader.steps_per_epoch(), 1);
  const Batch b = loader.next();
  EXPECT_EQ(b.num_tokens, 8);   // rank 0's rows: windows 0 and 1, 4 tokens each
  EXPECT_EQ(b.num_targets, 8);  // each next token is in the stream
  o.rank = 1;
  const Batch rest = Loader(counting_corpus({10}), o).next();
  EXPECT_EQ(rest.num_tokens, 2);  // window 2 (tokens 8, 9) and a filler row
  EXPECT_EQ(rest.num_targets, 1);
  // A split with no window (empty, or one token with nothing to predict) has no step to evaluate.
  EXPECT_EQ(Loader(Corpus(), o).steps_per_epoch(), 0);
  EXPECT_EQ(Loader(counting_corpus({1}), o).steps_per_epoch(), 0);
  o.next_token_targets = false;
  EXPECT_EQ(Loader(counting_corpus({1}), o).steps_per_epoch(), 1);
  o.next_token_targets = true;
  o.drop_last = true;  // drop_last keeps whole steps only
  expect_has(error_of([&] { Loader(counting_corpus({10}), o); }), "= 4 sequences");
}

}  // namespace
}  // namespace gau::data
