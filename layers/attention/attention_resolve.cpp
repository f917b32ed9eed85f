#include "layers/attention/attention_resolve.h"

#include <cmath>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"

namespace gau::attention::detail {

namespace {

// Host copy of an integer tensor as int64 values.
std::vector<int64_t> host_int64(const Tensor& t) {
  Tensor host = ops::contiguous(ops::to_dtype(ops::to_device(t, Device::cpu()), DType::i64));
  const int64_t* data = host.data<int64_t>();
  return std::vector<int64_t>(data, data + host.numel());
}

std::vector<bool> host_bool(const Tensor& t) {
  Tensor host = ops::contiguous(ops::to_device(t, Device::cpu()));
  const bool* data = host.data<bool>();
  return std::vector<bool>(data, data + host.numel());
}

int64_t bias_table_size(const RelativeBias& bias) {
  return bias.kind == RelativeBias::Kind::per_offset ? 2 * bias.max_offset + 1 : bias.num_buckets;
}

void validate_bias(const Tensor& q, const RelativeBias& bias) {
  const bool per_offset = bias.kind == RelativeBias::Kind::per_offset;
  const char* kind = per_offset ? "per_offset" : "t5_buckets";
  GAU_CHECK(bias.table.defined(), "attention: a ", kind, " relative bias needs a table, got none");
  GAU_CHECK(is_floating(bias.table.dtype()), "attention: the bias table must be floating, got ",
            describe(bias.table));
  GAU_CHECK(bias.table.device() == q.device(), "attention: the bias table must be on the inputs' device (q is ",
            describe(q), "), got ", describe(bias.table));
  if (per_offset) {
    GAU_CHECK(bias.max_offset >= 0, "attention: per_offset bias needs max_offset >= 0, got ", bias.max_offset);
  } else {
    GAU_CHECK(bias.num_buckets >= (bias.bidirectional ? 4 : 2),
              "attention: t5_buckets bias needs num_buckets >= ", bias.bidirectional ? 4 : 2,
              (bias.bidirectional ? " (bidirectional)" : ""), ", got ", bias.num_buckets);
    const int64_t max_exact = (bias.bidirectional ? bias.num_buckets / 2 : bias.num_buckets) / 2;
    GAU_CHECK(bias.max_distance > max_exact, "attention: t5_buckets bias needs max_distance > ", max_exact,
              " (half the buckets of a direction), got ", bias.max_distance);
  }
  const int64_t expected = bias_table_size(bias);
  GAU_CHECK(bias.table.dim() == 1 && bias.table.size(0) == expected, "attention: the ", kind,
            " bias table must have shape [", expected, "]",
            (per_offset ? " (2 * max_offset + 1)" : " (num_buckets)"), ", got ", describe(bias.table));
}

}  // namespace

void validate_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opt) {
  GAU_CHECK(q.defined() && k.defined() && v.defined(), "attention: q, k and v must all be defined");
  GAU_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
            "attention: expected q [b, h, n_q, s], k [b, h, n_k, s], v [b, h, n_k, e], got q ", describe(q), ", k ",
            describe(k), ", v ", describe(v));
  GAU_CHECK(is_floating(q.dtype()), "attention: expected a floating dtype (f32, f64, bf16, f16), got q ",
            describe(q));
  GAU_CHECK(k.dtype() == q.dtype() && v.dtype() == q.dtype(), "attention: q, k and v must share one dtype, got q ",
            describe(q), ", k ", describe(k), ", v ", describe(v));
  GAU_CHECK(k.device() == q.device() && v.device() == q.device(),
            "attention: q, k and v must be on one device, got q ", describe(q), ", k ", describe(k), ", v ",
            describe(v));
  GAU_CHECK(k.size(0) == q.size(0) && v.size(0) == q.size(0) && k.size(1) == q.size(1) && v.size(1) == q.size(1),
            "attention: q, k and v must share batch b and heads h (q [b, h, n_q, s], k [b, h, n_k, s], "
            "v [b, h, n_k, e]), got q ",
            q.shape(), ", k ", k.shape(), ", v ", v.shape());
  GAU_CHECK(v.size(2) == k.size(2), "attention: k and v must have the same number of keys n_k, got k ", k.shape(),
            ", v ", v.shape());
  GAU_CHECK(k.size(3) == q.size(3), "attention: q and k must have the same width s, got q ", q.shape(), ", k ",
            k.shape());
  GAU_CHECK(q.numel() > 0 && k.numel() > 0 && v.numel() > 0, "attention: every dimension must be at least 1, got q ",
            q.shape(), ", k ", k.shape(), ", v ", v.shape());
  const int64_t b = q.size(0), n_k = k.size(2);

  GAU_CHECK(!(opt.key_lengths.defined() && opt.key_mask.defined()),
            "attention: give key_lengths or key_mask, not both (got key_lengths ", describe(opt.key_lengths),
            " and key_mask ", describe(opt.key_mask), ")");
  if (opt.key_lengths.defined()) {
    const Tensor& lengths = opt.key_lengths;
    GAU_CHECK(lengths.dtype() == DType::i32 || lengths.dtype() == DType::i64,
              "attention: key_lengths must be i32 or i64, got ", describe(lengths));
    GAU_CHECK(lengths.dim() == 1 && lengths.size(0) == b, "attention: key_lengths must have shape [b] = [", b,
              "], got ", describe(lengths), " (q ", q.shape(), ")");
    const std::vector<int64_t> host = host_int64(lengths);
    for (int64_t i = 0; i < b; ++i)
      GAU_CHECK(host[i] >= 0 && host[i] <= n_k, "attention: key_lengths[", i, "] = ", host[i],
                " is outside [0, n_k] = [0, ", n_k, "] (k ", k.shape(), ")");
  }
  if (opt.key_mask.defined()) {
    const Tensor& mask = opt.key_mask;
    GAU_CHECK(mask.dtype() == DType::b8, "attention: key_mask must be bool (true = attend), got ", describe(mask));
    GAU_CHECK(mask.dim() == 2 && mask.size(0) == b && mask.size(1) == n_k, "attention: key_mask must have shape [b, n_k] = [",
              b, ", ", n_k, "], got ", describe(mask), " (q ", q.shape(), ", k ", k.shape(), ")");
    GAU_CHECK(mask.device() == q.device(), "attention: key_mask must be on the inputs' device (q is ", describe(q),
              "), got ", describe(mask));
  }
  if (opt.bias.kind != RelativeBias::Kind::none) validate_bias(q, opt.bias);
  GAU_CHECK(opt.dropout_p >= 0 && opt.dropout_p < 1, "attention: dropout_p must be in [0, 1), got ", opt.dropout_p);
  GAU_CHECK(std::isfinite(opt.scale), "attention: scale must be finite (0 picks the default), got ", opt.scale);
  GAU_CHECK(opt.log_length_base == 0 || (std::isfinite(opt.log_length_base) && opt.log_length_base > 1),
            "attention: log_length_base must be 0 (off) or a finite base > 1 (softmax_plus: scale · log(L) / "
            "log(base), GAU-α uses 512), got ", opt.log_length_base);
  GAU_CHECK(opt.log_length_base == 0 || !opt.scale_by_valid_length,
            "attention: scale_by_valid_length (scale = 1 / L) and log_length_base (scale · log(L) / log(base)) are "
            "two rules for the same per-row scale; got both (use one of them)");
  if (opt.scale_by_valid_length) {
    GAU_CHECK(opt.scale == 0, "attention: scale_by_valid_length sets scale = 1 / (valid keys of each batch row), "
              "so it cannot be given with an explicit scale; got scale = ", opt.scale,
              " and scale_by_valid_length = true (use one of them)");
    GAU_CHECK(opt.kernel != Kernel::softmax,
              "attention: scale_by_valid_length is the inv_n rule of the relu2 and laplace kernels (scale = 1 / "
              "valid keys); softmax normalises its weights itself, got kernel softmax with scale_by_valid_length "
              "= true (use scale, default 1/sqrt(s), or kernel relu2 or laplace)");
  }
}

