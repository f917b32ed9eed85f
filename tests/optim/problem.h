#pragma once
// The optimizer tests' problem (tests/reference/optim_trajectories.py has the same): parameters
// lin.weight [7, 5], lin.bias [5], proj.weight [3, 4] with the loss
//   L = 1/(2·8) ||X W + b - Y||² + 1/2 Σ A ⊙ (Q - C)²
// and its gradients computed here in f64 on the host from the current parameters, so every
// optimizer test drives the optimizer alone (no autograd in the loop).
#include <memory>
#include <string>
#include <vector>

#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "layers/module.h"
#include "tests/support/fixture.h"
#include "tests/support/parity.h"

namespace gau::optim::test {

struct Params : layers::Module {
  explicit Params(std::vector<std::pair<std::string, Tensor>> ps) : Module("Params") {
    for (auto& [n, t] : ps) register_parameter(n, t);
  }
};

struct Problem : layers::Module {
  explicit Problem(DType dtype = DType::f32, Device device = Device::cpu()) : Module("Problem") {
    auto make = [&](const Shape& s, uint64_t seed, double lo, double hi) {
      return ops::to_device(gau::test::counter_uniform(s, seed, lo, hi, dtype), device);
    };
    lin = register_module("lin", std::make_shared<Params>(std::vector<std::pair<std::string, Tensor>>{
                                     {"weight", make({7, 5}, 101, -0.5, 0.5)}, {"bias", make({5}, 102, -0.5, 0.5)}}));
    proj = register_module(
        "proj",
        std::make_shared<Params>(std::vector<std::pair<std::string, Tensor>>{{"weight", make({3, 4}, 103, -1, 1)}}));
  }
  std::shared_ptr<Params> lin, proj;
};

// Sets every parameter's gradient (in its gradient buffer) from the current parameter values.
inline void set_gradients(const layers::Module& model) {
  static const std::vector<double> X = gau::test::values(gau::test::counter_uniform({8, 7}, 201, -1, 1, DType::f64));
  static const std::vector<double> Y = gau::test::values(gau::test::counter_uniform({8, 5}, 202, -1, 1, DType::f64));
  static const std::vector<double> A = gau::test::values(gau::test::counter_uniform({3, 4}, 203, 0.5, 2, DType::f64));
  static const std::vector<double> C = gau::test::values(gau::test::counter_uniform({3, 4}, 204, -1, 1, DType::f64));
  const auto named = model.named_parameters();
  const Tensor& wt = named[0].second;
  const Tensor& bt = named[1].second;
  const Tensor& qt = named[2].second;
  const std::vector<double> W = gau::test::values(wt), b = gau::test::values(bt), Q = gau::test::values(qt);
  std::vector<double> R(8 * 5), dW(7 * 5, 0.0), db(5, 0.0), dQ(12);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 5; ++j) {
      double s = b[j] - Y[i * 5 + j];
      for (int k = 0; k < 7; ++k) s += X[i * 7 + k] * W[k * 5 + j];
      R[i * 5 + j] = s;
    }
  for (int k = 0; k < 7; ++k)
    for (int j = 0; j < 5; ++j) {
      double s = 0;
      for (int i = 0; i < 8; ++i) s += X[i * 7 + k] * R[i * 5 + j];
      dW[k * 5 + j] = s / 8;
    }
  for (int j = 0; j < 5; ++j) {
    for (int i = 0; i < 8; ++i) db[j] += R[i * 5 + j];
    db[j] /= 8;
  }
  for (int i = 0; i < 12; ++i) dQ[i] = A[i] * (Q[i] - C[i]);
  ops::copy_(wt.grad(), ops::from_vector<double>(dW, {7, 5}));
  ops::copy_(bt.grad(), ops::from_vector<double>(db, {5}));
  ops::copy_(qt.grad(), ops::from_vector<double>(dQ, {3, 4}));
}

}  // namespace gau::optim::test
