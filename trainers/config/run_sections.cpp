#include "trainers/config/run_sections.h"

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
