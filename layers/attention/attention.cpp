// dot_product_attention(): validation, backend choice and the autograd node around the backend
// kernels.
#include "layers/attention/attention.h"

#include <string>

#include "autograd/function.h"
#include "core/ops/copy.h"
#include "layers/attention/attention_backend.h"
#include "layers/attention/attention_resolve.h"

namespace gau::attention {

const char* kernel_name(Kernel k) {
  switch (k) {
    case Kernel::softmax: return "softmax";
    case Kernel::relu2: return "relu2";
    case Kernel::laplace: return "laplace";
  }
  return "unknown";
}

Kernel kernel_from_name(const std::string& name) {
  if (name == "softmax") return Kernel::softmax;
  if (name == "relu2") return Kernel::relu2;
  if (name == "laplace") return Kernel::laplace;
  GAU_FAIL("attention: unknown kernel '", name, "', expected one of softmax, relu2, laplace");
}

namespace {

using detail::BackwardResult;
using detail::ForwardResult;
using detail::ResolvedOptions;

// Backend that runs the kernels; chosen once per call and kept for backward.
enum class Impl { cpu, cuda, cudnn };

Impl choose_impl(const Tensor& q, const Tensor& v, const AttentionOptions& opt, const ResolvedOptions& resolved) {
  if (q.is_cpu()) {
    GAU_CHECK(opt.backend != Backend::cudnn, "attention: backend cudnn needs CUDA tensors, got q ", describe(q),
              " (on CPU use backend gau, or automatic)");
    return Impl::cpu;
  }
#ifdef GAU_WITH_CUDA
  const DType dt = q.dtype();
  const int64_t s = q.size(3), e = v.size(3);
  if (opt.backend == Backend::cudnn) {
#ifdef GAU_WITH_CUDNN
    std::string why;
    GAU_CHECK(detail::cudnn_supports(dt, s, e, resolved, &why), "attention: backend cudnn cannot run q ",
              describe(q), ", v ", describe(v), ": ", why, " (use backend gau or automatic)");
    return Impl::cudnn;
#else
    GAU_FAIL("attention: backend cudnn was requested, but gau was built without cuDNN (configure with "
             "-DGAU_CUDNN=ON), or use backend gau");
#endif
  }
  // automatic runs gau's own kernels: the cuDNN graph is opt-in (backend cudnn) until a GPU run
  // has checked it against the CPU op (tests/layers/attention/attention_gpu_test.cpp).
  std::string why;
  GAU_CHECK(detail::cuda_supports(dt, s, e, &why), "attention: the CUDA kernels cannot run q ", describe(q), ", v ",
            describe(v), ": ", why);
  return Impl::cuda;
#else
  GAU_FAIL("attention: got CUDA tensors (q ", describe(q), "), but gau was built without CUDA (configure with "
           "-DGAU_CUDA=ON)");
#endif
}

ForwardResult run_forward(Impl impl, const Tensor& q, const Tensor& k, const Tensor& v, const ResolvedOptions& opt) {
  switch (impl) {
    case Impl::cpu: return detail::forward_cpu(q, k, v, opt);
#ifdef GAU_WITH_CUDA
    case Impl::cuda: return detail::forward_cuda(q, k, v, opt);
#endif
#ifdef GAU_WITH_CUDNN
    case Impl::cudnn: return detail::forward_cudnn(q, k, v, opt);
#endif
    default: break;
  }
  GAU_FAIL("attention: backend not compiled into this build of gau");
}

BackwardResult run_backward(Impl impl, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                            const Tensor& lse, const Tensor& d_o, const ResolvedOptions& opt) {
  switch (impl) {
    case Impl::cpu: return detail::backward_cpu(q, k, v, o, lse, d_o, opt);
#ifdef GAU_WITH_CUDA
    case Impl::cuda: return detail::backward_cuda(q, k, v, o, lse, d_o, opt);
#endif
#ifdef GAU_WITH_CUDNN
    case Impl::cudnn: return detail::backward_cudnn(q, k, v, o, lse, d_o, opt);
#endif
    default: break;
  }
  GAU_FAIL("attention: backend not compiled into this build of gau");
}

// Inputs of the node: q, k, v and the caller's bias table (undefined when there is no bias), so
// the table's gradient reaches the parameter it came from.
struct AttentionFunction : autograd::Function<AttentionFunction> {
  static constexpr const char* name = "dot_product_attention";

  // q [b, h, n_q, s], k [b, h, n_k, s], v [b, h, n_k, e], bias_table [table size] or undefined.
  static Tensor forward(autograd::Context& ctx, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& bias_table, const ResolvedOptions& opt, Impl impl) {
    Tensor qc = ops::contiguous(q), kc = ops::contiguous(k), vc = ops::contiguous(v);
    ForwardResult fwd = run_forward(impl, qc, kc, vc, opt);
    ctx.save_for_backward({qc, kc, vc, fwd.o, fwd.lse});
    ctx.set("opt", opt);
    ctx.set("impl", impl);
    return fwd.o;
  }

  static std::vector<Tensor> backward(autograd::Context& ctx, const std::vector<Tensor>& d_out) {
    const std::vector<Tensor> saved = ctx.saved();
    const Tensor &q = saved[0], &k = saved[1], &v = saved[2], &o = saved[3], &lse = saved[4];
    const ResolvedOptions& opt = ctx.get<ResolvedOptions>("opt");
    const Tensor d_o = ops::contiguous(ops::to_dtype(d_out[0], q.dtype()));
    BackwardResult grads = run_backward(ctx.get<Impl>("impl"), q, k, v, o, lse, d_o, opt);
    return {ctx.needs_input_grad(0) ? grads.d_q : Tensor(), ctx.needs_input_grad(1) ? grads.d_k : Tensor(),
            ctx.needs_input_grad(2) ? grads.d_v : Tensor(), ctx.needs_input_grad(3) ? grads.d_bias : Tensor()};
  }
};

}  // namespace

Tensor dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opt) {
  detail::validate_inputs(q, k, v, opt);
  const ResolvedOptions resolved = detail::resolve_options(q, k, opt);
  const Impl impl = choose_impl(q, v, opt, resolved);
  const Tensor bias_table = opt.bias.kind != RelativeBias::Kind::none ? opt.bias.table : Tensor();
  return AttentionFunction::apply(q, k, v, bias_table, resolved, impl);
}

}  // namespace gau::attention
