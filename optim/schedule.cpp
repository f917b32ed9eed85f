#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>

#include "core/error.h"

namespace gau::optim {

using layers::Range;

const char* schedule_name(ScheduleType type) {
  switch (type) {
    case ScheduleType::constant:
      return "constant";
    case ScheduleType::cosine:
      return "cosine";
    case ScheduleType::linear:
      return "linear";
    case ScheduleType::inverse_sqrt:
      return "inverse_sqrt";
  }
  return "?";
}

namespace {

bool decays_to_floor(ScheduleType type) { return type == ScheduleType::cosine || type == ScheduleType::linear; }

}  // namespace

Schedule::Schedule(const ScheduleOptions& o) : options_(o) {
  const char* name = schedule_name(o.type);
  GAU_CHECK(std::isfinite(o.base_lr) && o.base_lr >= 0, "schedule ", name, ": base_lr must be finite and >= 0, got ",
            o.base_lr);
  GAU_CHECK(o.warmup_steps >= 0, "schedule ", name, ": warmup_steps must be >= 0, got ", o.warmup_steps);
  if (decays_to_floor(o.type)) {
    GAU_CHECK(o.total_steps > o.warmup_steps, "schedule ", name, ": total_steps must be > warmup_steps (",
              o.warmup_steps, "), got ", o.total_steps);
    GAU_CHECK(o.min_lr >= 0 && o.min_lr <= o.base_lr, "schedule ", name,
              ": min_lr must be in [0, base_lr = ", o.base_lr, "], got ", o.min_lr);
  }
  if (o.type == ScheduleType::inverse_sqrt) {
    GAU_CHECK(std::isfinite(o.timescale) && o.timescale >= 0, "schedule inverse_sqrt: timescale must be > 0 (or 0 for ",
              "the default max(warmup_steps, 1)), got ", o.timescale);
    if (options_.timescale == 0) options_.timescale = static_cast<double>(std::max<int64_t>(o.warmup_steps, 1));
  }
}

double Schedule::lr_at(int64_t step) const {
  GAU_CHECK(step >= 0, "schedule ", schedule_name(options_.type), ": step must be >= 0, got ", step);
  const ScheduleOptions& o = options_;
  const double eta = o.base_lr;
  if (step < o.warmup_steps) return eta * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  const double since = static_cast<double>(step - o.warmup_steps);
  const double p =
      decays_to_floor(o.type) ? std::min(since / static_cast<double>(o.total_steps - o.warmup_steps), 1.0) : 0.0;
  switch (o.type) {
    case ScheduleType::constant:
      return eta;
    case ScheduleType::cosine:
      return o.min_lr + (eta - o.min_lr) * 0.5 * (1 + std::cos(std::numbers::pi * p));
    case ScheduleType::linear:
      return eta - (eta - o.min_lr) * p;
    case ScheduleType::inverse_sqrt:
      return eta * std::sqrt(o.timescale / (o.timescale + since));
  }
  return eta;
}

YAML::Node Schedule::config() const {
  const ScheduleOptions& o = options_;
  YAML::Node n;
  n["type"] = schedule_name(o.type);
  n["warmup_steps"] = o.warmup_steps;
  if (decays_to_floor(o.type)) {
    n["total_steps"] = o.total_steps;
    n["min_lr"] = o.min_lr;
  }
  if (o.type == ScheduleType::inverse_sqrt) n["timescale"] = o.timescale;
  return n;
}

Schedule make_schedule(layers::ConfigReader& r, double base_lr) {
  r.explain({{"type", "the decay after the warmup"},
             {"warmup_steps", "steps of linear warmup from lr / warmup_steps to lr"},
             {"total_steps", "the step at which the decay reaches its floor"},
             {"min_lr", "the floor the decay ends at; default 0"},
             {"min_ratio", "the floor as a fraction of lr (not with min_lr)"},
             {"timescale", "tau of lr sqrt(tau / (tau + step - warmup_steps)); default max(warmup_steps, 1)"}});
  GAU_CHECK(std::isfinite(base_lr) && base_lr >= 0, r.path(), ": the base lr must be finite and >= 0, got ", base_lr);
  ScheduleOptions o;
  o.base_lr = base_lr;
  const std::string type = r.choice("type", {"constant", "cosine", "linear", "inverse_sqrt"}, "constant");
  o.type = type == "cosine"         ? ScheduleType::cosine
           : type == "linear"       ? ScheduleType::linear
           : type == "inverse_sqrt" ? ScheduleType::inverse_sqrt
                                    : ScheduleType::constant;
  o.warmup_steps = r.integer("warmup_steps", 0, Range::at_least(0));
  if (decays_to_floor(o.type)) {
    o.total_steps = r.integer("total_steps", Range::at_least(1));
    if (o.total_steps <= o.warmup_steps) {
      r.fail("total_steps",
             "must be > warmup_steps (" + std::to_string(o.warmup_steps) + "), got " + std::to_string(o.total_steps));
    }
    // min_lr's upper bound is not a Range: the schedule: section checks its keys before the lr
    // is known (trainers/config).
    const std::optional<double> min_lr = r.number_if_given("min_lr", Range::at_least(0));
    const std::optional<double> min_ratio = r.number_if_given("min_ratio", Range::between(0, 1));
    if (min_lr && min_ratio) r.fail("min_ratio", "give min_lr or min_ratio, not both");
    if (min_ratio) o.min_lr = *min_ratio * base_lr;
    if (min_lr) {
      o.min_lr = *min_lr;
      if (o.min_lr > base_lr)
        r.fail("min_lr", detail::concat("must be <= the base lr (", base_lr, "), got ", o.min_lr));
    }
  }
  if (o.type == ScheduleType::inverse_sqrt) {
    if (const std::optional<double> t = r.number_if_given("timescale", Range::greater_than(0))) o.timescale = *t;
  }
  r.check_no_unknown_keys();
  return Schedule(o);
}

}  // namespace gau::optim
