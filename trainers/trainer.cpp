#include "trainers/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/allocator.h"
#include "core/error.h"
#include "core/ops/copy.h"
#include "core/ops/factory.h"
#include "core/rng.h"
#include "core/threads.h"
#include "distributed/broadcast_text.h"
#include "distributed/data_parallel.h"
#include "distributed/zero.h"
#include "layers/config_reader.h"
#include "layers/flat_parameters.h"
#include "layers/models/language_model.h"
#include "layers/registry.h"
#include "optim/accumulation.h"
#include "optim/clip.h"
#include "optim/factory.h"
#include "optim/loss_scaler.h"
#include "optim/precision.h"
#include "optim/schedule.h"
#include "trainers/atomic_file.h"
#include "trainers/checkpoint.h"
#include "trainers/config/load.h"
#include "trainers/config/resolve.h"
#include "trainers/config/run_sections.h"
#include "trainers/config/schedule_section.h"
#include "trainers/config/train_options.h"
#include "trainers/data/dataset.h"
#include "trainers/generate.h"
#include "trainers/metrics.h"
#include "trainers/optimizer_checkpoint.h"
#include "trainers/progress.h"
#include "trainers/run_dir.h"
#include "trainers/stop_signal.h"

namespace gau::trainers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

optim::Precision precision_from_name(const std::string& name) {
  if (name == "bf16") return optim::Precision::bf16;
  if (name == "fp16") return optim::Precision::fp16;
  GAU_CHECK(name == "fp32", "precision: expected fp32, bf16 or fp16, got '", name, "'");
  return optim::Precision::fp32;
}

// The fault tests' hook (tests/distributed/mpi/trainer_faults_test.cpp): GAU_TEST_FAULT=raise@R:S
// makes rank R raise an error in step S, before its backward (step 0: in setup, once the data are
// read); hang@R:S makes it stop responding there. Unset, it costs one getenv per run.
void inject_test_fault(int rank, int64_t step) {
  static const std::string spec = std::getenv("GAU_TEST_FAULT") ? std::getenv("GAU_TEST_FAULT") : "";
  if (spec.empty()) return;
  const size_t at = spec.find('@'), colon = spec.find(':');
  GAU_CHECK(at != std::string::npos && colon > at, "GAU_TEST_FAULT: expected raise@RANK:STEP or hang@RANK:STEP, got '",
            spec, "'");
  if (std::stoi(spec.substr(at + 1, colon - at - 1)) != rank || std::stoll(spec.substr(colon + 1)) != step) return;
  if (spec.substr(0, at) == "hang")
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  GAU_FAIL("GAU_TEST_FAULT: the injected error of rank ", rank, " at step ", step);
}

// A loss or norm for an error message: "nan" rather than the C library's "-nan".
std::string value_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

// Each rank's dropout stream: rank 0's is the seed itself, so a run of one rank is unchanged.
uint64_t rank_seed(uint64_t seed, int rank) { return seed ^ (static_cast<uint64_t>(rank) * 0x9E3779B97F4A7C15ULL); }

// GAU's scale inv_n divides every row's scores by the configured length, model.max_length
// (docs/model.md). Rows much shorter than that start with relu² weights, and gradients, as many
// times smaller squared: a small model can stay asleep there, below Adam's eps. A note, since it
// is a valid config (a model meant to decode past its training length).
std::string gau_scale_note(const YAML::Node& model, int64_t seq_len) {
  const YAML::Node blocks = model["blocks"], max_length = model["max_length"];
  if (!blocks || !max_length || max_length.as<int64_t>(0) < 2 * seq_len) return "";
  std::vector<YAML::Node> list;
  if (blocks.IsSequence()) {
    for (const YAML::Node& b : blocks) list.push_back(b);
  } else {
    list.push_back(blocks);
  }
  for (const YAML::Node& b : list)
    if (b["type"] && b["type"].Scalar() == "gau" && b["scale"] && b["scale"].Scalar().rfind("inv_n", 0) == 0)
      return "note: the GAU blocks' scale " + b["scale"].Scalar() + " divides scores by model.max_length = " +
             max_length.Scalar() + ", but rows are data.seq_len = " + std::to_string(seq_len) +
             " tokens: their scores are " +
             detail::concat(std::round(10.0 * max_length.as<double>() / static_cast<double>(seq_len)) / 10) +
             "x smaller than at full length, and a small model's attention may not wake from that; set "
             "model.max_length: " + std::to_string(seq_len) + " unless it must decode further";
  return "";
}

std::string run_name(const config::TrainOptions& train, const std::string& config_file) {
  if (!train.name.empty()) return train.name;
  return fs::path(config_file).stem().string();
}

}  // namespace

