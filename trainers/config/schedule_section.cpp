#include "trainers/config/schedule_section.h"

#include <limits>
#include <string>

#include "core/error.h"
#include "trainers/config/schema.h"

namespace gau::config {

namespace {

// Whether `written` is a cosine or linear schedule that leaves total_steps to train.steps.
bool decays_over_train_steps(const YAML::Node& written) {
  if (!written.IsMap() || written["total_steps"]) return false;
  const YAML::Node type = written["type"];
  return type && type.IsScalar() && (type.Scalar() == "cosine" || type.Scalar() == "linear");
}

// `written` with total_steps added: a new map of the written nodes, so that they keep their
// positions and the config they belong to stays as it was.
YAML::Node with_total_steps(const YAML::Node& written, int64_t total_steps) {
  YAML::Node node(YAML::NodeType::Map);
  for (auto it = written.begin(); it != written.end(); ++it) node.force_insert(it->first, it->second);
  node["total_steps"] = total_steps;
  return node;
}

YAML::Node resolve_schedule(const YAML::Node& written, const std::string& path) {
  // Stand-ins for train.steps and the optimizer's lr, which pass every check they take part in:
  // build_schedule repeats those with the real values.
  constexpr int64_t any_steps = std::numeric_limits<int64_t>::max();
  constexpr double any_lr = std::numeric_limits<double>::max();
  const bool over_train_steps = decays_over_train_steps(written);
  layers::ConfigReader r(over_train_steps ? with_total_steps(written, any_steps) : written, path);
  if (over_train_steps)
    r.raw("total_steps", "integer > warmup_steps (unset: train.steps)", layers::ReadKey::Need::optional);
  optim::make_schedule(r, any_lr);
  YAML::Node filled = r.filled();
  if (over_train_steps) filled.remove("total_steps");
  return filled;
}

const SectionSchema& schedule_config_section() {
  static const ReaderSection section(
      "schedule",
      "the learning rate over the steps: a warmup, then the keys of a decay (constant, cosine, linear, "
      "inverse_sqrt), documented in optim/schedule.h; cosine and linear without total_steps decay over "
      "train.steps",
      resolve_schedule, [] {
        std::vector<ReaderSection::Example> examples;
        for (const char* type : {"constant", "cosine", "linear", "inverse_sqrt"})
          examples.push_back({"type", type, std::string("{type: ") + type + "}"});
        return examples;
      });
  return section;
}

}  // namespace

GAU_CONFIG_SECTION(schedule_config_section());

optim::Schedule build_schedule(const YAML::Node& resolved_schedule, double base_lr, int64_t train_steps) {
  const bool over_train_steps = decays_over_train_steps(resolved_schedule);
  if (over_train_steps) {
    const int64_t warmup_steps = resolved_schedule["warmup_steps"].as<int64_t>(0);
    GAU_CHECK(train_steps > warmup_steps, "schedule: a ", resolved_schedule["type"].Scalar(),
              " schedule without total_steps decays over train.steps (", train_steps,
              "), which must be more than schedule.warmup_steps (", warmup_steps,
              "); give schedule.total_steps or fewer warmup_steps");
  }
  layers::ConfigReader r(over_train_steps ? with_total_steps(resolved_schedule, train_steps) : resolved_schedule,
                         "schedule");
  return optim::make_schedule(r, base_lr);
}

}  // namespace gau::config
