// Provisional data:, optim: and schedule: sections, so that configs load and dump before their
// owners' code declares them (trainers/data for data:, the optimizer and schedule glue for the
// others). Each owner's Section of the same name replaces its entry here (Schema::add), and this
// file should then lose it. Their structs only carry the defaults.
#include <cstdint>
#include <string>
#include <vector>

#include "trainers/config/schema.h"
#include "trainers/config/yaml_text.h"

namespace gau::config {

namespace {

using layers::Range;

struct DataKeys {
  std::string path;
  std::string tokenizer = "byte";
  int64_t seq_len = 256;
  int64_t batch_size = 8;
  double valid_fraction = 0.05;
};

struct OptimKeys {
  std::string type = "adamw";
  double lr = 1e-3;
  std::vector<double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.01;
};

struct ScheduleKeys {
  std::string type = "constant";
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;
  double min_ratio = 0;
};

const Section<DataKeys>& data_section() {
  static const Section<DataKeys> section = [] {
    using T = DataKeys;
    Section<T> s("data", "the training text and how it is cut into batches");
    s.string("path", &T::path, "a text file (.gz read too) or a directory of them");
    s.choice("tokenizer", &T::tokenizer, {"byte", "sentencepiece"}, "byte: 256 ids, one per byte");
    s.integer("seq_len", &T::seq_len, Range::at_least(1), "tokens per sequence, n");
    s.integer("batch_size", &T::batch_size, Range::at_least(1), "sequences per micro-batch, b");
    s.number("valid_fraction", &T::valid_fraction, Range::between(0, 0.5), "the share held out for validation");
    s.mark_provisional();
    return s;
  }();
  return section;
}
GAU_CONFIG_SECTION(data_section());

const Section<OptimKeys>& optim_section() {
  static const Section<OptimKeys> section = [] {
    using T = OptimKeys;
    Section<T> s("optim", "the optimizer");
    s.choice("type", &T::type, {"sgd", "adam", "adamw", "lamb", "adafactor", "lion"}, "the update rule");
    s.number("lr", &T::lr, Range::greater_than(0), "the peak learning rate (the schedule scales it)");
    s.numbers("betas", &T::betas, Range::between(0, 1), "[beta1, beta2], each in [0, 1)");
    s.number("eps", &T::eps, Range::greater_than(0), "added to the second moment's root");
    s.number("weight_decay", &T::weight_decay, Range::at_least(0), "decoupled weight decay (adamw, lamb, lion)");
    s.check([](const T& o, layers::ConfigReader& r) {
      if (o.betas.size() != 2)
        r.fail("betas", "expected two numbers [beta1, beta2], got " + std::to_string(o.betas.size()));
      for (const double b : o.betas)
        if (b >= 1) r.fail("betas", "each beta must be < 1, got " + format_number(b));
    });
    s.mark_provisional();
    return s;
  }();
  return section;
}
GAU_CONFIG_SECTION(optim_section());

const Section<ScheduleKeys>& schedule_section() {
  static const Section<ScheduleKeys> section = [] {
    using T = ScheduleKeys;
    Section<T> s("schedule", "the learning rate over the steps: a linear warmup, then the type's decay");
    s.choice("type", &T::type, {"constant", "cosine", "linear", "inverse_sqrt"}, "the decay after the warmup");
    s.integer("warmup_steps", &T::warmup_steps, Range::at_least(0), "steps of linear warmup from 0 to lr");
    s.integer("total_steps", &T::total_steps, Range::at_least(0),
              "where cosine and linear reach their floor; 0: train.steps");
    s.number("min_ratio", &T::min_ratio, Range::between(0, 1), "the floor, as a fraction of lr");
    s.check([](const T& o, layers::ConfigReader& r) {
      if (o.total_steps != 0 && o.total_steps <= o.warmup_steps)
        r.fail("total_steps", "must be more than warmup_steps (" + std::to_string(o.warmup_steps) + "), got " +
                                  std::to_string(o.total_steps));
    });
    s.mark_provisional();
    return s;
  }();
  return section;
}
GAU_CONFIG_SECTION(schedule_section());

}  // namespace

}  // namespace gau::config