struct Trainer::State {
  TrainRequest request;
  YAML::Node resolved;
  std::string config_yaml;
  config::TrainOptions train;
  config::LoggingOptions logging;
  optim::PrecisionPolicy policy;
  config::PrecisionOptions precision;
  Device device = Device::cpu();
  std::unique_ptr<RunDir> run;
  bool created_run = false;  // this process made `run` in this setup (rank 0 of a new run)
  std::shared_ptr<distributed::Communicator> comm;
  std::unique_ptr<distributed::DataParallel> data_parallel;  // null for a world of one
  std::unique_ptr<distributed::ZeroSharding> zero;           // distributed.zero: 1 over > 1 rank
  std::FILE* quiet = nullptr;  // where ranks other than 0 send their progress
  // From before setup (a sentencepiece model can take minutes to train) to the end of run().
  std::unique_ptr<StopSignals> signals;

  std::shared_ptr<layers::Module> model;
  std::unique_ptr<Objective> objective;
  layers::FlatParameters flat;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::Schedule> schedule;
  optim::ClipOptions clip;
  std::unique_ptr<optim::LossScaler> scaler;  // fp16 only

  data::DataConfig data_config;
  data::Dataset dataset;
  std::unique_ptr<data::Loader> loader;

  std::unique_ptr<MetricsWriter> metrics;
  Generator mask_generator;  // the masked LM's masks
  int64_t step = 0;
  int64_t start_step = 0;
  fs::path last_checkpoint;
  int64_t last_checkpoint_step = -1;
  double last_loss = 0;  // the last step's loss over all ranks: non-finite only where fp16 skipped it
  int64_t last_eval_step = -1;
  std::optional<EvalResult> last_eval;

  ~State() {
    if (quiet) std::fclose(quiet);
  }
  bool lead() const { return comm->rank() == 0; }
  std::FILE* log() const { return lead() ? request.log : quiet; }
  void say(const std::string& line) const {
    std::fprintf(log(), "%s\n", line.c_str());
    std::fflush(log());
  }
  bool byte_level() const { return dataset.tokenizer && dataset.tokenizer->name() == "byte"; }
  // A resumed run that already has all its train.steps: nothing to train.
  bool already_done() const { return start_step > 0 && step >= train.steps; }
  // For the messages that stop a run: where to go back to.
  std::string last_good_checkpoint() const {
    return last_checkpoint.empty() ? "none: no checkpoint was written yet"
                                   : last_checkpoint.string() + " (step " + std::to_string(last_checkpoint_step) + ")";
  }
  void setup();
  // A stop asked for before the first step: an error, so that a new run's directory is removed
  // and a resumed one left as it was.
  // Agreed by every rank (each calls it at the same points), so that rank 0 removes a new run's
  // directory only once no rank is still reading or writing it.
  void stop_if_signalled() const {
    const double asked = signals->requested() ? 1.0 : 0.0;
    if (sum_over_ranks(asked) > 0)
      GAU_FAIL("stopped by ", signals->name(),
               " before the first step, while the run was being set up; nothing was trained",
               request.resume.empty() ? " or kept" : " and the run is as it was");
  }
  void resume_from(const fs::path& checkpoint);
  void save(Progress& progress);
  void evaluate_now(Progress& progress);
  std::string sample() const;
  // Element-wise sums over all ranks, in f64 (exact for the counts the trainer sums); a world of
  // one returns the values as they are, with no collective.
  std::vector<double> sum_over_ranks(const std::vector<double>& values) const {
    if (comm->world_size() == 1) return values;
    Tensor t = ops::from_vector(values, {static_cast<int64_t>(values.size())}, comm->device());
    comm->all_reduce(t, distributed::ReduceOp::sum)->wait();
    const Tensor host = ops::to_device(t, Device::cpu());
    return std::vector<double>(host.data<double>(), host.data<double>() + values.size());
  }
  double sum_over_ranks(double value) const { return sum_over_ranks(std::vector<double>{value})[0]; }
};

