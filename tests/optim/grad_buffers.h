#pragma once
// Test helpers for the gradient-buffer passes (clipping, loss scaling): a module of plain
// parameters of chosen shapes and dtypes, flattened, with chosen gradient values.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "layers/flat_parameters.h"
#include "layers/module.h"
#include "tests/support/parity.h"

namespace gau::test {

struct ParamSpec {
  Shape shape;
  DType dtype = DType::f32;
};

// Parameters p0, p1, ... of the given shapes and dtypes (random values); no forward.
struct PlainParams : layers::Module {
  explicit PlainParams(const std::vector<ParamSpec>& specs) : Module("PlainParams") {
    for (size_t i = 0; i < specs.size(); ++i) {
      register_parameter("p" + std::to_string(i), randn(specs[i].shape, specs[i].dtype, 100 + i));
    }
  }
};

// A model of `specs` on `device`, flattened with f32 gradient buffers unless `grad_dtype` says
// otherwise; every gradient view holds randn values (from `seed`) times `scale`.
struct FlatModel {
  std::shared_ptr<PlainParams> model;
  layers::FlatParameters flat;
};
inline FlatModel flat_model(const std::vector<ParamSpec>& specs, Device device, uint64_t seed, double scale = 1.0,
                            std::optional<DType> grad_dtype = DType::f32) {
  FlatModel m{std::make_shared<PlainParams>(specs), {}};
  m.model->to(device);
  m.flat = layers::FlatParameters(*m.model, {.grad_dtype = grad_dtype});
  uint64_t s = seed;
  for (const layers::FlatGroup& g : m.flat.groups()) {
    for (const layers::FlatEntry& e : g.entries) {
      const Tensor v = ops::to_dtype(ops::mul(randn64(e.param.shape(), s++), scale), g.grads.dtype());
      ops::copy_(e.param.grad(), ops::to_device(v, device));
    }
  }
  return m;
}

// Σ g² over the parameters' gradient views only (never the gaps), in f64 on the host.
inline double naive_sum_squares(const layers::FlatParameters& flat) {
  double s = 0;
  for (const layers::FlatGroup& g : flat.groups()) {
    for (const layers::FlatEntry& e : g.entries) {
      for (double v : values(e.param.grad())) s += v * v;
    }
  }
  return s;
}

// Every gradient buffer's values, group by group.
inline std::vector<std::vector<double>> grad_values(const layers::FlatParameters& flat) {
  std::vector<std::vector<double>> out;
  for (const layers::FlatGroup& g : flat.groups()) out.push_back(values(g.grads));
  return out;
}

}  // namespace gau::test
