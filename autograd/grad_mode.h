#pragma once
// Grad mode: a thread-local switch. While it is off, differentiable ops record nothing on the tape
// (their outputs do not require grad). Backward closures run with it off.
//   { gau::NoGradGuard g; auto y = gau::mul(w, x); }   // y.requires_grad() == false
namespace gau {

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// Turns recording off for its scope and restores the previous mode on exit.
class NoGradGuard {
 public:
  NoGradGuard() : prev_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Turns recording on for its scope (e.g. checkpoint's recompute inside a backward pass).
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace gau
