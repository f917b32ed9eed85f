// A training loop written against gau's C++ API, with no config file: a byte-level language model
// of two GAU blocks learns a paragraph embedded below, then writes a greedy sample of it.
//
//   train_loop [--steps N] [--threads T]     N: 500 by default; T: gau's default when not given
//
// Exits 1 when the loss did not fall (the mean of the last tenth of the steps against the first's).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops/factory.h"
#include "core/rng.h"
#include "core/threads.h"
#include "layers/flat_parameters.h"
#include "layers/gau.h"
#include "layers/models/language_model.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "trainers/generate.h"

namespace {

const std::string kText =
    "A language model reads text one byte at a time and guesses the next byte. At first every "
    "guess is as good as any other, which costs about five and a half nats a byte. After a few "
    "hundred steps of gradient descent it has learned which letters follow which, where the "
    "spaces go, and whole words of this paragraph, so the loss falls well below that. ";

constexpr int64_t kBatch = 8, kLength = 64;

// kBatch random windows of the text: ids are bytes t .. t + n - 1, targets bytes t + 1 .. t + n.
void sample_batch(std::mt19937& rng, std::vector<int64_t>& ids, std::vector<int64_t>& targets) {
  std::uniform_int_distribution<size_t> start(0, kText.size() - kLength - 1);
  ids.clear();
  targets.clear();
  for (int64_t b = 0; b < kBatch; ++b) {
    const size_t s = start(rng);
    for (int64_t t = 0; t < kLength; ++t) {
      ids.push_back(static_cast<unsigned char>(kText[s + t]));
      targets.push_back(static_cast<unsigned char>(kText[s + t + 1]));
    }
  }
}

std::shared_ptr<gau::layers::LanguageModel> make_model() {
  gau::layers::GauOptions block;
  block.dim = 64;
  block.e = 128;
  block.s = 32;
  block.max_length = kLength;  // RoPE's table and the attention's 1/n
  block.causal = true;
  std::vector<std::shared_ptr<gau::layers::SequenceBlock>> blocks;
  for (int i = 0; i < 2; ++i) blocks.push_back(std::make_shared<gau::layers::Gau>(block));
  gau::layers::LanguageModelOptions lm;
  lm.vocab = 256;
  lm.dim = block.dim;
  lm.max_length = kLength;
  return std::make_shared<gau::layers::LanguageModel>(lm, std::move(blocks));
}

// Trains and returns the exit status; gau's errors come out as exceptions (gau::Error).
int run(int argc, char** argv) {
  int64_t steps = 500;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) {
      steps = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      gau::set_num_threads(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--steps N] [--threads T]\n", argv[0]);
      return 2;
    }
  }
  if (steps < 10) {
    std::fprintf(stderr, "train_loop: --steps must be at least 10, got %lld\n", static_cast<long long>(steps));
    return 2;
  }

  gau::manual_seed(1);  // the parameters' initialisation draws from the default generator
  std::shared_ptr<gau::layers::LanguageModel> model = make_model();
  // One contiguous buffer for all parameters and one for their gradients: what the optimizer
  // and the clip run over, each in one fused pass.
  gau::layers::FlatParameters flat(*model);
  gau::optim::Adam adamw(flat, {.lr = 1e-2, .beta2 = 0.95, .weight_decay = 0.01, .decoupled = true});
  const gau::optim::Schedule schedule({.type = gau::optim::ScheduleType::cosine, .base_lr = 1e-2,
                                       .warmup_steps = steps / 10, .total_steps = steps, .min_lr = 1e-3});
  std::printf("model: %lld parameters; %lld steps of %lld x %lld bytes\n",
              static_cast<long long>(model->parameter_count()), static_cast<long long>(steps),
              static_cast<long long>(kBatch), static_cast<long long>(kLength));

  std::mt19937 rng(7);
  std::vector<int64_t> ids, targets;
  std::vector<double> losses;
  for (int64_t step = 0; step < steps; ++step) {
    sample_batch(rng, ids, targets);
    const gau::Tensor x = gau::ops::from_vector(ids, {kBatch, kLength});
    const gau::Tensor y = gau::ops::from_vector(targets, {kBatch, kLength});
    adamw.set_lr(schedule.lr_at(step));
    const gau::Tensor loss = model->loss(x, y);  // mean cross-entropy, nats per byte
    loss.backward();                            // into flat's gradient buffer
    const double grad_norm = gau::optim::clip_grad_norm(flat, 1.0);
    adamw.step();
    adamw.zero_grad();
    losses.push_back(loss.item());
    if (step % (steps / 10) == 0 || step + 1 == steps)
      std::printf("step %4lld  loss %.4f  grad norm %.3f  lr %.2e\n", static_cast<long long>(step + 1), losses.back(),
                  grad_norm, adamw.lr());
  }

  model->eval();
  const std::vector<int32_t> prompt = {'A', ' '};
  const gau::trainers::Generated sample =
      gau::trainers::generate(*model, prompt, {.max_tokens = 48, .temperature = 0}, gau::Device::cpu());
  std::printf("sample: \"A %s\"\n", std::string(sample.tokens.begin(), sample.tokens.end()).c_str());

  const int64_t tenth = steps / 10;
  double first = 0, last = 0;
  for (int64_t i = 0; i < tenth; ++i) first += losses[i] / tenth, last += losses[steps - 1 - i] / tenth;
  std::printf("mean loss: first %lld steps %.4f, last %lld steps %.4f\n", static_cast<long long>(tenth), first,
              static_cast<long long>(tenth), last);
  if (!(last < first - 0.5)) {
    std::fprintf(stderr, "train_loop: the loss did not fall by 0.5 nats\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const gau::Error& e) {
    std::fprintf(stderr, "train_loop: %s\n", e.what());
    return 1;
  }
}
