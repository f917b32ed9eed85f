#pragma once
// Function<T>: custom differentiable ops, like torch.autograd.Function.
//
//   // y = x * exp(w) elementwise, x and w [n]
//   struct ScaleExp : gau::autograd::Function<ScaleExp> {
//     static constexpr const char* name = "scale_exp";   // optional: names the op in errors
//     static gau::Tensor forward(gau::autograd::Context& ctx, const gau::Tensor& x, const gau::Tensor& w) {
//       gau::Tensor e = gau::ops::exp(w);
//       gau::Tensor y = gau::ops::mul(x, e);
//       ctx.save_for_backward({x, e});
//       return y;
//     }
//     static std::vector<gau::Tensor> backward(gau::autograd::Context& ctx, const std::vector<gau::Tensor>& d_out) {
//       gau::Tensor x = ctx.saved(0), e = ctx.saved(1);
//       gau::Tensor d_x = ctx.needs_input_grad(0) ? gau::ops::mul(d_out[0], e) : gau::Tensor();
//       gau::Tensor d_w = ctx.needs_input_grad(1) ? gau::ops::mul(gau::ops::mul(d_out[0], x), e) : gau::Tensor();
//       return {d_x, d_w};
//     }
//   };
//   gau::Tensor y = ScaleExp::apply(x, w);
//
// Rules:
// - apply(args...) passes its arguments to forward unchanged. Every Tensor argument, and every
//   element of a std::vector<Tensor> argument, in order, is an input of the node; other arguments
//   (options, scalars, index tensors passed inside a struct) are not differentiated.
// - forward runs with grad mode off (its ops record nothing) and returns a Tensor or a
//   std::vector<Tensor>; apply returns the same type. Non-floating outputs never require grad.
// - backward gets one gradient per output and returns one per input, in order. Return an
//   undefined Tensor for an input without gradient (or when !ctx.needs_input_grad(i)). A gradient
//   must have its input's shape; a different dtype or device is converted.
// - Outputs that did not reach the loss get zeros of their shape in d_out (materialised), unless
//   forward called ctx.set_materialize_grads(false): then they arrive undefined.
// - ctx.save_for_backward(...) keeps tensors (version-checked: an in-place change before backward
//   is an error naming the op); ctx.set/get keep anything else. Both are freed after backward
//   unless retain_graph.
// - backward runs with grad mode off; it may run other backward passes on graphs of its own
//   (re-entrant), as checkpoint does.
#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "autograd/context.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace gau::autograd {

namespace detail {

inline void collect_tensors(std::vector<Tensor>& out, const Tensor& t) { out.push_back(t); }
inline void collect_tensors(std::vector<Tensor>& out, const std::vector<Tensor>& ts) {
  out.insert(out.end(), ts.begin(), ts.end());
}
template <typename T>
void collect_tensors(std::vector<Tensor>&, const T&) {}

template <typename F>
std::string function_name() {
  if constexpr (requires { F::name; }) {
    return std::string(F::name);
  } else {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(
        abi::__cxa_demangle(typeid(F).name(), nullptr, nullptr, &status), std::free);
    return status == 0 && demangled ? std::string(demangled.get()) : std::string(typeid(F).name());
  }
}

}  // namespace detail

template <typename Derived>
struct Function {
  template <typename... Args>
  static auto apply(Args&&... args) {
    std::vector<Tensor> inputs;
    (detail::collect_tensors(inputs, args), ...);
    const bool recording = needs_record(inputs);
    Context ctx(detail::function_name<Derived>());
    SmallVector<bool, 8> needs(inputs.size(), false);
    for (size_t i = 0; i < inputs.size(); ++i)
      needs[i] = recording && inputs[i].defined() && inputs[i].requires_grad();
    ctx.set_needs_input_grad(std::move(needs));

    using Result = std::decay_t<decltype(Derived::forward(ctx, std::forward<Args>(args)...))>;
    static_assert(std::is_same_v<Result, Tensor> || std::is_same_v<Result, std::vector<Tensor>>,
                  "Function<T>::forward must return a Tensor or a std::vector<Tensor>");
    Result result;
    {
      NoGradGuard no_grad;
      result = Derived::forward(ctx, std::forward<Args>(args)...);
    }
    if (!recording) return result;
    BackwardFn fn = [](Context& c, const std::vector<Tensor>& d_out) { return Derived::backward(c, d_out); };
    if constexpr (std::is_same_v<Result, Tensor>) {
      return record_with_context(inputs, {result}, std::move(ctx), std::move(fn))[0];
    } else {
      return record_with_context(inputs, std::move(result), std::move(ctx), std::move(fn));
    }
  }
};

}  // namespace gau::autograd
