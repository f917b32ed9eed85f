#include "autograd/checkpoint.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace gau {

std::vector<Tensor> checkpoint(const CheckpointFn& fn, const std::vector<Tensor>& inputs,
                               const std::vector<Tensor>& params) {
  std::vector<Tensor> outputs;
  {
    NoGradGuard no_grad;
    outputs = fn(inputs);
  }
  std::vector<Tensor> all = inputs;
  all.insert(all.end(), params.begin(), params.end());
  if (!autograd::needs_record(all)) return outputs;

  const size_t n_in = inputs.size(), n_all = all.size();
  auto backward = [fn, n_in, n_all](autograd::Context& ctx, const std::vector<Tensor>& d_out) {
    std::vector<Tensor> saved = ctx.saved();  // the inputs, version-checked
    std::vector<Tensor> detached(n_in);
    for (size_t i = 0; i < n_in; ++i) {
      if (!saved[i].defined()) continue;
      detached[i] = saved[i].detach();
      if (ctx.needs_input_grad(i)) detached[i].requires_grad_(true);
    }
    std::vector<Tensor> recomputed;
    {
      EnableGradGuard grad_on;
      recomputed = fn(detached);
    }
    GAU_CHECK(recomputed.size() == d_out.size(), "checkpoint: the recompute returned ", recomputed.size(),
              " outputs, the forward ", d_out.size(), "; fn must be deterministic");
    std::vector<Tensor> roots, d_roots;
    for (size_t k = 0; k < d_out.size(); ++k) {
      if (!d_out[k].defined() || !recomputed[k].defined() || !recomputed[k].requires_grad()) continue;
      GAU_CHECK(recomputed[k].shape() == d_out[k].shape(), "checkpoint: output ", k, " of the recompute is ",
                describe(recomputed[k]), ", the forward gave shape ", d_out[k].shape(), "; fn must be deterministic");
      roots.push_back(recomputed[k]);
      d_roots.push_back(d_out[k]);
    }
    if (!roots.empty()) autograd::backward(roots, d_roots, /*retain_graph=*/false, /*allow_unreachable=*/true);
    std::vector<Tensor> d_in(n_all);  // params got theirs during the inner backward
    for (size_t i = 0; i < n_in; ++i)
      if (detached[i].defined() && ctx.needs_input_grad(i)) d_in[i] = detached[i].grad();
    return d_in;
  };
  return autograd::record("checkpoint", all, std::move(outputs), inputs, std::move(backward));
}

Tensor checkpoint(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                  const std::vector<Tensor>& params) {
  CheckpointFn wrapped = [fn](const std::vector<Tensor>& in) { return std::vector<Tensor>{fn(in)}; };
  return checkpoint(wrapped, inputs, params)[0];
}

}  // namespace gau
