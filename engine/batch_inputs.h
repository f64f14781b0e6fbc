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
    std::span<const int32_t> output_tokens;  // for the penalties (draft rows: no penalties, see Speculator)
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

    // Sampling inputs of every sequence, and the rows sampled. Sequence s samples rows [sample_start[s],
    // sample_start[s + 1]): none (a prefill chunk that stops short of its last known token), one (its last
    // token: the next token) or 1 + k (its last known token and the k draft tokens after it, verified in
    // one pass). Row j of sequence s is the distribution after its j-th token from the end of those, at flat
    // token index sample_token_index[row], sampled as output token sampling[s].output_index + j. Empty
    // sample_start: nothing samples (scoring).
    std::vector<SequenceSampling> sampling;   // [S]
    std::vector<int32_t> sample_start;        // [S + 1]
    std::vector<int32_t> sample_seq;          // [R] sequence of each row
    std::vector<int32_t> sample_token_index;  // [R]
    // Rows of the flat token array whose full logits the caller wants back (scoring); usually empty.
    std::vector<int32_t> logits_token_indices;

    int num_sampled_rows() const { return sample_start.empty() ? 0 : sample_start.back(); }
    int num_sampled(int s) const {
        return sample_start.empty() ? 0 : sample_start[size_t(s) + 1] - sample_start[size_t(s)];
    }
    // The RNG counter of row r (its output token index).
    int32_t row_output_index(int r) const {
        const int s = sample_seq[size_t(r)];
        return sampling[size_t(s)].output_index + (r - sample_start[size_t(s)]);
    }
    // What the sampler reads for row r: its sequence's inputs at the row's output index.
    SequenceSampling row_sampling(int r) const {
        SequenceSampling row = sampling[size_t(sample_seq[size_t(r)])];
        row.output_index = row_output_index(r);
        return row;
    }
    // Appends the next sequence's sampling inputs and its `num_rows` sampled rows (its last scheduled
    // tokens); call once per sequence in batch order, after its tokens are in query_start.
    void add_sequence_sampling(const SequenceSampling& sampling, int num_rows);
};

struct StepOutput {
    std::vector<int32_t> sampled_tokens;  // [R] one per sampled row
    std::vector<TokenLogprob> logprobs;   // [R] when any row asked for logprobs, else empty
    std::vector<float> logits;            // [logits_token_indices.size(), V] float32, row-major
};

}  // namespace gptoss
