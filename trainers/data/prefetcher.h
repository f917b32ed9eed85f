#pragma once
// Prefetcher<T>: calls `produce` on a background thread, keeping up to `depth` results queued, so
// the consumer's next() returns at once while the next items are being made.
//
// An exception thrown by `produce` ends the thread; next() returns the items queued before it,
// then rethrows it (and rethrows it on every later call). The destructor stops the thread and
// joins it, waiting at most for the one item being produced; queued items are dropped.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "core/error.h"

namespace gau::data {

template <typename T>
class Prefetcher {
 public:
  Prefetcher(std::function<T()> produce, size_t depth) : produce_(std::move(produce)), depth_(depth) {
    GAU_CHECK(depth >= 1, "Prefetcher: depth must be >= 1, got ", depth);
    thread_ = std::thread([this] { run(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  T next() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !queue_.empty() || error_; });
    if (queue_.empty()) std::rethrow_exception(error_);
    T item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    cv_.notify_all();
    return item;
  }

 private:
  void run() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
      }
      try {
        T item = produce_();
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(item));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = std::current_exception();
      }
      cv_.notify_all();
      std::lock_guard<std::mutex> lock(mu_);
      if (error_) return;
    }
  }

  std::function<T()> produce_;
  size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gau::data
