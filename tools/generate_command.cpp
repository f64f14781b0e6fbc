// gptoss generate: token ids in, generated token ids out (a JSON array on stdout). Greedy unless
// --temperature is given; stops at the checkpoint's EOS ids (generation_config.json, else config.json's
// eos_token_id) unless --ignore-eos.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/cli_flags.h"
#include "config/generation_config.h"
#include "engine/single_sequence_driver.h"
#include "tools/commands.h"
#include "tools/model_loading.h"

namespace gptoss::cli {

int generate_command(const Args& args) {
    ModelFlags model_flags;
    std::string ids_text;
    int max_tokens = 16;
    bool ignore_eos = false;
    std::optional<double> temperature, top_p, min_p;
    std::optional<int> top_k;
    int64_t seed = 0;
    FlagSet flags("generate",
                  "gptoss generate --model DIR --ids 1,2,3 --max-tokens N [--ignore-eos] [--temperature T] "
                  "[--top-p P] [--top-k K] [--seed S]",
                  "Generate token ids after a prompt of token ids; prints them as a JSON array.");
    model_flags.register_flags(flags);
    flags.add_string("ids", &ids_text, "prompt token ids, comma-separated");
    flags.add_int("max-tokens", &max_tokens, "generate at most this many tokens");
    flags.add_bool("ignore-eos", &ignore_eos, "do not stop at the model's EOS tokens");
    flags.add_optional_double("temperature", &temperature, "sample at this temperature (default: greedy)");
    flags.add_optional_double("top-p", &top_p, "nucleus mass (default: generation_config.json's, else 1)");
    flags.add_optional_int("top-k", &top_k,
                           "keep the k most likely tokens (default: generation_config.json's)");
    flags.add_optional_double("min-p", &min_p, "drop tokens below min-p times the best (default: 0)");
    flags.add_int64("seed", &seed, "sampling seed");
    if (!flags.parse(args)) {
        fmt::print("{}", flags.help());
        return 0;
    }
    if (model_flags.model.empty()) throw CliError("--model is required (a checkpoint folder)");
    if (max_tokens < 1) throw CliError("--max-tokens must be at least 1");
    const ModelConfig config = ModelConfig::from_file(model_flags.model);
    const GenerationConfig generation = GenerationConfig::from_model_dir(model_flags.model);
    const std::vector<int32_t> prompt = parse_token_ids(ids_text, "ids", config.vocab_size);
    if (static_cast<int64_t>(prompt.size()) + max_tokens > config.max_position_embeddings) {
        throw CliError(fmt::format("{} prompt tokens + --max-tokens {} exceed the model's {} positions",
                                   prompt.size(), max_tokens, config.max_position_embeddings));
    }

    SamplingParams sampling;
    sampling.temperature = static_cast<float>(temperature.value_or(0.0));
    sampling.top_p = static_cast<float>(top_p.value_or(generation.top_p.value_or(1.0)));
    sampling.top_k = top_k.value_or(generation.top_k.value_or(0));
    sampling.min_p = static_cast<float>(min_p.value_or(generation.min_p.value_or(0.0)));
    sampling.seed = static_cast<uint64_t>(seed);
    if (sampling.temperature < 0) throw CliError("--temperature must not be negative");
    if (!(sampling.top_p > 0 && sampling.top_p <= 1)) throw CliError("--top-p must be in (0, 1]");
    if (sampling.top_k < 0) throw CliError("--top-k must not be negative");
    if (sampling.min_p < 0 || sampling.min_p > 1) throw CliError("--min-p must be in [0, 1]");

    std::vector<int32_t> stop_ids;
    if (!ignore_eos) {
        for (int id : generation.eos_token_ids.empty() ? config.eos_token_ids : generation.eos_token_ids) {
            stop_ids.push_back(id);
        }
    }

    LoadedModel m = load_model(model_flags);
    SingleSequenceDriver driver(*m.runner, static_cast<int>(prompt.size()) + max_tokens);
    const std::vector<int32_t> output = driver.generate(prompt, max_tokens, sampling, stop_ids);
    fmt::print("{}\n", nlohmann::json(output).dump());
    return 0;
}

}  // namespace gptoss::cli
