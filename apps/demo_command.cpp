#include "apps/demo_command.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "autograd/functions.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"

namespace gau::apps {

namespace {

struct DemoArgs {
  int steps = 50;
  double lr = 0.05;
  uint64_t seed = 1;
  std::string device = "cpu";
};

// Fits a 2-layer MLP student, y = gelu(x W1 + b1) W2 + b2, to the outputs of a random teacher MLP
// on synthetic data, with plain SGD on the mean squared error. Everything runs through gau's tape:
// forward records, loss.backward() fills the .grad of each parameter, and the update is an
// in-place axpy outside the tape.
void run_demo(const DemoArgs& args) {
  GAU_CHECK(args.steps >= 1, "gau demo: --steps must be at least 1, got ", args.steps);
  GAU_CHECK(args.lr > 0, "gau demo: --lr must be positive, got ", args.lr);
  const Device device = Device::parse(args.device);
  const int64_t n = 512, d_in = 16, d_hidden = 64, d_out = 4;
  Generator gen(args.seed);
  auto init = [&](const Shape& shape, double std) {  // a leaf parameter, N(0, std^2)
    Tensor p = ops::randn(shape, DType::f32, device, 0, std, &gen);
    p.requires_grad_();
    return p;
  };

  // Synthetic data: x [n, d_in], targets [n, d_out] from a teacher with tanh hidden units.
  Tensor x = ops::randn({n, d_in}, DType::f32, device, 0, 1, &gen);
  Tensor y;
  {
    NoGradGuard no_grad;
    Tensor t1 = ops::randn({d_in, d_hidden}, DType::f32, device, 0, 1 / std::sqrt(double(d_in)), &gen);
    Tensor t2 = ops::randn({d_hidden, d_out}, DType::f32, device, 0, 1 / std::sqrt(double(d_hidden)), &gen);
    y = matmul(tanh(matmul(x, t1)), t2);
  }

  Tensor w1 = init({d_in, d_hidden}, 1 / std::sqrt(double(d_in)));       // [d_in, d_hidden]
  Tensor b1 = init({d_hidden}, 0.01);                                    // [d_hidden]
  Tensor w2 = init({d_hidden, d_out}, 1 / std::sqrt(double(d_hidden)));  // [d_hidden, d_out]
  Tensor b2 = init({d_out}, 0.01);                                       // [d_out]
  std::vector<Tensor> params = {w1, b1, w2, b2};

  std::printf(
      "gau demo: 2-layer MLP (%lld -> %lld gelu -> %lld) fitting a random teacher, %lld samples, SGD lr %g, on %s\n",
      (long long)d_in, (long long)d_hidden, (long long)d_out, (long long)n, args.lr, device.str().c_str());
  auto start = std::chrono::steady_clock::now();
  double first = 0, last = 0;
  for (int step = 0; step <= args.steps; ++step) {
    Tensor h = gau::bias_act(matmul(x, w1), b1, ops::Activation::gelu);  // [n, d_hidden]
    Tensor pred = add(matmul(h, w2), b2);                                // [n, d_out]
    Tensor err = sub(pred, y);
    Tensor loss = mean(mul(err, err));
    last = loss.item();
    GAU_CHECK(std::isfinite(last), "gau demo: loss became ", last, " at step ", step);
    if (step == 0) first = last;
    if (step % 5 == 0 || step == args.steps) std::printf("step %3d  loss %.6f\n", step, last);
    if (step == args.steps) break;
    loss.backward();
    NoGradGuard no_grad;
    for (const Tensor& p : params) {
      ops::axpy_(p, p.grad(), -args.lr);
      p.zero_grad();
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("loss fell from %.6f to %.6f (%.1fx lower) in %d steps, %.3f s\n", first, last, first / last, args.steps,
              seconds);
  GAU_CHECK(last < first, "gau demo: training did not reduce the loss (", first, " -> ", last, ")");
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Train a tiny MLP on synthetic data with gau's autograd");
  auto args = std::make_shared<DemoArgs>();
  cmd->add_option("--steps", args->steps, "SGD steps")->capture_default_str();
  cmd->add_option("--lr", args->lr, "learning rate")->capture_default_str();
  cmd->add_option("--seed", args->seed, "seed of the data and the initial weights")->capture_default_str();
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->callback([args] { run_demo(*args); });
}

}  // namespace gau::apps
