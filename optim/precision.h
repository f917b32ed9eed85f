#pragma once
// The mixed-precision policy: `precision: fp32 | bf16 | fp16` from config decides the dtypes of
// parameters and gradients, who keeps fp32 weights, and whether the loss is scaled.
//
//   precision  parameters  gradients  fp32 master weights  loss scaling
//   fp32       f32         f32        no (they are f32)    no
//   bf16       bf16        f32        yes, the optimizer   no (bf16 has f32's exponent range)
//   fp16       f16         f32        yes, the optimizer   yes: optim/loss_scaler.h
//
// There is no autocast: the model itself is converted, Module::to(device, param_dtype), so every
// activation is bf16/f16 and each op computes in f32 internally (acc_t), rounding its output
// once. Losses come out f32 (LanguageModel::loss). Gradients go to f32 buffers
// (layers::FlatOptions::grad_dtype): matmul's gradient sink accumulates straight into them, and
// micro-batches accumulate without bf16 rounding. The optimizer keeps an f32 master copy of the
// bf16/f16 parameters, updates it from the f32 gradients and rounds it back into the model's
// parameters after each step (optionally with stochastic rounding), so updates smaller than
// half a bf16 ulp of the weight are not lost.
//
// One step under fp16:
//   FlatParameters flat = apply_precision(model, policy, device);
//   scaler.scale(loss).backward();
//   if (scaler.unscale_and_check(flat)) { clip; optimizer.step(); }
//   flat.zero_grad();
//
// The same path runs on CPU (bf16/f16 storage, f32 compute), so CI covers all of it.
#include <string>

#include "core/device.h"
#include "core/dtype.h"
#include "layers/config_reader.h"
#include "layers/flat_parameters.h"
#include "layers/module.h"

namespace gau::optim {

enum class Precision { fp32, bf16, fp16 };
const char* precision_name(Precision p);

struct PrecisionPolicy {
  Precision precision = Precision::fp32;
  DType param_dtype = DType::f32;
  DType grad_dtype = DType::f32;
  bool master_weights = false;  // the optimizer keeps f32 copies of the parameters
  bool loss_scaling = false;    // use optim::LossScaler

  // What FlatParameters is given.
  layers::FlatOptions flat_options() const { return {.grad_dtype = grad_dtype}; }
};

// The table above.
PrecisionPolicy precision_policy(Precision p);
// Reads `key` (default fp32), one of fp32, bf16, fp16.
PrecisionPolicy read_precision(layers::ConfigReader& r, const std::string& key = "precision");

// Moves `model` to `device` with the policy's parameter dtype and flattens it with its gradient
// dtype: the model's parameters view the returned buffers, padded to split into `shards` (ZeRO-1).
layers::FlatParameters apply_precision(layers::Module& model, const PrecisionPolicy& policy, Device device,
                                       int64_t shards = 1);

}  // namespace gau::optim
