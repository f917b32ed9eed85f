#include "apps/train_command.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "trainers/progress.h"
#include "trainers/trainer.h"

namespace gau::apps {

namespace {

// configs/default.yaml beside this gau: installed (<prefix>/bin/gau, <prefix>/share/gau/configs)
// or in a build tree under the source tree (build/gau, configs/); "" when neither holds it.
std::string default_config_path() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const std::filesystem::path bin = exe.parent_path();
  for (const std::filesystem::path& p : {bin / "../share/gau/configs/default.yaml", bin / "../configs/default.yaml"})
    if (std::filesystem::is_regular_file(p, ec)) return std::filesystem::weakly_canonical(p, ec).string();
  return "";
}

// The commands that read the run back; generate only where it can prompt the model.
void print_eval_and_generate(const trainers::TrainSummary& s) {
  const std::string dir = s.run_dir.string();
  if (s.evaluates) std::printf("  evaluate:   gau eval %s\n", dir.c_str());
  if (s.generates)
    std::printf("  generate:   gau generate %s --prompt \"%s\"\n", dir.c_str(),
                s.sample_prompt.empty() ? "The " : s.sample_prompt.c_str());
  std::fflush(stdout);
}

void print_summary(const trainers::TrainSummary& s) {
  const std::string dir = s.run_dir.string();
  if (s.stop_reason == "already done") {
    std::printf("%s already holds all its %lld steps; nothing was trained.\n", dir.c_str(),
                static_cast<long long>(s.step));
    std::printf("  train more: gau train --resume %s --set train.steps=%lld\n", dir.c_str(),
                static_cast<long long>(2 * s.step));
    print_eval_and_generate(s);
    return;
  }
  std::printf("\ntrained %lld of %lld steps in %s (%s); stopped by %s\n", static_cast<long long>(s.step),
              static_cast<long long>(s.steps), trainers::format_duration(s.seconds).c_str(),
              trainers::format_rate(s.tokens_per_s).c_str(), s.stop_reason.c_str());
  // A step skipped for inf/nan gradients changed no weight: a run of mostly skipped steps learned little.
  if (s.skipped_steps > 0)
    std::printf("%lld of these %lld steps were skipped by the fp16 loss scaler (inf or nan gradients), "
                "leaving the weights as they were%s\n",
                static_cast<long long>(s.skipped_steps), static_cast<long long>(s.step - s.start_step),
                2 * s.skipped_steps > s.step - s.start_step
                    ? "; lower precision.loss_scale_init, or train in precision: bf16"
                    : "");
  if (s.final_eval)
    std::printf("validation: %.4f %s (loss %.4f nats, perplexity %.2f, %lld %s)\n", s.final_eval->bits_per_token(),
                s.final_eval->bits_unit(s.byte_level), s.final_eval->loss, s.final_eval->perplexity(),
                static_cast<long long>(s.final_eval->targets), s.final_eval->targets_unit());
  if (!s.sample.empty()) std::printf("sample:\n----\n%s\n----\n", s.sample.c_str());
  std::printf("run directory: %s\n", dir.c_str());
  if (s.metrics) std::printf("  metrics:    %s/metrics.jsonl\n", dir.c_str());
  if (s.tensorboard) std::printf("  TensorBoard: tensorboard --logdir %s\n", dir.c_str());
  std::printf("  checkpoint: %s\n", s.checkpoint.string().c_str());
  if (s.metrics) std::printf("  plot:       gau plot %s\n", dir.c_str());
  if (s.step < s.steps)
    std::printf("  resume:     gau train --resume %s\n", dir.c_str());
  else
    std::printf("  train more: gau train --resume %s --set train.steps=%lld\n", dir.c_str(),
                static_cast<long long>(2 * s.steps));
  print_eval_and_generate(s);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train the model a YAML config describes, or resume a run");
  auto req = std::make_shared<trainers::TrainRequest>();
  auto* config = cmd->add_option("config", req->config_file,
                  "the YAML config; without one (and without --resume), the default run: configs/default.yaml");
  cmd->add_option("--set", req->overrides, "override a key: key.path=value, the value as YAML (repeatable)")
      ->allow_extra_args(false);
  auto* resume = cmd->add_option("--resume", req->resume, "continue RUN_DIR from its latest checkpoint (--set applies over its config)");
  cmd->add_option("--run-dir", req->run_dir, "where a new run writes (default: train.run_dir, or runs/<name>)");
  cmd->footer(
      "Examples:\n"
      "  gau train configs/default.yaml                          the default: a byte-level GAU LM on the Jargon File\n"
      "  gau train configs/default.yaml --set train.steps=100 --set model.blocks.type=flash\n"
      "  gau train configs/default.yaml --run-dir runs/mine       choose the run directory\n"
      "  gau train --resume runs/default                         continue after a stop (Ctrl-C checkpoints)\n"
      "  gau train --resume runs/default --set train.steps=1200  train on for more steps\n"
      "  mpirun -np 4 gau train configs/default.yaml            data parallel on 4 processes (docs/training.md)\n"
      "Ctrl-C (or SIGTERM) finishes the step, writes a checkpoint and exits 0; a second Ctrl-C exits at once.");
  cmd->callback([req, config, resume] {
    // An empty value given on purpose is more likely an unset shell variable than a wish for the
    // default run, which takes minutes.
    GAU_CHECK(!(config->count() > 0 && req->config_file.empty()), "gau train: the CONFIG given is empty");
    GAU_CHECK(!(resume->count() > 0 && req->resume.empty()), "gau train: --resume was given an empty RUN_DIR");
    if (req->resume.empty() && req->config_file.empty()) {
      req->config_file = default_config_path();
      GAU_CHECK(!req->config_file.empty(), "gau train: give a CONFIG file, or --resume RUN_DIR (no configs/default.yaml "
                "was found beside this gau to train by default)");
      std::fprintf(stderr, "gau train: no CONFIG given; training the default run, %s\n", req->config_file.c_str());
    }
    GAU_CHECK(req->resume.empty() || req->config_file.empty(), "gau train: give a CONFIG or --resume RUN_DIR, not both "
              "(a resumed run keeps its own config; change it with --set)");
    GAU_CHECK(req->resume.empty() || req->run_dir.empty(), "gau train: --run-dir is for a new run; --resume names the run");
    trainers::Trainer trainer(*req);
    const trainers::TrainSummary summary = trainer.run();
    if (summary.rank == 0) print_summary(summary);  // data parallel: one report for the run
  });
}

}  // namespace gau::apps
