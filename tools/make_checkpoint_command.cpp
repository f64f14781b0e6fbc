// gptoss make-checkpoint: writes a random gpt-oss checkpoint in the exact Hugging Face release layout (for
// tests, benchmarks, and end-to-end runs where no real weights are available).
#include <fmt/format.h>

#include "config/cli_flags.h"
#include "tools/commands.h"
#include "tools/synthetic_checkpoint.h"

namespace gptoss::cli {

int make_checkpoint_command(const Args& args) {
    std::string out, preset = "tiny";
    std::optional<int> layers;
    int64_t seed = 0;
    std::optional<int64_t> shard_bytes;
    int threads = 0;
    FlagSet flags(
        "make-checkpoint",
        "gptoss make-checkpoint --out DIR --preset gpt-oss-20b|tiny|tiny-full-vocab [--layers N] --seed S",
        "Write a synthetic gpt-oss checkpoint (random weights, exact Hugging Face MXFP4 layout).");
    flags.add_string("out", &out, "folder to write (created if needed)");
    flags.add_choice("preset", &preset, kSyntheticPresets,
                     "gpt-oss-20b (full size, ~13.8 GB), tiny (hidden 256, vocab 1024), tiny-full-vocab");
    flags.add_optional_int("layers", &layers, "number of layers (default: the preset's)");
    flags.add_int64("seed", &seed, "random seed (same seed, same bytes)");
    flags.add_optional_bytes("shard-bytes", &shard_bytes, "shard size cap (default 4.8 GB, as the release)");
    flags.add_int("threads", &threads, "threads generating the random bytes (0 = all cores)");
    if (!flags.parse(args)) {
        fmt::print("{}", flags.help());
        return 0;
    }
    if (out.empty()) throw CliError("--out is required (the folder to write)");
    SyntheticShape shape = synthetic_preset(preset);
    if (layers) {
        if (*layers < 1) throw CliError("--layers must be at least 1");
        shape.layers = *layers;
    }
    SyntheticOptions options;
    options.seed = static_cast<uint64_t>(seed);
    options.show_progress = true;
    options.threads = threads;
    if (shard_bytes) {
        if (*shard_bytes < 1) throw CliError("--shard-bytes must be positive");
        options.shard_bytes = static_cast<uint64_t>(*shard_bytes);
    }
    write_synthetic_checkpoint(out, shape, options);
    return 0;
}

}  // namespace gptoss::cli
