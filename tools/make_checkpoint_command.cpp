// gptoss make-checkpoint: writes a random gpt-oss checkpoint in the exact Hugging Face release layout (for
// tests, benchmarks, and end-to-end runs where no real weights are available).
#include <fmt/format.h>

#include "config/cli_flags.h"
#include "tools/commands.h"
#include "tools/synthetic_checkpoint.h"

namespace gptoss::cli {

namespace {

// A width override: positive, and a whole number of MXFP4 blocks (32 values) since the experts reduce over
// it.
int checked_width(const std::optional<int>& value, int preset_value, const char* flag) {
    if (!value) return preset_value;
    if (*value < 32 || *value % 32 != 0)
        throw CliError(
            fmt::format("--{} must be a positive multiple of 32 (the MXFP4 block), got {}", flag, *value));
    return *value;
}

}  // namespace

int make_checkpoint_command(const Args& args) {
    std::string out, preset = "tiny";
    std::optional<int> layers, hidden_size, intermediate_size, vocab_size;
    int64_t seed = 0;
    std::optional<int64_t> shard_bytes;
    int threads = 0;
    bool dry_run = false;
    FlagSet flags(
        "make-checkpoint",
        "gptoss make-checkpoint --out DIR --preset gpt-oss-20b|gpt-oss-120b|tiny|tiny-full-vocab|tiny-120b "
        "[--layers N] [--hidden-size H] [--intermediate-size I] [--vocab-size V] --seed S [--dry-run]",
        "Write a synthetic gpt-oss checkpoint (random weights, exact Hugging Face MXFP4 layout).");
    flags.add_string("out", &out, "folder to write (created if needed)");
    flags.add_choice(
        "preset", &preset, kSyntheticPresets,
        "gpt-oss-20b (full size, ~13.8 GB), gpt-oss-120b (full size, ~65.2 GB, 15 files), tiny "
        "(hidden 256, vocab 1024), tiny-full-vocab, tiny-120b (36 layers, 128 experts, hidden 64)");
    flags.add_optional_int("layers", &layers, "number of layers (default: the preset's)");
    flags.add_optional_int("hidden-size", &hidden_size,
                           "hidden width, a multiple of 32 (default: the preset's)");
    flags.add_optional_int("intermediate-size", &intermediate_size,
                           "expert width, a multiple of 32 (default: the preset's)");
    flags.add_optional_int("vocab-size", &vocab_size, "vocabulary rows (default: the preset's)");
    flags.add_int64("seed", &seed, "random seed (same seed, same bytes)");
    flags.add_optional_bytes("shard-bytes", &shard_bytes, "shard size cap (default 4.8 GB, as the release)");
    flags.add_int("threads", &threads, "threads generating the random bytes (0 = all cores)");
    flags.add_bool("dry-run", &dry_run, "print the files it would write (names, tensors, bytes) and stop");
    if (!flags.parse(args)) {
        fmt::print("{}", flags.help());
        return 0;
    }
    if (out.empty() && !dry_run) throw CliError("--out is required (the folder to write)");
    SyntheticShape shape = synthetic_preset(preset);
    if (layers) {
        if (*layers < 1) throw CliError("--layers must be at least 1");
        shape.layers = *layers;
    }
    shape.hidden = checked_width(hidden_size, shape.hidden, "hidden-size");
    shape.intermediate = checked_width(intermediate_size, shape.intermediate, "intermediate-size");
    if (vocab_size) {
        // eos and pad take the last two ids of a synthetic vocabulary, so it needs at least one other token.
        if (*vocab_size < 3)
            throw CliError(fmt::format("--vocab-size must be at least 3, got {}", *vocab_size));
        shape.vocab = *vocab_size;
    }
    SyntheticOptions options;
    options.seed = static_cast<uint64_t>(seed);
    options.show_progress = true;
    options.threads = threads;
    if (shard_bytes) {
        if (*shard_bytes < 1) throw CliError("--shard-bytes must be positive");
        options.shard_bytes = static_cast<uint64_t>(*shard_bytes);
    }
    const std::vector<SyntheticShard> shards = plan_synthetic_shards(shape, options.shard_bytes);
    size_t num_tensors = 0;
    for (const auto& s : shards) num_tensors += s.num_tensors;
    const uint64_t total = synthetic_tensor_bytes(shape);
    if (dry_run) {
        fmt::print("{}: {} tensors, {} bytes of tensor data in {} file(s)\n", preset, num_tensors, total,
                   shards.size());
        for (const auto& s : shards)
            fmt::print("{} {} tensors {} bytes\n", s.file, s.num_tensors, s.tensor_bytes);
        return 0;
    }
    fmt::print(stderr,
               "{}: {} layers, {} experts (top-{}), hidden {}: {} tensors, {:.2f} GB in {} file(s) -> {}\n",
               preset, shape.layers, shape.experts, shape.experts_per_token, shape.hidden, num_tensors,
               total / 1e9, shards.size(), out);
    write_synthetic_checkpoint(out, shape, options);
    return 0;
}

}  // namespace gptoss::cli
