// SingleSequenceDriver: runs one sequence through a ModelRunner without the scheduler, for `gptoss score`,
// `gptoss generate`, benchmarks and tests. Pages are contiguous (logical block b is page b in both pools,
// none released) and each step is one BatchInputs: the prompt in chunks of at most `prefill_chunk` tokens,
// then one token per step.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/model_runner.h"
#include "engine/request.h"

namespace gptoss {

class SingleSequenceDriver {
public:
    struct Options {
        int block_size = 16;
        int prefill_chunk = 0;  // tokens per prefill step; 0 = the whole prompt in one step
    };

    // Allocates the runner's KV cache for sequences of up to max_len tokens (call once per runner).
    SingleSequenceDriver(ModelRunner& runner, int max_len, Options options);
    SingleSequenceDriver(ModelRunner& runner, int max_len)
        : SingleSequenceDriver(runner, max_len, Options{}) {}

    // Float32 logits at the given positions of `ids` ([positions.size(), V]); all positions when empty.
    std::vector<float> score(std::span<const int32_t> ids, std::span<const int32_t> positions = {});

    // Generates up to max_tokens tokens after `prompt`; stops after emitting a token of stop_token_ids.
    std::vector<int32_t> generate(std::span<const int32_t> prompt, int max_tokens,
                                  const SamplingParams& sampling,
                                  std::span<const int32_t> stop_token_ids = {});

    // Wall time of the last call's prefill steps and decode steps, in seconds.
    double last_prefill_seconds() const { return prefill_seconds_; }
    double last_decode_seconds() const { return decode_seconds_; }

private:
    // One step over tokens [begin, end) of `tokens` (positions begin..end-1).
    StepOutput step(std::span<const int32_t> tokens, int begin, int end, const SequenceSampling* sampling,
                    std::span<const int32_t> logits_rows);

    ModelRunner& runner_;
    int max_len_;
    Options options_;
    double prefill_seconds_ = 0, decode_seconds_ = 0;
};

}  // namespace gptoss
