// flash_attention(): input checks, option resolution, backend dispatch and the autograd node.
#include "layers/attention/flash.h"

#include "autograd/function.h"
#include "core/ops/backend.h"
#include "core/ops/copy.h"
#include "core/ops/view.h"
#include "layers/attention/flash_backend.h"

namespace gau::attention {

const char* linear_norm_name(LinearNorm norm) {
  switch (norm) {
    case LinearNorm::chunk: return "chunk";
    case LinearNorm::n: return "n";
    case LinearNorm::prefix: return "prefix";
  }
  return "?";
}

LinearNorm linear_norm_from_name(const std::string& name) {
  if (name == "chunk") return LinearNorm::chunk;
  if (name == "n") return LinearNorm::n;
  if (name == "prefix") return LinearNorm::prefix;
  GAU_FAIL("flash_attention: unknown linear_norm '", name, "'; expected one of chunk, n, prefix");
}

namespace {

detail::FlashResolved resolve(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl, const Tensor& v,
                              const FlashOptions& opt) {
  const Tensor* qk[] = {&qq, &kq, &ql, &kl};
  const char* names[] = {"qq", "kq", "ql", "kl"};
  for (int i = 0; i < 4; ++i) {
    GAU_CHECK(qk[i]->defined(), "flash_attention: ", names[i], " is undefined");
    GAU_CHECK(qk[i]->dim() == 3, "flash_attention: ", names[i], " must be [b, n, s], got ", describe(*qk[i]));
  }
  GAU_CHECK(v.defined() && v.dim() == 3, "flash_attention: v must be [b, n, e], got ",
            v.defined() ? describe(v) : std::string("undefined"));
  GAU_CHECK(is_floating(qq.dtype()), "flash_attention: expected a floating dtype (f32, f64, bf16, f16), got ",
            describe(qq));
  for (int i = 1; i < 4; ++i) {
    GAU_CHECK(qk[i]->shape() == qq.shape(), "flash_attention: ", names[i], " must have qq's shape [b, n, s]: qq ",
              describe(qq), ", ", names[i], " ", describe(*qk[i]));
  }
  for (const Tensor* t : {&kq, &ql, &kl, &v}) {
    GAU_CHECK(t->dtype() == qq.dtype() && t->device() == qq.device(),
              "flash_attention: all inputs must share dtype and device: qq ", describe(qq), ", got ", describe(*t));
  }
  GAU_CHECK(v.size(0) == qq.size(0) && v.size(1) == qq.size(1), "flash_attention: v must be [b, n, e] with qq's b, n: qq ",
            describe(qq), ", v ", describe(v));
  const int64_t n = qq.size(1), c = opt.chunk;
  GAU_CHECK(c > 0, "flash_attention: chunk size c must be positive, got ", c);
  GAU_CHECK(opt.max_length >= 0, "flash_attention: max_length must be >= 0 (0 = the input's n), got ",
            opt.max_length);

  detail::FlashResolved r;
  r.chunk = c;
  r.causal = opt.causal;
  r.linear_norm = opt.linear_norm;
  r.norm_n = static_cast<double>(opt.max_length > 0 ? opt.max_length : n);
  r.save_states = opt.causal && !opt.recompute;
  if (opt.bias.defined()) {
    GAU_CHECK(opt.bias.dim() == 1 && opt.bias.size(0) == 2 * c - 1,
              "flash_attention: bias must be [2c - 1] = [", 2 * c - 1, "] (per offset i - j inside a chunk of c = ", c,
              "), got ", describe(opt.bias));
    GAU_CHECK(is_floating(opt.bias.dtype()), "flash_attention: bias must be floating, got ", describe(opt.bias));
    GAU_CHECK(opt.bias.device() == qq.device(), "flash_attention: bias must be on the inputs' device ", qq.device(),
              ", got ", describe(opt.bias));
    r.bias = ops::contiguous(ops::to_dtype(opt.bias.detach(), detail::compute_dtype(qq.dtype())));
  }
  if (opt.key_lengths.defined()) {
    const Tensor& len = opt.key_lengths;
    GAU_CHECK(len.dim() == 1 && len.size(0) == qq.size(0) && (len.dtype() == DType::i32 || len.dtype() == DType::i64),
              "flash_attention: key_lengths must be [b] = [", qq.size(0), "] i32 or i64, got ", describe(len));
    Tensor host = ops::contiguous(ops::to_dtype(ops::to_device(len, Device::cpu()), DType::i64));
    const int64_t* p = host.data<int64_t>();
    for (int64_t b = 0; b < host.numel(); ++b) {
      GAU_CHECK(p[b] >= 0 && p[b] <= n, "flash_attention: key_lengths[", b, "] = ", p[b], " is outside [0, n = ", n,
                "]");
    }
    r.key_lengths = ops::to_device(host, qq.device());
  }
  return r;
}

detail::FlashForwardResult run_flash_forward(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                             const Tensor& v, const detail::FlashResolved& opt) {
  if (qq.is_cuda()) {
    GAU_CUDA_ONLY(return detail::flash_forward_cuda(qq, kq, ql, kl, v, opt));
  }
  return detail::flash_forward_cpu(qq, kq, ql, kl, v, opt);
}

detail::FlashBackwardResult run_flash_backward(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                                               const Tensor& v, const Tensor& states, const Tensor& d_o,
                                               const detail::FlashResolved& opt) {
  if (qq.is_cuda()) {
    GAU_CUDA_ONLY(return detail::flash_backward_cuda(qq, kq, ql, kl, v, states, d_o, opt));
  }
  return detail::flash_backward_cpu(qq, kq, ql, kl, v, states, d_o, opt);
}

// Inputs of the node: qq, kq, ql, kl, v and the user's bias table (undefined when none).
struct FlashFunction : autograd::Function<FlashFunction> {
  static constexpr const char* name = "flash_attention";

  static Tensor forward(autograd::Context& ctx, const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl,
                        const Tensor& v, const Tensor& bias, const detail::FlashResolved& opt) {
    auto c = [](const Tensor& x) { return ops::contiguous(x); };
    Tensor cqq = c(qq), ckq = c(kq), cql = c(ql), ckl = c(kl), cv = c(v);
    detail::FlashForwardResult r = run_flash_forward(cqq, ckq, cql, ckl, cv, opt);
    ctx.save_for_backward({cqq, ckq, cql, ckl, cv, r.states});
    ctx.set("opt", opt);
    return r.o;
  }

  static std::vector<Tensor> backward(autograd::Context& ctx, const std::vector<Tensor>& d_out) {
    const auto& opt = ctx.get<detail::FlashResolved>("opt");
    std::vector<Tensor> s = ctx.saved();
    Tensor d_o = ops::contiguous(ops::to_dtype(d_out[0], s[0].dtype()));
    detail::FlashBackwardResult r = run_flash_backward(s[0], s[1], s[2], s[3], s[4], s[5], d_o, opt);
    return {r.d_qq, r.d_kq, r.d_ql, r.d_kl, r.d_v, ctx.needs_input_grad(5) ? r.d_bias : Tensor()};
  }
};

}  // namespace

Tensor flash_attention(const Tensor& qq, const Tensor& kq, const Tensor& ql, const Tensor& kl, const Tensor& v,
                       const FlashOptions& opt) {
  detail::FlashResolved r = resolve(qq, kq, ql, kl, v, opt);
  return FlashFunction::apply(qq, kq, ql, kl, v, opt.bias, r);
}

}  // namespace gau::attention
