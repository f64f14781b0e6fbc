// ScheduledBatch: what Scheduler::schedule() decided for one step, read by the batch builder and by
// Scheduler::update(). Entries are in batch order (sequence s of BatchInputs is entries[s]).
#pragma once

#include <memory>
#include <vector>

#include "engine/sequence.h"

namespace gptoss {

struct ScheduledSequence {
    std::shared_ptr<Sequence> seq;
    int num_new_tokens = 0;  // tokens [seq->num_computed_tokens, + num_new_tokens) are computed this step
    bool sample = false;     // the chunk ends at the last known token: a new token is sampled
    // The chunk's last num_draft_tokens tokens are seq->draft_tokens (then it is one token behind plus its
    // drafts, and sample is set): 1 + num_draft_tokens rows are sampled and the longest agreeing prefix kept.
    int num_draft_tokens = 0;
    int num_sampled_rows() const { return sample ? 1 + num_draft_tokens : 0; }
};

struct ScheduledBatch {
    std::vector<ScheduledSequence> entries;
    int num_tokens = 0;     // sum of num_new_tokens, <= max_num_batched_tokens
    int num_preempted = 0;  // sequences preempted while scheduling this step
    bool empty() const { return entries.empty(); }
};

}  // namespace gptoss