void Trainer::State::setup() {
  const bool resuming = !request.resume.empty();
  GAU_CHECK(resuming || !request.config_file.empty(), "gau train: give a CONFIG file, or --resume RUN_DIR");
  std::unique_ptr<RunDir> resumed;
  std::string config_file = request.config_file;
  if (resuming) {
    resumed = std::make_unique<RunDir>(RunDir::open(request.resume));
    config_file = resumed->config_path().string();
  }
  const config::LoadedConfig loaded = config::load_config(config_file, request.overrides);
  resolved = config::resolve_config(loaded);
  resolved["data"] = data::with_absolute_paths(resolved["data"]);
  // Relative to where gau train runs, as data paths are, and stored absolute for a later resume.
  if (const YAML::Node init = resolved["train"]["init_from"]; init && !init.Scalar().empty())
    resolved["train"]["init_from"] = fs::absolute(init.Scalar()).lexically_normal().string();
  config_yaml = config::dump_config(resolved);
  train = config::train_section().read(resolved["train"]);
  logging = config::logging_section().read(resolved["logging"]);
  precision = config::precision_section().read(resolved["precision"]);
  policy = optim::precision_policy(precision_from_name(precision.dtype));
  device = Device::parse(train.device);
  if (train.threads > 0) set_num_threads(static_cast<int>(train.threads));
  const config::DistributedOptions dist = config::distributed_section().read(resolved["distributed"]);
  comm = request.communicator;
  if (!comm) comm = distributed::make_communicator({.backend = dist.backend, .timeout_s = dist.timeout_s, .device = device});
  // Ranks of one node share its GPUs: an unnumbered cuda means the local rank's.
  if (device.is_cuda() && train.device == "cuda") device = Device::cuda(comm->local_rank());
  if (device.is_cuda())
    GAU_CHECK(device.index < cuda_device_count(), "train.device is ", train.device, " (", device, " for rank ",
              comm->rank(), "), but this machine shows ", cuda_device_count(),
              " CUDA device(s) to this process; set train.device: cpu, or check CUDA_VISIBLE_DEVICES");
  if (!lead()) quiet = std::fopen("/dev/null", "w");

  if (resuming) {
    run = std::move(resumed);
  } else {
    std::string dir = !request.run_dir.empty() ? request.run_dir
                      : !train.run_dir.empty() ? train.run_dir
                                               : (lead() ? new_run_path("runs", run_name(train, config_file)).string() : "");
    if (comm->world_size() > 1) dir = distributed::broadcast_text(*comm, dir);
    // Rank 0 creates the run; the others open it once it exists (a shared file system).
    if (lead()) {
      run = std::make_unique<RunDir>(RunDir::create(dir, config_yaml));
      created_run = true;
    }
    comm->barrier();
    if (!lead()) run = std::make_unique<RunDir>(RunDir::open(dir));
  }

  // A run stopped before its first checkpoint (killed during setup or its first steps) has only
  // its config: resuming it trains it from the start, in the same directory.
  const bool from_checkpoint = resuming && (fs::exists(run->latest_path()) || !list_checkpoints(run->path()).empty());

  // The model's initialisation draws from the default generator, seeded here; so does dropout.
  manual_seed(static_cast<uint64_t>(train.seed));
  mask_generator.manual_seed(static_cast<uint64_t>(train.seed) ^ 0x6d61736bULL);
  model = layers::build(resolved["model"], "model");
  // Before the precision cast and the optimizer, whose master weights copy the parameters. Rank
  // 0 reads the file; data parallelism broadcasts its weights to the others.
  if (!train.init_from.empty() && !from_checkpoint && lead()) {
    try {
      const Checkpoint c = load_checkpoint_converted(resolve_checkpoint(train.init_from), *model);
      say("initialised from " + c.dir.string() + " (step " + std::to_string(c.state.step) + " of its run)");
    } catch (const Error& e) {
      const layers::ConfigOriginsScope scope(loaded.origins);
      layers::ConfigReader(config::section_of(loaded.root, "train"), "train").fail("init_from", error_message(e));
    }
  }
  default_generator().manual_seed(rank_seed(static_cast<uint64_t>(train.seed), comm->rank()));
  objective = std::make_unique<Objective>(*model);
  // ZeRO-1 on a world of one has nothing to shard: the plain optimizer is the same thing.
  const bool sharded = dist.zero == 1 && comm->world_size() > 1;
  flat = optim::apply_precision(*model, policy, device, sharded ? comm->world_size() : 1);
  if (comm->world_size() > 1)
    data_parallel = std::make_unique<distributed::DataParallel>(comm, flat, config_yaml,
                                                                distributed::DataParallelOptions{
                                                                    .bucket_mb = dist.bucket_mb,
                                                                    .reduce_to_shard_owners = sharded});
  if (sharded) zero = std::make_unique<distributed::ZeroSharding>(comm, flat);
  {
    const layers::ConfigOriginsScope scope(loaded.origins);  // a pattern matching nothing names its line
    layers::ConfigReader r(resolved["optim"], "optim");
    optimizer = optim::make_optimizer(r, flat, zero ? zero->shard() : optim::Shard{});
  }
  schedule = std::make_unique<optim::Schedule>(config::build_schedule(resolved["schedule"], optimizer->lr(), train.steps));
  if (const optim::ScheduleOptions& so = schedule->options();
      lead() && (so.type == optim::ScheduleType::cosine || so.type == optim::ScheduleType::linear) &&
      so.total_steps < train.steps)
    say("note: schedule.total_steps is " + std::to_string(so.total_steps) + " of train.steps " +
        std::to_string(train.steps) + ": steps " + std::to_string(so.total_steps + 1) + " on train at the floor lr " +
        detail::concat(so.min_lr));
  if (train.clip_norm > 0) clip.max_norm = train.clip_norm;
  if (train.clip_value > 0) clip.max_value = train.clip_value;
  if (policy.loss_scaling)
    scaler = std::make_unique<optim::LossScaler>(optim::LossScalerOptions{
        .init = precision.loss_scale_init,
        .growth = precision.loss_scale_growth,
        .backoff = precision.loss_scale_backoff,
        .growth_interval = precision.loss_scale_growth_interval});

  {
    // The positions that the data's later errors name (data.train, data.eos) are the written ones.
    const layers::ConfigOriginsScope scope(loaded.origins);
    data_config = data::read_data_config(resolved["data"], "", "data");
  }
  // Rank 0 first: a sentencepiece model it trains is then loaded by the others.
  if (lead()) dataset = data::build_dataset(data_config, run->path().string());
  comm->barrier();
  if (!lead()) dataset = data::build_dataset(data_config, run->path().string());
  if (lead()) data::keep_tokenizer_in_run(data_config.tokenizer, run->path().string());
  inject_test_fault(comm->rank(), 0);
  stop_if_signalled();
  data::LoaderOptions rows =
      data::loader_options(data_config, dataset, data::Split::train, comm->rank(), comm->world_size());
  rows.next_token_targets = objective->predicts_next_token();
  data::check_data_fits_model(dataset, rows, resolved["model"]["vocab"].as<int64_t>(),
                              resolved["model"]["max_length"].as<int64_t>(0));
  if (const std::string note = gau_scale_note(resolved["model"], rows.seq_len); lead() && !note.empty()) say(note);
  loader = std::make_unique<data::Loader>(dataset.train, rows);
  // The end-of-run sample is checked now, not after the training it would then fail.
  if (const int64_t max_length = resolved["model"]["max_length"].as<int64_t>(0);
      objective->language_model() && dataset.tokenizer && train.sample_tokens > 0 && max_length > 0) {
    const int64_t prompt = static_cast<int64_t>(dataset.tokenizer->encode(train.sample_prompt).size());
    GAU_CHECK(prompt < max_length, "train.sample_prompt is ", prompt, " tokens, but model.max_length is ", max_length,
              ": the end-of-run sample would have no room; shorten it, or set train.sample_tokens: 0");
    // An empty prompt starts the sample at an end of document (sample()), itself one token.
    GAU_CHECK(prompt > 0 || dataset.eos_id < 0 || max_length > 1, "model.max_length is 1: the end-of-run sample ",
              "starts from the end-of-document token and would have no room to generate; set train.sample_tokens: 0");
  }

  std::optional<int64_t> resume_step;
  if (resuming && !from_checkpoint) {
    say("resume: " + run->path().string() + " has no checkpoint yet; training it from step 0");
    resume_step = 0;
  }
  if (from_checkpoint) {
    const fs::path checkpoint = resolve_checkpoint(run->path());
    resume_from(checkpoint);
    resume_step = step;
    GAU_CHECK(train.steps >= step, "--resume ", run->path().string(), ": the run is at step ", step,
              ", past train.steps = ", train.steps, "; train.steps counts from the run's start, so to train on give "
              "more, e.g. --set train.steps=", 2 * step);
    if (already_done()) return;  // nothing changes on disk: run() only reports
  }
  stop_if_signalled();
  // --set on a resumed run (more steps, a new lr) changes its config from here on.
  if (resuming && lead() && run->config_yaml() != config_yaml) write_file_atomic(run->config_path(), config_yaml);
  if (lead()) {
    // Said once setup has passed every check, so that it never precedes a setup error.
    say("optimizer state: " + std::to_string(optimizer->state_bytes()) + " bytes per rank" +
        (zero ? " (ZeRO-1: sharded over " + std::to_string(comm->world_size()) + " ranks)" : ""));
    metrics = std::make_unique<MetricsWriter>(run->path(), MetricsOptions{.jsonl = logging.metrics,
                                                                          .tensorboard = logging.tensorboard,
                                                                          .resume_step = resume_step});
  }
}

