#pragma once
// Linear: y = x Wᵀ + b.
//
//   x [..., in] -> y [..., out];  weight [out, in];  bias [out] (optional)
//   PyTorch: torch.nn.functional.linear(x, weight, bias)
//
// The weight is [out, in], PyTorch's layout, so state dicts and reference fixtures carry over
// unchanged. The product is one gau::matmul(x, weight, trans_b) on the weight leaf itself, so
// backward's weight gradient is ONE GEMM over the flattened batch, written with beta = 1 straight
// into the weight's .grad view of a flat gradient buffer (the gradient sink) when there is one.
// The bias goes through the fused bias_act op.
//
// Config: {type: linear, in: 64, out: 32, bias: true, init: uniform, init_std: 0.02}
//   init: uniform         U(±1/sqrt(in)) for the weight (PyTorch's nn.Linear default)
//         xavier_uniform  U(±sqrt(6 / (in + out)))
//         normal          N(0, init_std)
//         zeros           (e.g. an output projection that starts as the identity of a residual)
//   the bias starts at zero.
#include <cstdint>
#include <memory>
#include <string>

#include "core/rng.h"
#include "layers/config_reader.h"
#include "layers/module.h"

namespace gau::layers {

enum class LinearInit { uniform, xavier_uniform, normal, zeros };

struct LinearOptions {
  bool bias = true;
  LinearInit init = LinearInit::uniform;
  double init_std = 0.02;    // for init = normal
  Generator* gen = nullptr;  // default_generator() when null
};

LinearInit parse_linear_init(ConfigReader& r);
// Initialises weight [out, in] as `init` says.
void init_linear_weight(const Tensor& weight, LinearInit init, double init_std, Generator* gen);
// Reads the bias/init/init_std keys shared by Linear and FusedLinear.
LinearOptions read_linear_options(ConfigReader& r);

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, const LinearOptions& options = {});

  // x [..., in] -> [..., out]
  Tensor forward(const Tensor& x) override;

  const Tensor& weight() const { return weight_; }  // [out, in]
  const Tensor& bias() const { return bias_; }      // [out], undefined without bias
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  static std::shared_ptr<Module> from_config(ConfigReader& r);
  static const char* example_config();
  static Tensor example_input(const Linear& m, uint64_t seed);  // [2, 3, in]

 private:
  int64_t in_, out_;
  Tensor weight_, bias_;
};

// "Linear 'model.proj' (in 64, out 32)": expects x [..., in] with the weight's dtype and device.
void check_linear_input(const Module& m, const Tensor& x, int64_t in, const Tensor& weight);

}  // namespace gau::layers
