#include "engine/single_sequence_driver.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

namespace gptoss {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

SingleSequenceDriver::SingleSequenceDriver(ModelRunner& runner, int max_len, Options options)
    : runner_(runner), max_len_(max_len), options_(options) {
    if (max_len <= 0 || options.block_size <= 0 || options.prefill_chunk < 0) {
        throw std::invalid_argument("SingleSequenceDriver: max_len and block_size must be positive");
    }
    const int num_blocks = (max_len + options.block_size - 1) / options.block_size;
    runner_.allocate_kv_cache({options.block_size, num_blocks, num_blocks});
}

StepOutput SingleSequenceDriver::step(std::span<const int32_t> tokens, int begin, int end,
                                      const SequenceSampling* sampling,
                                      std::span<const int32_t> logits_rows) {
    const int n = end - begin;
    const int BS = options_.block_size;
    const int num_blocks = (end + BS - 1) / BS;
    BatchInputs in;
    in.num_seqs = 1;
    in.num_tokens = n;
    in.block_size = BS;
    in.token_ids.assign(tokens.begin() + begin, tokens.begin() + end);
    for (int p = begin; p < end; ++p) in.positions.push_back(p);
    in.query_start = {0, n};
    in.context_lens = {end};
    in.full_table_stride = in.window_table_stride = num_blocks;
    for (int b = 0; b < num_blocks; ++b) in.full_block_table.push_back(b);
    in.window_block_table = in.full_block_table;
    in.window_first_block = {0};
    for (int p = begin; p < end; ++p) in.full_slot_mapping.push_back(p);  // page b holds positions bBS..
    in.window_slot_mapping = in.full_slot_mapping;
    if (sampling) in.add_sequence_sampling(*sampling, 1);
    in.logits_token_indices.assign(logits_rows.begin(), logits_rows.end());
    return runner_.execute(in);
}

std::vector<float> SingleSequenceDriver::score(std::span<const int32_t> ids,
                                               std::span<const int32_t> positions) {
    const int T = static_cast<int>(ids.size());
    if (T == 0 || T > max_len_) {
        throw std::invalid_argument(fmt::format("score: {} tokens (the driver holds 1 to {})", T, max_len_));
    }
    std::vector<int32_t> wanted(positions.begin(), positions.end());
    if (wanted.empty()) {
        for (int p = 0; p < T; ++p) wanted.push_back(p);
    }
    for (int32_t p : wanted) {
        if (p < 0 || p >= T)
            throw std::invalid_argument(fmt::format("score: position {} is not in [0, {})", p, T));
    }
    const int chunk = options_.prefill_chunk > 0 ? options_.prefill_chunk : T;
    const size_t V = runner_.config().vocab_size;
    std::vector<float> logits(wanted.size() * V);  // [positions, V]
    auto start = std::chrono::steady_clock::now();
    for (int begin = 0; begin < T; begin += chunk) {
        const int end = std::min(T, begin + chunk);
        std::vector<int32_t> rows, slots;  // rows of this step, and where they go in `logits`
        for (size_t i = 0; i < wanted.size(); ++i) {
            if (wanted[i] >= begin && wanted[i] < end) {
                rows.push_back(wanted[i] - begin);
                slots.push_back(static_cast<int32_t>(i));
            }
        }
        StepOutput out = step(ids, begin, end, nullptr, rows);
        for (size_t r = 0; r < rows.size(); ++r) {
            std::copy_n(&out.logits[r * V], V, &logits[slots[r] * V]);
        }
    }
    prefill_seconds_ = seconds_since(start);
    decode_seconds_ = 0;
    return logits;
}

std::vector<int32_t> SingleSequenceDriver::generate(std::span<const int32_t> prompt, int max_tokens,
                                                    const SamplingParams& sampling,
                                                    std::span<const int32_t> stop_token_ids) {
    const int P = static_cast<int>(prompt.size());
    if (P == 0) throw std::invalid_argument("generate: the prompt is empty");
    if (P + max_tokens > max_len_) {
        throw std::invalid_argument(fmt::format("generate: {} prompt + {} new tokens exceed the driver's {}",
                                                P, max_tokens, max_len_));
    }
    std::vector<int32_t> tokens(prompt.begin(), prompt.end());
    std::vector<int32_t> output;
    SequenceSampling seq;
    seq.params = &sampling;
    const int chunk = options_.prefill_chunk > 0 ? options_.prefill_chunk : P;
    prefill_seconds_ = decode_seconds_ = 0;
    auto start = std::chrono::steady_clock::now();
    int computed = 0;
    while (static_cast<int>(output.size()) < max_tokens) {
        const int end = computed < P ? std::min(P, computed + chunk) : computed + 1;
        const bool samples = end == static_cast<int>(tokens.size());
        seq.output_index = static_cast<int32_t>(output.size());
        seq.prompt_tokens = prompt;
        seq.output_tokens = output;
        StepOutput out = step(tokens, computed, end, samples ? &seq : nullptr, {});
        if (computed < P && end == P) {
            prefill_seconds_ = seconds_since(start);
            start = std::chrono::steady_clock::now();
        }
        computed = end;
        if (!samples) continue;
        const int32_t token = out.sampled_tokens[0];
        output.push_back(token);
        tokens.push_back(token);
        if (std::find(stop_token_ids.begin(), stop_token_ids.end(), token) != stop_token_ids.end()) break;
    }
    decode_seconds_ = seconds_since(start);
    return output;
}

}  // namespace gptoss