void Trainer::State::resume_from(const fs::path& checkpoint) {
  const Checkpoint c = load_checkpoint(checkpoint, *model);
  const json& t = c.state.trainer;
  GAU_CHECK(t.contains("optimizer") && t.contains("rng") && t.contains("loader"), checkpoint.string(),
            ": not a training checkpoint (state.json lacks the optimizer, rng or loader entries)");
  const optim::OptimizerState saved = optimizer_state_from(t.at("optimizer"), c.optimizer);
  optimizer->load_state_dict(zero ? zero->shard_state(saved) : saved);
  restore_generator(default_generator(), t.at("rng"));
  if (!lead()) {  // rank 0's stream is saved; the others' are at the same offset of their own seeds
    const uint64_t offset = default_generator().offset();
    default_generator().manual_seed(rank_seed(default_generator().seed(), comm->rank()));
    default_generator().advance(offset * 4);
  }
  if (t.contains("mask_rng")) restore_generator(mask_generator, t.at("mask_rng"));
  loader->restore(t.at("loader").get<data::LoaderPosition>());
  if (scaler && t.contains("loss_scaler")) {
    const json& ls = t.at("loss_scaler");
    scaler->load_state_dict({{"scale", ops::from_vector(std::vector<double>{ls.at("scale").get<double>()}, {1})},
                             {"good_steps", ops::from_vector(std::vector<int64_t>{ls.at("good_steps").get<int64_t>()}, {1})},
                             {"skipped_steps",
                              ops::from_vector(std::vector<int64_t>{ls.at("skipped_steps").get<int64_t>()}, {1})}});
  }
  step = start_step = c.state.step;
  last_checkpoint = checkpoint;
  last_checkpoint_step = step;
  if (lead()) say("resuming " + run->path().string() + " from step " + std::to_string(step) + " (" + checkpoint.string() + ")");
  // data.batch_size is per rank: another world size trains on another global batch from here,
  // unless the resume also changed data.batch_size to keep it (the checkpoint's config has the old).
  if (const int64_t before = t.value("world_size", int64_t{0}); lead() && before > 0 && before != comm->world_size()) {
    const YAML::Node saved = YAML::Load(c.state.config_yaml);
    const int64_t old_batch = saved["data"]["batch_size"].as<int64_t>(data_config.loader.batch_size);
    const int64_t old_global = before * old_batch, new_global = comm->world_size() * data_config.loader.batch_size;
    if (old_global != new_global)
      say("note: the run trained on " + std::to_string(before) + " rank(s) and resumes on " +
          std::to_string(comm->world_size()) + ", so a step's global batch changes from " +
          std::to_string(old_global) + " to " + std::to_string(new_global) +
          " rows; set data.batch_size (per rank) to keep it");
  }
}

