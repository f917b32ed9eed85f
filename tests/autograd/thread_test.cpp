// Backward and threads: a graph recorded on a thread that is still running is refused with a clear
// error (that thread may still be recording on the tape); once the thread has finished, its graph
// can be back-propagated from any thread.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "autograd/functions.h"
#include "core/ops/factory.h"
#include "tests/support/checks.h"

namespace gau {
namespace {

TEST(AutogradThreads, BackwardOfAGraphFromARunningThreadIsAnError) {
  Tensor w = ops::from_vector<double>({1.5, -2.0}, {2}).requires_grad_();
  Tensor loss;
  std::mutex mu;
  std::condition_variable cv;
  bool recorded = false, done = false;
  std::thread recorder([&] {
    Tensor l = gau::sum(gau::mul(w, w));
    std::unique_lock<std::mutex> lock(mu);
    loss = l;
    recorded = true;
    cv.notify_all();
    cv.wait(lock, [&] { return done; });  // stays alive (it could go on recording)
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return recorded; });
  }
  std::string msg = test::error_of([&] { loss.backward(); });
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  recorder.join();
  EXPECT_NE(msg.find("another thread"), std::string::npos) << msg;
  EXPECT_NE(msg.find("still running"), std::string::npos) << msg;
  EXPECT_FALSE(w.grad().defined()) << "the refused backward touched the gradient";

  // The same graph, now that its thread is gone.
  loss.backward();
  test::expect_close(w.grad(), {3.0, -4.0}, 1e-15, "d sum(w^2) / dw after the recording thread finished");
}

TEST(AutogradThreads, EachThreadBackPropagatesItsOwnGraph) {
  Tensor w = ops::from_vector<double>({2.0}, {1}).requires_grad_();
  double got[2] = {0, 0};
  auto work = [&](int k) {
    Tensor x = ops::from_vector<double>({static_cast<double>(k + 1)}, {1}).requires_grad_();
    gau::sum(gau::mul(x, w.detach())).backward();
    got[k] = x.grad().item();
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  EXPECT_EQ(got[0], 2.0);
  EXPECT_EQ(got[1], 2.0);
}

}  // namespace
}  // namespace gau
