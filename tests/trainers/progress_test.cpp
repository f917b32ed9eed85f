// Progress: the line formats, the smoothed rate and the ETA; the terminal and log modes through a
// temporary stream.
#include "trainers/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace gau::trainers {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(Progress, Durations) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(7.4), "0:07");
  EXPECT_EQ(format_duration(83), "1:23");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(3 * 86400 + 4 * 3600 + 5 * 60 + 6), "3d 04:05:06");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_duration(NAN), "?");
}

TEST(Progress, Rates) {
  EXPECT_EQ(format_rate(950), "950 tok/s");
  EXPECT_EQ(format_rate(12345), "12.3k tok/s");
  EXPECT_EQ(format_rate(999.7), "1.0k tok/s");
  EXPECT_EQ(format_rate(4.56e6), "4.56M tok/s");
}

TEST(Progress, LogLine) {
  ProgressLine p{.step = 120, .total = 1000, .loss = 2.34567, .tokens_per_s = 12345, .elapsed_s = 83, .eta_s = 605};
  EXPECT_EQ(format_progress_log(p), "step 120/1000 | loss 2.3457 | 12.3k tok/s | elapsed 1:23 | ETA 10:05");
  p.total = 0;
  EXPECT_EQ(format_progress_log(p), "step 120 | loss 2.3457 | 12.3k tok/s | elapsed 1:23");
  p.loss = NAN;
  EXPECT_THAT(format_progress_log(p), HasSubstr("loss nan"));
}

TEST(Progress, BarFitsTheWidth) {
  ProgressLine p{.step = 250, .total = 1000, .loss = 2.5, .tokens_per_s = 950, .elapsed_s = 60, .eta_s = 180};
  const std::string tail = "  25% loss 2.5000 | 950 tok/s | 1:00<3:00";
  for (int width : {64, 80, 120}) {
    std::string s = format_progress_bar(p, width);
    EXPECT_EQ(static_cast<int>(s.size()), width) << s;
    EXPECT_THAT(s, StartsWith("250/1000 ["));
    EXPECT_THAT(s, HasSubstr(tail));
    // A quarter of the bar is filled.
    const int bar = width - static_cast<int>(std::string("250/1000 []").size() + tail.size());
    EXPECT_THAT(s, HasSubstr("[" + std::string(bar / 4, '=') + ">")) << s;
  }
  // Too narrow for a bar: the numbers alone.
  EXPECT_EQ(format_progress_bar(p, 40), "250/1000" + tail);
  p.step = 1000;
  p.eta_s = 0;
  EXPECT_THAT(format_progress_bar(p, 80), HasSubstr("[" + std::string(80 - 9 - 3 - 5 - 36, '=') + "] 100%"));
}

TEST(Progress, RateIsSmoothedOverTheWindow) {
  RateMeter r(4);
  EXPECT_EQ(r.steps_per_s(), 0);
  r.add(0, 0, 0);
  for (int s = 1; s <= 8; ++s) r.add(s * 0.5, s, 1000);  // 2 steps/s, 2000 tok/s
  EXPECT_DOUBLE_EQ(r.steps_per_s(), 2);
  EXPECT_DOUBLE_EQ(r.tokens_per_s(), 2000);
  r.add(8.5, 9, 1000);  // one slow step (an eval): 4.5 s over the last 4 steps
  EXPECT_DOUBLE_EQ(r.steps_per_s(), 4 / 6.0);
  for (int s = 10; s <= 13; ++s) r.add(8.5 + (s - 9) * 0.5, s, 1000);
  EXPECT_DOUBLE_EQ(r.steps_per_s(), 2) << "the slow step has left the window";
}

TEST(Progress, Eta) {
  EXPECT_DOUBLE_EQ(eta_seconds(100, 1000, 3), 300);
  EXPECT_DOUBLE_EQ(eta_seconds(1000, 1000, 3), 0);
  EXPECT_EQ(eta_seconds(100, 1000, 0), -1);
  EXPECT_EQ(eta_seconds(100, 0, 3), -1);
}

// A time limit that ends the run before its steps do is its ETA (train.max_time_minutes).
TEST(Progress, EtaStopsAtTheTimeLimit) {
  std::FILE* f = std::tmpfile();
  Progress p(int64_t{1} << 50, 0, {.log_every = 1, .tty = false, .out = f, .time_limit_s = 60});
  p.update(1, 1.0, 8);
  p.update(2, 1.0, 8);
  std::string out(static_cast<size_t>(std::ftell(f)), '\0');
  std::rewind(f);
  EXPECT_EQ(std::fread(out.data(), 1, out.size(), f), out.size());
  std::fclose(f);
  const std::string eta = out.substr(out.rfind("ETA ") + 4);
  EXPECT_TRUE(eta == "0:59\n" || eta == "1:00\n") << out;
}

std::string run_progress(bool tty) {
  std::FILE* f = std::tmpfile();
  Progress p(20, 0, {.log_every = 5, .tty = tty, .out = f});
  for (int s = 1; s <= 20; ++s) {
    p.update(s, 3.0 - 0.1 * s, 64);
    if (s == 10) p.print("eval: val loss 2.0");
  }
  p.finish();
  std::string out(static_cast<size_t>(std::ftell(f)), '\0');
  std::rewind(f);
  EXPECT_EQ(std::fread(out.data(), 1, out.size(), f), out.size());
  std::fclose(f);
  return out;
}

TEST(Progress, LogModePrintsEveryNSteps) {
  const std::string out = run_progress(false);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 5);  // steps 5, 10, 15, 20 and the message
  EXPECT_THAT(out, HasSubstr("step 5/20 | loss 2.5000"));
  EXPECT_THAT(out, HasSubstr("step 20/20 | loss 1.0000"));
  EXPECT_THAT(out, HasSubstr("eval: val loss 2.0\n"));
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(Progress, TerminalModeRedrawsOneLine) {
  const std::string out = run_progress(true);
  EXPECT_THAT(out, StartsWith("\r1/20 ["));
  // The message clears the bar's line first; the last step always draws; finish ends the line.
  EXPECT_THAT(out, HasSubstr("\r\x1b[Keval: val loss 2.0\n"));
  EXPECT_THAT(out, HasSubstr("\r20/20 ["));
  EXPECT_THAT(out, HasSubstr("loss 1.0000"));
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

}  // namespace
}  // namespace gau::trainers