ResolvedOptions resolve_options(const Tensor& q, const Tensor& k, const AttentionOptions& opt) {
  ResolvedOptions r;
  r.kernel = opt.kernel;
  r.causal = opt.causal;
  const int64_t b = q.size(0), s = q.size(3), n_k = k.size(2);
  // With scale_by_valid_length or log_length_base the backends turn this into a scale per batch row
  // (row_scale.h).
  if (opt.scale != 0)
    r.scale = opt.scale;
  else
    r.scale = opt.kernel == Kernel::relu2 ? 1.0 / static_cast<double>(n_k) : 1.0 / std::sqrt(static_cast<double>(s));
  r.scale_by_valid_length = opt.scale_by_valid_length;
  r.log_length_base = opt.log_length_base;
  if (opt.key_lengths.defined()) r.key_lengths = ops::contiguous(ops::to_dtype(opt.key_lengths, DType::i64));
  if (opt.key_mask.defined()) {
    // A mask that is true on a prefix of every row is padding: pass lengths, which lets the kernels
    // skip the padded key tiles instead of testing each key.
    const std::vector<bool> mask = host_bool(opt.key_mask);
    std::vector<int64_t> lengths(static_cast<size_t>(b), 0);
    bool prefix = true;
    for (int64_t i = 0; i < b && prefix; ++i) {
      int64_t len = 0;
      while (len < n_k && mask[i * n_k + len]) ++len;
      for (int64_t j = len; j < n_k && prefix; ++j) prefix = !mask[i * n_k + j];
      lengths[i] = len;
    }
    if (prefix)
      r.key_lengths = ops::to_device(ops::from_vector<int64_t>(lengths, {b}), q.device());
    else
      r.key_mask = ops::contiguous(opt.key_mask);
  }
  if (opt.bias.kind != RelativeBias::Kind::none) {
    r.bias = opt.bias;
    const DType table_dtype = q.dtype() == DType::f64 ? DType::f64 : DType::f32;
    r.bias.table = ops::contiguous(ops::to_dtype(opt.bias.table.detach(), table_dtype));
  }
  r.dropout_p = opt.dropout_p;
  r.seed = opt.seed;
  r.offset = opt.offset;
  return r;
}

}  // namespace gau::attention::detail
