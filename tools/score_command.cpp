// gptoss score: float32 logits of every position of a token sequence, written to a safetensors file
// (tensor "logits", shape [T, vocab]) - the engine's output in a form other tools can compare.
#include <fmt/format.h>

#include "config/cli_flags.h"
#include "engine/single_sequence_driver.h"
#include "engine/weights/safetensors_writer.h"
#include "tools/commands.h"
#include "tools/model_loading.h"

namespace gptoss::cli {

int score_command(const Args& args) {
    ModelFlags model_flags;
    std::string ids_text, out;
    FlagSet flags("score", "gptoss score --model DIR --ids 1,2,3 --out FILE.safetensors [--backend cpu|cuda]",
                  "Run the model over token ids and write the float32 logits of every position.");
    model_flags.register_flags(flags);
    flags.add_string("ids", &ids_text, "token ids, comma-separated");
    flags.add_string("out", &out, "output safetensors file (tensor \"logits\", [T, vocab] float32)");
    if (!flags.parse(args)) {
        fmt::print("{}", flags.help());
        return 0;
    }
    if (out.empty()) throw CliError("--out is required (the safetensors file to write)");
    if (model_flags.model.empty()) throw CliError("--model is required (a checkpoint folder)");
    const ModelConfig config = ModelConfig::from_file(model_flags.model);
    const std::vector<int32_t> ids = parse_token_ids(ids_text, "ids", config.vocab_size);
    if (static_cast<int64_t>(ids.size()) > config.max_position_embeddings) {
        throw CliError(fmt::format("--ids: {} tokens exceed the model's {} positions", ids.size(),
                                   config.max_position_embeddings));
    }

    LoadedModel m = load_model(model_flags);
    SingleSequenceDriver driver(*m.runner, static_cast<int>(ids.size()));
    const std::vector<float> logits = driver.score(ids);  // [T, V]
    write_safetensors(out, {{{"logits", DType::kF32, {static_cast<int64_t>(ids.size()), config.vocab_size}},
                             logits.data()}});
    return 0;
}

}  // namespace gptoss::cli