void Trainer::State::save(Progress& progress) {
  if (last_checkpoint_step == step) return;
  // Under fp16 a step with a non-finite loss is skipped, but when the forward pass itself fails
  // the weights may be broken (f16 copies overflowed): such a state is never a checkpoint, so
  // `latest` and the last good checkpoint named in errors stay loadable. (last_loss is the same
  // on every rank, so all skip the collectives below together.)
  if (!std::isfinite(last_loss)) {
    progress.print("no checkpoint at step " + std::to_string(step) + ": its loss is " + value_text(last_loss) +
                   "; the last good one is " + last_good_checkpoint());
    return;
  }
  // ZeRO-1: every rank takes part in gathering the sharded state; rank 0 writes it.
  const optim::OptimizerState opt = zero ? zero->gather_state(optimizer->state_dict()) : optimizer->state_dict();
  if (!lead()) {  // every rank holds the same weights and optimizer state: rank 0 writes them
    last_checkpoint = run->checkpoints_dir() / checkpoint_dir_name(step);
    last_checkpoint_step = step;
    return;
  }
  CheckpointState state{.step = step, .config_yaml = config_yaml};
  state.trainer["optimizer"] = optimizer_meta(opt);
  state.trainer["rng"] = generator_state(default_generator());
  state.trainer["mask_rng"] = generator_state(mask_generator);
  state.trainer["loader"] = loader->position();
  state.trainer["world_size"] = comm->world_size();  // read back only to note a change of batch
  if (scaler)
    state.trainer["loss_scaler"] = {{"scale", scaler->scale_value()},
                                    {"good_steps", scaler->good_steps()},
                                    {"skipped_steps", scaler->skipped_steps()}};
  last_checkpoint = save_checkpoint(run->path(), state, *model, optimizer_tensors(opt),
                                    {.keep_last = static_cast<int>(train.keep_checkpoints)});
  last_checkpoint_step = step;
  progress.print("checkpoint: " + last_checkpoint.string());
}

