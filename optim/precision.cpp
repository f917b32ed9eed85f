#include "optim/precision.h"

namespace gau::optim {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32:
      return "fp32";
    case Precision::bf16:
      return "bf16";
    case Precision::fp16:
      return "fp16";
  }
  return "?";
}

PrecisionPolicy precision_policy(Precision p) {
  switch (p) {
    case Precision::bf16:
      return {p, DType::bf16, DType::f32, true, false};
    case Precision::fp16:
      return {p, DType::f16, DType::f32, true, true};
    case Precision::fp32:
      break;
  }
  return {Precision::fp32, DType::f32, DType::f32, false, false};
}

PrecisionPolicy read_precision(layers::ConfigReader& r, const std::string& key) {
  const std::string name = r.choice(key, {"fp32", "bf16", "fp16"}, "fp32");
  return precision_policy(name == "bf16" ? Precision::bf16 : name == "fp16" ? Precision::fp16 : Precision::fp32);
}

layers::FlatParameters apply_precision(layers::Module& model, const PrecisionPolicy& policy, Device device,
                                       int64_t shards) {
  model.to(device, policy.param_dtype);
  layers::FlatOptions options = policy.flat_options();
  options.shards = shards;
  return layers::FlatParameters(model, options);
}

}  // namespace gau::optim
