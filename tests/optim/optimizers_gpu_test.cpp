// The CUDA optimizer kernels against the CPU ones: every optimizer over the test problem
// (problem.h) for 5 steps in f32, and in bf16 with f32 master weights (rounded to nearest and
// stochastically: both backends draw the same Philox numbers), and over a [300, 1000] + [1000]
// model whose ranges span several chunks (the multi-tensor loop, LAMB's per-chunk norms and
// Adafactor's per-parameter reductions).
#include <gtest/gtest.h>

#include <string>

#include "core/ops/copy.h"
#include "layers/flat_parameters.h"
#include "optim/factory.h"
#include "tests/optim/problem.h"
#include "tests/support/cuda_fixture.h"

namespace gau::optim {
namespace {

class OptimizerGpuTest : public gau::test::CudaTest {};

const char* kConfigs[] = {
    "{type: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01, no_decay: ['*.bias']}",
    "{type: adamw, lr: 0.02, betas: [0.9, 0.95], weight_decay: 0.1, lr_multipliers: {'proj.*': 0.5}}",
    "{type: adam, lr: 0.02, amsgrad: true, weight_decay: 0.01}",
    "{type: lamb, lr: 0.02, no_decay: ['*.bias']}",
    "{type: adafactor, beta1: 0.9, weight_decay: 0.01}",
    "{type: lion, lr: 0.01, weight_decay: 0.1}",
};

std::unique_ptr<Optimizer> build(const std::string& yaml, layers::FlatParameters& flat) {
  layers::ConfigReader r(YAML::Load(yaml), "optim");
  return make_optimizer(r, flat);
}

TEST_F(OptimizerGpuTest, EveryOptimizerMatchesTheCpuOnTheTestProblem) {
  struct Case {
    DType dtype;
    bool stochastic;
    double tol;
  };
  for (const char* yaml : kConfigs) {
    for (const Case c :
         {Case{DType::f32, false, 1e-5}, Case{DType::bf16, false, 2e-2}, Case{DType::bf16, true, 2e-2}}) {
      SCOPED_TRACE(std::string(yaml) + " " + dtype_name(c.dtype) + (c.stochastic ? " stochastic" : ""));
      const std::string config = c.stochastic ? std::string(yaml).insert(1, "stochastic_rounding: true, ") : yaml;
      const layers::FlatOptions fo{.grad_dtype = DType::f32};
      test::Problem cpu_model(c.dtype), gpu_model(c.dtype, Device::cuda());
      layers::FlatParameters cpu_flat(cpu_model, fo), gpu_flat(gpu_model, fo);
      auto cpu = build(config, cpu_flat);
      auto gpu = build(config, gpu_flat);
      for (int t = 1; t <= 5; ++t) {
        test::set_gradients(cpu_model);
        test::set_gradients(gpu_model);
        cpu->step();
        gpu->step();
        if (cpu->master(0).defined()) GAU_EXPECT_CLOSE(gpu->master(0), cpu->master(0), 1e-5, 1e-5);
        GAU_EXPECT_CLOSE(gpu_flat.groups()[0].params, cpu_flat.groups()[0].params, c.tol, c.tol);
      }
    }
  }
}

TEST_F(OptimizerGpuTest, RangesOverSeveralChunksMatchTheCpu) {
  for (const char* yaml : kConfigs) {
    SCOPED_TRACE(yaml);
    auto make = [](Device d) {
      return std::make_shared<test::Params>(std::vector<std::pair<std::string, Tensor>>{
          {"lin.weight", ops::to_device(gau::test::randn({300, 1000}, DType::f32, 31), d)},
          {"lin.bias", ops::to_device(gau::test::randn({1000}, DType::f32, 32), d)},
          {"proj.weight", ops::to_device(gau::test::randn({7, 5}, DType::f32, 33), d)}});
    };
    auto cpu_model = make(Device::cpu()), gpu_model = make(Device::cuda());
    layers::FlatParameters cpu_flat(*cpu_model), gpu_flat(*gpu_model);
    auto cpu = build(yaml, cpu_flat);
    auto gpu = build(yaml, gpu_flat);
    for (int t = 1; t <= 3; ++t) {
      const Tensor grads = gau::test::randn(cpu_flat.groups()[0].grads.shape(), DType::f32, 40 + t);
      ops::copy_(cpu_flat.groups()[0].grads, grads);
      ops::copy_(gpu_flat.groups()[0].grads, grads);
      cpu->step();
      gpu->step();
      GAU_EXPECT_CLOSE(gpu_flat.groups()[0].params, cpu_flat.groups()[0].params, 1e-5, 1e-5);
    }
  }
}

}  // namespace
}  // namespace gau::optim