void Trainer::State::evaluate_now(Progress& progress) {
  if (dataset.val.empty() || last_eval_step == step) return;
  // Data parallel: each rank evaluates its rows of every global batch of world_size x batch_size,
  // as in training, so the figures are those of one rank at the global batch.
  const int world = comm->world_size();
  EvalResult r = evaluate(*objective, *model, dataset.val,
                          data::loader_options(data_config, dataset, data::Split::val, comm->rank(), world),
                          {.max_batches = train.eval_steps, .device = device, .seed = static_cast<uint64_t>(train.seed)});
  const std::vector<double> sums = sum_over_ranks({r.loss * static_cast<double>(r.targets),
                                                   static_cast<double>(r.targets)});
  r.targets = static_cast<int64_t>(sums[1]);
  r.loss = r.targets > 0 ? sums[0] / sums[1] : 0;
  if (r.targets == 0) {  // a split of one token: nothing to predict, and a loss of 0 would be a lie
    if (last_eval_step < 0) progress.print("eval: the validation split has no targets (" +
                                           std::to_string(dataset.val.size()) + " token(s)); nothing is evaluated");
    last_eval_step = step;
    last_eval.reset();
    return;
  }
  last_eval = r;
  last_eval_step = step;
  Scalars scalars = {{"loss", r.loss}, {"perplexity", r.perplexity()}, {"bits_per_token", r.bits_per_token()}};
  if (r.bits_per_byte(byte_level())) scalars.emplace_back("bits_per_byte", r.bits_per_token());
  if (metrics) metrics->log_eval(step, "val", scalars);
  char line[160];
  std::snprintf(line, sizeof line, "eval step %lld: val loss %.4f | %.4f %s | ppl %.2f", static_cast<long long>(step),
                r.loss, r.bits_per_token(), r.bits_unit(byte_level()), r.perplexity());
  progress.print(line);
}

std::string Trainer::State::sample() const {
  layers::LanguageModel* lm = objective->language_model();
  if (!lead() || !lm || !dataset.tokenizer || train.sample_tokens == 0) return "";
  std::vector<int32_t> prompt = dataset.tokenizer->encode(train.sample_prompt);
  if (prompt.empty()) {
    if (dataset.eos_id < 0) return "";
    prompt = {dataset.eos_id};  // a document starts after an end of document
  }
  const Generated g = generate(*lm, prompt,
                               {.max_tokens = train.sample_tokens,
                                .temperature = 0.8,
                                .top_k = 40,
                                .seed = static_cast<uint64_t>(train.seed),
                                .stop_id = dataset.eos_id,
                                .vocab_limit = dataset.tokenizer->vocab_size()},
                               device);
  std::vector<int32_t> shown = prompt[0] == dataset.eos_id ? std::vector<int32_t>(prompt.begin() + 1, prompt.end()) : prompt;
  for (const int32_t id : g.tokens)
    if (id != dataset.eos_id) shown.push_back(id);
  return dataset.tokenizer->decode(shown);
}

Trainer::Trainer(const TrainRequest& request) : s_(std::make_unique<State>()) {
  s_->request = request;
  s_->signals = std::make_unique<StopSignals>();
  try {
    s_->setup();
  } catch (const std::exception& e) {
    // A new run that cannot start leaves nothing behind, so the corrected command can reuse it.
    if (s_->created_run) s_->run->discard_unstarted();
    // An error on some ranks only (rank 0 cannot create the run directory or read the data) would
    // leave the others waiting in their next collective (or MPI_Finalize) until the timeout.
    if (s_->comm && s_->comm->world_size() > 1) s_->comm->abort(error_message(e));
    throw;
  }
}

Trainer::~Trainer() = default;

TrainSummary Trainer::run() {
  try {
    return train_and_report();
  } catch (const std::exception& e) {
    // A new run that fails in its first step (a kernel that cannot run, a NaN at once) has
    // trained nothing to keep: it goes, as one that fails in setup.
    if (s_->created_run && s_->step == 0) s_->run->discard_unstarted();
    if (s_->comm->world_size() > 1) s_->comm->abort(error_message(e));
    throw;
  }
}

