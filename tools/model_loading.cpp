#include "tools/model_loading.h"

#include <charconv>

#include <fmt/format.h>

#include "tools/runner_factory.h"

namespace gptoss::cli {

void ModelFlags::register_flags(FlagSet& flags) {
    flags.add_string("model", &model, "checkpoint folder (config.json + *.safetensors)");
    flags.add_choice("backend", &backend, kBackendChoices,
                     "cpu, cuda, or auto (cuda when built in and a GPU is present)");
    flags.add_int("threads", &threads, "CPU backend threads (0 = all cores)");
}

LoadedModel load_model(const ModelFlags& flags) {
    if (flags.model.empty()) throw CliError("--model is required (a checkpoint folder)");
    LoadedModel m;
    m.config = ModelConfig::from_file(flags.model);
    const std::string backend = resolve_backend(flags.backend);  // fail fast, before reading gigabytes
    m.weights = ModelWeights::load(flags.model, m.config, /*show_progress=*/true);
    EngineConfig engine;
    engine.cpu_threads = flags.threads;
    m.runner = make_runner(backend, m.weights, engine);
    return m;
}

std::vector<int32_t> parse_token_ids(const std::string& flag_text, const std::string& flag, int vocab_size) {
    std::string text = flag_text;  // "1,2,3", or a JSON array as `gptoss generate` prints it
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (text.find_first_not_of(' ') == std::string::npos)
        throw CliError(fmt::format("--{} is required", flag));
    std::vector<int32_t> ids;
    size_t begin = 0;
    while (begin <= text.size()) {
        size_t end = text.find(',', begin);
        if (end == std::string::npos) end = text.size();
        std::string item = text.substr(begin, end - begin);
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        int64_t id = -1;
        auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
        if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
            throw CliError(fmt::format("--{} expects comma-separated token ids, got '{}'", flag, item));
        }
        if (id < 0 || id >= vocab_size) {
            throw CliError(
                fmt::format("--{}: token id {} is outside the vocabulary (size {})", flag, id, vocab_size));
        }
        ids.push_back(static_cast<int32_t>(id));
        begin = end + 1;
    }
    return ids;
}

}  // namespace gptoss::cli
