#include "trainers/config/run_sections.h"

#include <utility>

#include "trainers/config/yaml_text.h"

namespace gau::config {

using layers::Range;

const Section<LoggingOptions>& logging_section() {
  static const Section<LoggingOptions> section = [] {
    using T = LoggingOptions;
    Section<T> s("logging", "what a run reports while it trains, and where");
    s.choice("progress", &T::progress, {"auto", "bar", "lines"},
             "a progress bar (step, loss, tokens/s, ETA) or plain log lines; auto: the bar on a terminal");
    s.boolean("tensorboard", &T::tensorboard, "writes TensorBoard event files into the run directory");
    s.boolean("metrics", &T::metrics, "writes metrics.jsonl (step, loss, lr, grad norm, tokens/s, memory)");
    return s;
  }();
  return section;
}
GAU_CONFIG_SECTION(logging_section());

const Section<PrecisionOptions>& precision_section() {
  static const Section<PrecisionOptions> section = [] {
    using T = PrecisionOptions;
    Section<T> s("precision",
                 "the number format of parameters and activations (precision: bf16 is short for "
                 "precision: {dtype: bf16})");
    s.choice("dtype", &T::dtype, {"fp32", "bf16", "fp16"},
             "fp32; bf16 with fp32 master weights; fp16 with fp32 master weights and dynamic loss scaling");
    s.shorthand("dtype");
    s.number("loss_scale_init", &T::loss_scale_init, Range::greater_than(0), "fp16: the loss scale at the start");
    s.number("loss_scale_growth", &T::loss_scale_growth, Range::at_least(1),
             "fp16: the scale's factor after loss_scale_growth_interval good steps in a row");
    s.number("loss_scale_backoff", &T::loss_scale_backoff, Range::greater_than(0),
             "fp16: the scale's factor on a step skipped for an inf or nan gradient, in (0, 1]");
    s.integer("loss_scale_growth_interval", &T::loss_scale_growth_interval, Range::at_least(1),
              "fp16: good steps in a row before the scale grows");
    s.number("min_loss_scale", &T::min_loss_scale, Range::at_least(0),
             "fp16: a skipped step taking the scale below this stops the run as diverged (0: never)");
    s.check([](const T& o, layers::ConfigReader& r) {
      if (o.loss_scale_backoff > 1) r.fail("loss_scale_backoff", "must be in (0, 1], got " + format_number(o.loss_scale_backoff));
      // The loss scaler runs under fp16 only: its keys set elsewhere would be silently unused. (A
      // resolved config holds them all at their defaults, which are fine.)
      const T d;
      const std::pair<const char*, bool> changed[] = {
          {"loss_scale_init", o.loss_scale_init != d.loss_scale_init},
          {"loss_scale_growth", o.loss_scale_growth != d.loss_scale_growth},
          {"loss_scale_backoff", o.loss_scale_backoff != d.loss_scale_backoff},
          {"loss_scale_growth_interval", o.loss_scale_growth_interval != d.loss_scale_growth_interval},
          {"min_loss_scale", o.min_loss_scale != d.min_loss_scale}};
      for (const auto& [key, set] : changed)
        if (set && o.dtype != "fp16")
          r.fail(key, "sets fp16's loss scaling, but dtype is " + o.dtype + ", which does not scale the loss");
    });
    return s;
  }();
  return section;
}
GAU_CONFIG_SECTION(precision_section());

const Section<DistributedOptions>& distributed_section() {
  static const Section<DistributedOptions> section = [] {
    using T = DistributedOptions;
    Section<T> s("distributed", "data-parallel training across processes (gau train under mpirun)");
    s.choice("backend", &T::backend, {"auto", "mpi", "nccl"},
             "the collectives: NCCL for GPU tensors, MPI for CPU ones; auto: NCCL on CUDA, MPI on the CPU");
    s.number("bucket_mb", &T::bucket_mb, Range::greater_than(0),
             "gradients are all-reduced in buckets of this many MiB, each as soon as it is complete");
    s.integer("zero", &T::zero, Range::between(0, 1), "0: every rank holds the optimizer state; 1: ZeRO-1, sharded");
    s.number("timeout_s", &T::timeout_s, Range::greater_than(0), "a collective waiting longer than this is an error");
    return s;
  }();
  return section;
}
GAU_CONFIG_SECTION(distributed_section());

}  // namespace gau::config