TrainSummary Trainer::train_and_report() {
  State& s = *s_;
  TrainSummary summary;
  summary.run_dir = s.run->path();
  summary.start_step = s.start_step;
  summary.steps = s.train.steps;
  summary.byte_level = s.byte_level();
  summary.sample_prompt = s.train.sample_prompt;
  summary.generates = s.dataset.tokenizer && dynamic_cast<const layers::LanguageModel*>(s.model.get()) != nullptr;
  summary.evaluates = s.dataset.val.size() > 0;
  summary.metrics = s.logging.metrics;
  summary.tensorboard = s.logging.tensorboard;
  summary.rank = s.comm->rank();
  summary.world_size = s.comm->world_size();
  if (s.already_done()) {
    summary.step = s.step;
    summary.checkpoint = s.last_checkpoint;
    summary.stop_reason = "already done";
    return summary;
  }
  if (auto* lm = s.objective->language_model()) s.say(lm->summary());
  // The loader counts batches; an optimizer step takes grad_accumulation of them.
  const int64_t batches = s.loader->steps_per_epoch(), micro = s.train.grad_accumulation;
  s.say("data: " + std::to_string(s.dataset.train.size()) + " training tokens, " +
        std::to_string(s.dataset.val.size()) + " validation tokens; " +
        std::to_string((batches + micro - 1) / micro) + " steps per epoch" +
        (micro > 1 ? " (" + std::to_string(batches) + " batches, " + std::to_string(micro) + " per step)" : ""));
  s.say("run directory: " + s.run->path().string());

  const std::optional<bool> tty = s.logging.progress == "bar"     ? std::optional<bool>(true)
                                  : s.logging.progress == "lines" ? std::optional<bool>(false)
                                                                  : s.request.tty;
  Progress progress(s.train.steps, s.step,
                    {.log_every = static_cast<int>(s.train.log_every),
                     .tty = tty,
                     .out = s.log(),
                     .time_limit_s = s.train.max_time_minutes * 60});
  const StopSignals& signals = *s.signals;
  optim::GradAccumulator accumulator(s.train.grad_accumulation);
  RateMeter rate;
  const auto start = std::chrono::steady_clock::now();
  rate.add(0, s.step, 0);
  int64_t tokens = 0;
  summary.stop_reason = "steps";
  reset_peak_memory(s.device);
  if (s.train.save_initial && s.step == 0) s.save(progress);

  const int world = s.comm->world_size();
  int64_t skipped_in_a_row = 0;  // fp16 steps skipped for inf/nan gradients since the last good one
  while (s.step < s.train.steps) {
    s.optimizer->set_lr(s.schedule->lr_at(s.step));
    std::vector<data::Batch> micro(static_cast<size_t>(s.train.grad_accumulation));
    int64_t local_targets = 0, step_tokens = 0;
    for (auto& b : micro) {
      b = s.loader->next();
      local_targets += s.objective->expected_targets(b);
      step_tokens += b.num_tokens;
    }
    // The token-weighted rule over every rank's micro-batches: each loss weighs n_i / N.
    const auto total_targets = static_cast<int64_t>(s.sum_over_ranks(static_cast<double>(local_targets)));
    double loss = 0;  // this rank's share of the step's mean loss
    for (size_t i = 0; i < micro.size(); ++i) {
      const data::Batch& b = micro[i];
      if (s.data_parallel) s.data_parallel->start_backward(i + 1 == micro.size());
      const int64_t expected = s.objective->expected_targets(b);
      if (expected == 0) {
        accumulator.step();
        continue;
      }
      const BatchLoss bl = s.objective->loss(b, s.device, s.mask_generator);
      // A masked LM's count is known only after masking: its micro-batches weigh equally.
      const int64_t shares = static_cast<int64_t>(micro.size()) * world;
      const bool by_targets = s.objective->predicts_next_token();
      const Tensor weighted = by_targets ? accumulator.scale(bl.loss, expected, total_targets)
                                         : accumulator.scale(bl.loss, 1, shares);
      const double value = bl.loss.item();
      loss += by_targets ? value * static_cast<double>(expected) / static_cast<double>(total_targets)
                         : value / static_cast<double>(shares);
      if (!std::isfinite(value) && !s.scaler)
        GAU_FAIL("step ", s.step + 1, ": the training loss is ", value_text(value),
                 "; stopping. The last good checkpoint is ", s.last_good_checkpoint(),
                 ". Lower optim.lr or set train.clip_norm");
      inject_test_fault(s.comm->rank(), s.step + 1);
      (s.scaler ? s.scaler->scale(weighted) : weighted).backward();
      accumulator.step();
    }
    if (s.data_parallel) s.data_parallel->finish_backward();
    const distributed::ZeroSharding* zero = s.zero.get();
    const bool finite = !s.scaler ? true
                        : zero    ? s.scaler->unscale_and_check(zero->gradient_shards(),
                                                                [&](bool f) { return zero->any_over_ranks(f); })
                                  : s.scaler->unscale_and_check(s.flat);
    double grad_norm = std::nan("");
    if (finite) {
      grad_norm = zero ? optim::clip_gradients(zero->gradient_shards(), s.clip,
                                               [&](double v) { return zero->sum_over_ranks(v); })
                       : optim::clip_gradients(s.flat, s.clip);
      // The gradient norm, the loss scale and so these stops are the same on every rank: each can
      // sum the step's loss, its own share so far, over all of them.
      if (!std::isfinite(grad_norm) && !s.scaler)
        GAU_FAIL("step ", s.step + 1, ": the gradient norm is ", value_text(grad_norm), " (loss ",
                 value_text(s.sum_over_ranks(loss)),
                 "); stopping before the update. The last good checkpoint is ", s.last_good_checkpoint(),
                 ". Lower optim.lr or set train.clip_norm");
      s.optimizer->step();
      if (zero) s.zero->all_gather_parameters();
      skipped_in_a_row = 0;
    } else {
      ++skipped_in_a_row;
      ++summary.skipped_steps;
      const double scale = s.scaler->scale_value();
      if (scale < s.precision.min_loss_scale)
        GAU_FAIL("step ", s.step + 1, ": the fp16 loss scale fell to ", scale, ", below precision.min_loss_scale = ",
                 s.precision.min_loss_scale, ", after ", skipped_in_a_row, skipped_in_a_row == 1 ? " step" : " steps",
                 " in a row skipped for inf or nan gradients (the last loss: ",
                 value_text(s.sum_over_ranks(loss)),
                 "): the model has diverged; stopping. The last good checkpoint is ", s.last_good_checkpoint(),
                 ". Lower optim.lr, set train.clip_norm, or train in precision: bf16");
    }
    s.flat.zero_grad();
    ++s.step;
    const double elapsed = seconds_since(start);
    // A stop is agreed by all ranks, so none is left waiting in the next step's collectives.
    const bool time_up = s.train.max_time_minutes > 0 && elapsed > s.train.max_time_minutes * 60;
    std::vector<double> agreed = {loss, signals.requested() ? 1.0 : 0.0, time_up ? 1.0 : 0.0,
                                  static_cast<double>(step_tokens)};
    agreed = s.sum_over_ranks(agreed);
    loss = agreed[0];
    s.last_loss = loss;
    step_tokens = static_cast<int64_t>(agreed[3]);
    tokens += step_tokens;
    summary.losses.push_back(loss);
    rate.add(elapsed, s.step, step_tokens);
    progress.update(s.step, loss, step_tokens);
    if (s.metrics && (s.step % s.train.log_every == 0 || s.step == s.train.steps))
      s.metrics->log_train({.step = s.step,
                            .loss = loss,
                            .lr = s.optimizer->step_size(),
                            .grad_norm = grad_norm,
                            .tokens_per_s = rate.tokens_per_s(),
                            .peak_memory_bytes = static_cast<int64_t>(memory_stats(s.device).peak),
                            .loss_scale = s.scaler ? s.scaler->scale_value() : 1.0});
    if (agreed[1] > 0 || agreed[2] > 0) {
      // A signal on any rank stops them all; mpirun forwards a SIGTERM to every rank anyway.
      const bool signalled = agreed[1] > 0;
      summary.stop_reason = signalled ? signals.name() : "time limit";
      progress.print(signalled ? summary.stop_reason + ": stopping after step " + std::to_string(s.step)
                               : "time limit of " + std::to_string(s.train.max_time_minutes) +
                                     " minutes reached at step " + std::to_string(s.step));
      break;
    }
    if (s.train.eval_every > 0 && s.step % s.train.eval_every == 0 && s.step < s.train.steps) {
      s.evaluate_now(progress);
      // A signal during the evaluation (which can take a while) stops before another step; every
      // rank evaluates at this step, so all agree here.
      if (s.sum_over_ranks(signals.requested() ? 1.0 : 0.0) > 0) {
        summary.stop_reason = signals.name();
        progress.print(summary.stop_reason + ": stopping after the evaluation at step " + std::to_string(s.step));
        break;
      }
    }
    if (s.train.checkpoint_every > 0 && s.step % s.train.checkpoint_every == 0) s.save(progress);
  }
  summary.seconds = seconds_since(start);
  summary.tokens_per_s = summary.seconds > 0 ? static_cast<double>(tokens) / summary.seconds : 0;
  // A signal asks for a quick exit: the checkpoint, but no evaluation or sample.
  const bool interrupted = summary.stop_reason == "SIGINT" || summary.stop_reason == "SIGTERM";
  if (!interrupted) s.evaluate_now(progress);
  // fp16 skips a step whose loss is not finite, but a run that ends on one has diverged.
  if (!std::isfinite(s.last_loss))
    GAU_FAIL("step ", s.step, ": the training loss is ", value_text(s.last_loss), " after ", skipped_in_a_row,
             skipped_in_a_row == 1 ? " step" : " steps", " in a row skipped for inf or nan values: the model has "
             "diverged (under fp16 its f16 weights may have overflowed). The last good checkpoint is ",
             s.last_good_checkpoint(), ". Lower optim.lr, set train.clip_norm, or train in precision: bf16");
  if (s.last_eval_step == s.step && s.last_eval && !std::isfinite(s.last_eval->loss))
    GAU_FAIL("step ", s.step, ": the validation loss is ", value_text(s.last_eval->loss),
             ": the model has diverged. The last good checkpoint is ", s.last_good_checkpoint());
  s.save(progress);
  progress.finish();
  s.comm->barrier();  // no rank leaves before rank 0's last checkpoint is written
  summary.step = s.step;
  summary.checkpoint = s.last_checkpoint;
  summary.final_eval = s.last_eval_step == s.step ? s.last_eval : std::nullopt;
  if (!interrupted) summary.sample = s.sample();
  return summary;
}

}  // namespace gau::trainers
