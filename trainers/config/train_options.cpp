#include "trainers/config/train_options.h"

#include "core/device.h"
#include "core/error.h"

namespace gau::config {

using layers::Range;

const Section<TrainOptions>& train_section() {
  static const Section<TrainOptions> section = [] {
    using T = TrainOptions;
    Section<T> s("train", "the training loop: how long, where, and how often it evaluates, checkpoints and logs");
    s.integer("steps", &T::steps, Range::at_least(1), "optimizer steps to run");
    s.string("device", &T::device, "where the model trains: cpu, cuda (or gpu: the first GPU) or cuda:N");
    s.integer("seed", &T::seed, Range::at_least(0), "seeds initialisation, shuffling and dropout");
    s.integer("threads", &T::threads, Range::at_least(0),
              "CPU threads; 0: OpenMP's default (OMP_NUM_THREADS or all cores)");
    s.integer("eval_every", &T::eval_every, Range::at_least(0),
              "steps between evaluations on the validation split; 0: only at the end");
    s.integer("eval_steps", &T::eval_steps, Range::at_least(1), "batches per evaluation");
    s.integer("checkpoint_every", &T::checkpoint_every, Range::at_least(0),
              "steps between checkpoints; 0: only at the end (there is always one at the end)");
    s.integer("keep_checkpoints", &T::keep_checkpoints, Range::at_least(1), "checkpoints kept, the latest ones");
    s.boolean("save_initial", &T::save_initial,
              "also write the initial weights as checkpoint step 0 (to start another framework from them)");
    s.integer("log_every", &T::log_every, Range::at_least(1), "steps between metric records and progress lines");
    s.integer("grad_accumulation", &T::grad_accumulation, Range::at_least(1),
              "micro-batches per optimizer step, their gradients averaged (an effective batch of this x data's batch)");
    s.number("max_time_minutes", &T::max_time_minutes, Range::at_least(0),
             "stops (with a checkpoint) after this much wall time; 0: no limit");
    s.number("clip_norm", &T::clip_norm, Range::at_least(0),
             "clips the gradients to this global norm (reported as grad_norm before clipping); 0: off");
    s.number("clip_value", &T::clip_value, Range::at_least(0),
             "clamps every gradient element to [-clip_value, clip_value], before the norm clip; 0: off");
    s.integer("sample_tokens", &T::sample_tokens, Range::at_least(0),
              "tokens generated from the trained model at the end, to show what it learned; 0: none");
    s.string("sample_prompt", &T::sample_prompt, "the end-of-run sample's prompt; \"\": a document's start");
    s.string("run_dir", &T::run_dir, "where the run writes its config, metrics and checkpoints; \"\": runs/<name>");
    s.string("name", &T::name, "the run's name; \"\": the config file's name without .yaml");
    s.string("init_from", &T::init_from,
             "starts from the weights of this checkpoint, or a run directory's latest (the optimizer, step and data "
             "start afresh: fine-tuning); the model config must match; \"\": a fresh initialisation");
    s.check([](const T& o, layers::ConfigReader& r) {
      try {
        Device::parse(o.device);
      } catch (const Error&) {
        r.fail("device", "expected cpu, cuda or cuda:N, got '" + o.device + "'");
      }
    });
    return s;
  }();
  return section;
}
GAU_CONFIG_SECTION(train_section());

}  // namespace gau::config
