// BatchInputs and StepOutput: what one engine step hands the ModelRunner, and what comes back.
//
// Built once per step on the CPU by the engine (identical for every runner). Sequences are numbered
// s = 0..S-1 in batch order; their new tokens are contiguous in the flat arrays (T tokens in all).
// KV pages: two pools with their own block ids. The full-attention pool holds every position of a sequence;
// the windowed pool holds only positions that a sliding layer can still see. Slots are
// block_id * block_size + offset within the block.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/request.h"

namespace gptoss {

namespace structured {
class ConstraintState;  // engine/structured/harmony_constraint.h
}

// Sampling inputs of one sequence for this step.
struct SequenceSampling {
    const SamplingParams* params = nullptr;  // valid during execute()
    int32_t output_index = 0;                // how many tokens the sequence has generated (the RNG counter)
    std::span<const int32_t> prompt_tokens;  // for repetition_penalty
    std::span<const int32_t> output_tokens;  // for the penalties
    // The sequence's structured-output position when params->constraint is set: the tokens it allows.
    const structured::ConstraintState* constraint = nullptr;
};

struct BatchInputs {
    int num_seqs = 0;    // S
    int num_tokens = 0;  // T
    int block_size = 16;

    std::vector<int32_t> token_ids;    // [T]
    std::vector<int32_t> positions;    // [T] absolute position of each token
    std::vector<int32_t> query_start;  // [S + 1] token offsets (cu_seqlens); sequence s owns [qs[s], qs[s+1])
    std::vector<int32_t> context_lens;  // [S] positions cached after this step (already computed + new)

    // Full-attention pool: logical block b of sequence s is full_block_table[s * full_table_stride + b].
    int full_table_stride = 0;
    std::vector<int32_t> full_block_table;   // [S, full_table_stride]; -1 past the sequence's last block
    std::vector<int64_t> full_slot_mapping;  // [T] where each new token's K/V go in the full pool

    // Windowed pool: compact table starting at logical block window_first_block[s]; logical block b is
    // window_block_table[s * window_table_stride + (b - window_first_block[s])]. Blocks before the first
    // have been released: no sliding-layer query of this step can see them.
    int window_table_stride = 0;
    std::vector<int32_t> window_first_block;   // [S]
    std::vector<int32_t> window_block_table;   // [S, window_table_stride]; -1 where absent
    std::vector<int64_t> window_slot_mapping;  // [T]

    // Sampling: sequences whose last scheduled token ends their known tokens get one new token.
    std::vector<uint8_t> sample;             // [S] 1 = sample after this step
    std::vector<SequenceSampling> sampling;  // [S]
    // Rows of the flat token array whose full logits the caller wants back (scoring); usually empty.
    std::vector<int32_t> logits_token_indices;
};

struct StepOutput {
    std::vector<int32_t> sampled_tokens;  // [S]; -1 where sample[s] == 0
    std::vector<TokenLogprob> logprobs;   // [S] when any sequence asked for logprobs, else empty
    std::vector<float> logits;            // [logits_token_indices.size(), V] float32, row-major
};

}  // namespace gptoss
