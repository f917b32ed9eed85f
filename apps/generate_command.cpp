#include "apps/generate_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "apps/cli_checks.h"
#include "core/error.h"
#include "layers/models/language_model.h"
#include "trainers/generate.h"
#include "trainers/trained_model.h"

namespace gau::apps {

namespace {

struct GenerateArgs {
  std::string target;
  std::string prompt;
  trainers::Sampling sampling;
  std::string device = "cpu";
};

void run_generate(const GenerateArgs& args) {
  const Device device = Device::parse(args.device);
  trainers::TrainedModel m = trainers::load_trained_model(args.target, device);
  auto* lm = dynamic_cast<layers::LanguageModel*>(m.model.get());
  GAU_CHECK(lm != nullptr, "gau generate: ", m.checkpoint.string(), " holds a ",
            m.config["model"]["type"].as<std::string>(), ", which does not generate; a language_model does");
  GAU_CHECK(m.tokenizer != nullptr, "gau generate: the run trained on token ids (data.source: ", m.data_config.source,
            "), so there is no tokenizer to encode a prompt or decode the output");
  std::vector<int32_t> prompt = m.tokenizer->encode(args.prompt);
  const int32_t eos = m.tokenizer->eos_id();
  // An empty prompt starts a document: the model saw one begin after each end-of-document id.
  const bool start_of_document = prompt.empty();
  if (start_of_document) {
    GAU_CHECK(eos >= 0, "gau generate: give a --prompt (the tokenizer has no end-of-document id to start from)");
    prompt = {eos};
  }
  trainers::Sampling s = args.sampling;
  s.stop_id = eos;
  s.vocab_limit = m.tokenizer->vocab_size();
  const trainers::Generated g = trainers::generate(*lm, prompt, s, device);
  std::vector<int32_t> text(prompt.begin() + (start_of_document ? 1 : 0), prompt.end());
  for (const int32_t id : g.tokens)
    if (id != eos) text.push_back(id);
  std::printf("%s\n", m.tokenizer->decode(text).c_str());
  if (g.hit_max_length)
    std::fprintf(stderr, "gau generate: stopped at the model's max_length of %lld tokens\n",
                 static_cast<long long>(lm->options().max_length));
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate text from a trained language model");
  auto args = std::make_shared<GenerateArgs>();
  cmd->add_option("run", args->target, "a run directory (its latest checkpoint) or a checkpoint directory")->required();
  // expected(0, 1): `--prompt=` (nothing after the =) is the empty prompt too, as it is for
  // programs that read options the getopt way.
  cmd->add_option("--prompt", args->prompt, "the text to continue; \"\": the start of a document")->expected(0, 1);
  cmd->add_option("--max-tokens", args->sampling.max_tokens, "tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", args->sampling.temperature, "softmax temperature; 0: greedy")->capture_default_str();
  cmd->add_option("--top-k", args->sampling.top_k, "sample from the K most likely tokens; 0: all")->capture_default_str();
  cmd->add_option("--top-p", args->sampling.top_p, "sample from the smallest set of probability >= P")
      ->capture_default_str();
  cmd->add_option("--seed", args->sampling.seed, "the sampling seed: the same seed gives the same text")
      ->check(non_negative_integer())
      ->capture_default_str();
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  gau generate runs/default --prompt \"The hacker \"\n"
      "  gau generate runs/default --prompt \"foo\" --max-tokens 400 --temperature 0.7 --top-k 40 --seed 3\n"
      "  gau generate runs/default/checkpoints/step_000750 --temperature 0    greedy");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace gau::apps
