#include "engine/batch_builder.h"

#include <algorithm>

namespace gptoss {

BatchInputs build_batch_inputs(const ScheduledBatch& batch, int block_size) {
    BatchInputs in;
    const int S = static_cast<int>(batch.entries.size());
    in.num_seqs = S;
    in.num_tokens = batch.num_tokens;
    in.block_size = block_size;

    for (const ScheduledSequence& e : batch.entries) {
        const SequenceBlocks& blocks = e.seq->blocks;
        in.full_table_stride = std::max(in.full_table_stride, static_cast<int>(blocks.full.size()));
        in.window_table_stride = std::max(in.window_table_stride, blocks.num_window_held());
    }
    in.token_ids.reserve(size_t(batch.num_tokens));
    in.positions.reserve(size_t(batch.num_tokens));
    in.full_slot_mapping.reserve(size_t(batch.num_tokens));
    in.window_slot_mapping.reserve(size_t(batch.num_tokens));
    in.query_start.assign(1, 0);
    in.full_block_table.assign(size_t(S) * size_t(in.full_table_stride), kNoBlock);
    in.window_block_table.assign(size_t(S) * size_t(in.window_table_stride), kNoBlock);

    for (int s = 0; s < S; ++s) {
        const ScheduledSequence& e = batch.entries[size_t(s)];
        const Sequence& seq = *e.seq;
        const SequenceBlocks& blocks = seq.blocks;
        const int start = seq.num_computed_tokens;
        for (int p = start; p < start + e.num_new_tokens; ++p) {
            const int b = p / block_size, offset = p % block_size;
            in.token_ids.push_back(seq.token_at(p));
            in.positions.push_back(p);
            in.full_slot_mapping.push_back(b < static_cast<int>(blocks.full.size())
                                               ? int64_t(blocks.full[size_t(b)]) * block_size + offset
                                               : -1);
            in.window_slot_mapping.push_back(b < static_cast<int>(blocks.window.size())
                                                 ? int64_t(blocks.window[size_t(b)]) * block_size + offset
                                                 : -1);
        }
        in.query_start.push_back(static_cast<int32_t>(in.token_ids.size()));
        in.context_lens.push_back(start + e.num_new_tokens);

        std::copy(blocks.full.begin(), blocks.full.end(),
                  in.full_block_table.begin() + ptrdiff_t(s) * in.full_table_stride);
        in.window_first_block.push_back(blocks.window_first);
        std::copy(blocks.window.begin() + blocks.window_first, blocks.window.end(),
                  in.window_block_table.begin() + ptrdiff_t(s) * in.window_table_stride);

        in.add_sequence_sampling(
            SequenceSampling{&seq.sampling, seq.num_output_tokens(), seq.prompt_token_ids(),
                             seq.output_token_ids(), seq.constraint.get()},
            e.num_sampled_rows());
    }
    return in;
}

}  // namespace gptoss
