// The prefetch thread: items arrive in order, an exception thrown while producing reaches the
// consumer after the items made before it, and the thread shuts down cleanly whether it is
// blocked on a full queue, has failed, or is mid-item; a loader surfaces a token read error.
#include "trainers/data/prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "tests/support/checks.h"
#include "tests/trainers/data/data_test_util.h"
#include "trainers/data/loader.h"

namespace gau::data {
namespace {

using gau::test::error_of;
using test::expect_has;

TEST(Prefetcher, DeliversInOrderAndStaysAtMostDepthAhead) {
  std::atomic<int> made{0};
  Prefetcher<int> p([&] { return made++; }, 3);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p.next(), i);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_LE(made.load(), 100 + 3 + 1) << "at most depth queued plus one being made";
}

TEST(Prefetcher, AnExceptionReachesTheConsumerAfterTheItemsBeforeIt) {
  int made = 0;
  Prefetcher<int> p(
      [&] {
        if (made == 3) GAU_FAIL("disk on fire at item ", made);
        return made++;
      },
      2);
  EXPECT_EQ(p.next(), 0);
  EXPECT_EQ(p.next(), 1);
  EXPECT_EQ(p.next(), 2);
  expect_has(error_of([&] { p.next(); }), "disk on fire at item 3");
  expect_has(error_of([&] { p.next(); }), "disk on fire at item 3");
}

TEST(Prefetcher, ShutsDownWhileBlockedOnAFullQueueOrMidItem) {
  std::atomic<int> made{0};
  {
    Prefetcher<int> full([&] { return made++; }, 2);
  }  // may be blocked on the full queue
  {
    Prefetcher<int> slow(
        [&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(30));
          return made++;
        },
        1);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }  // destroyed while producing: joins after that one item
  SUCCEED();
}

// Tokens that cannot be read past `bad`, as a vanished network mount would behave.
class FailingSource : public TokenSource {
 public:
  FailingSource(int64_t size, int64_t bad) : size_(size), bad_(bad) {}
  int64_t size() const override { return size_; }
  void read(int64_t begin, int64_t count, int32_t* out) const override {
    GAU_CHECK(begin + count <= bad_, "flaky.bin: I/O error reading tokens [", begin, ", ", begin + count, ")");
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<int32_t>((begin + i) % 50);
  }
  std::string name() const override { return "flaky.bin"; }

 private:
  int64_t size_, bad_;
};

TEST(Prefetcher, TheLoaderSurfacesAReadErrorInTheConsumer) {
  const Corpus corpus({std::make_shared<FailingSource>(1000, 300)}, {0});
  LoaderOptions o;
  o.seq_len = 10;
  o.batch_size = 4;
  o.shuffle = false;
  o.prefetch = 3;
  auto loader = std::make_unique<Loader>(corpus, o);
  int good = 0;
  std::string msg;
  for (int i = 0; i < 20 && msg.empty(); ++i) {
    msg = error_of([&] { loader->next(); });
    good += msg.empty();
  }
  EXPECT_EQ(good, 7) << "batches of windows below token 300: the 8th reads tokens 280 to 320";
  expect_has(msg, "flaky.bin: I/O error reading tokens [290, 301)");
  expect_has(error_of([&] { loader->next(); }), "I/O error");
  loader.reset();  // joins the stopped thread
}

}  // namespace
}  // namespace gau::data
