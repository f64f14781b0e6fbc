// Sequence: the engine's state of one request (never leaves the engine).
//
// token_ids holds the prompt followed by the generated tokens. Each step moves num_computed_tokens towards
// num_tokens() within the step's token budget (vLLM's rule: no prefill or decode phase). After preemption by
// recompute, num_computed_tokens drops to 0 and the generated tokens stay: the sequence is re-prefilled over
// prompt + output and resumes sampling where it stopped, so the client sees no difference.
//
// Writers: the Scheduler owns status, num_computed_tokens and the finish fields; the KvCacheManager owns
// `blocks` and `block_hashes`; the Speculator owns `draft_tokens` and `speculation` (the Scheduler clears
// the drafts once a step has verified them); nothing else mutates a Sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/request.h"
#include "engine/structured/harmony_constraint.h"

namespace gptoss {

enum class SequenceStatus { kWaiting, kRunning, kFinished };

// A released or never-needed entry of a block list.
inline constexpr int32_t kNoBlock = -1;

// KV pages a sequence holds in each pool, indexed by logical block (position / block_size).
struct SequenceBlocks {
    // Full-attention pool: logical blocks [0, full.size()), every one present.
    std::vector<int32_t> full;
    // Windowed pool: present exactly for logical blocks [window_first, window.size()); entries before
    // window_first are kNoBlock (released behind the sliding window, or skipped by a prefix-cache hit).
    std::vector<int32_t> window;
    int window_first = 0;
    // Logical blocks [0, num_registered) have been entered in the prefix cache (or came from it).
    int num_registered = 0;

    int num_window_held() const { return static_cast<int>(window.size()) - window_first; }
    bool empty() const { return full.empty() && num_window_held() == 0; }
};

// What the Speculator remembers about one sequence's drafts (its acceptance gate).
struct SpeculationState {
    int num_drafted = 0;          // draft tokens verified so far
    int num_accepted = 0;         // of which accepted
    int paused_until_output = 0;  // no drafts before the sequence has this many output tokens
};

struct Sequence {
    Sequence(Request request, uint64_t arrival_index);

    RequestId id = 0;
    uint64_t arrival_index = 0;  // FCFS order
    int priority = 0;            // Request::priority
    SamplingParams sampling;
    StopCriteria stop;
    std::vector<int32_t> token_ids;  // [num_prompt_tokens + generated]
    int num_prompt_tokens = 0;

    SequenceStatus status = SequenceStatus::kWaiting;
    int num_computed_tokens = 0;       // tokens whose K/V are in the cache
    int num_cached_prompt_tokens = 0;  // prefix-cache hit at first admission (reported to the client)
    bool admitted_once = false;
    int num_preemptions = 0;
    FinishReason finish_reason = FinishReason::kNone;
    std::optional<int32_t> stop_token;  // the stop token id that finished it

    // Where the reply stands in sampling.constraint (null without one); advanced with every output token.
    std::unique_ptr<structured::ConstraintState> constraint;

    // Draft tokens for the next step (speculative decoding): they would follow token_ids; the step that
    // schedules them verifies them, and the Scheduler then clears them. Empty when not speculating.
    std::vector<int32_t> draft_tokens;
    SpeculationState speculation;

    SequenceBlocks blocks;
    std::vector<uint64_t> block_hashes;  // chained hashes of full logical blocks [0, block_hashes.size())

    int num_tokens() const { return static_cast<int>(token_ids.size()); }
    int num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
    int num_uncomputed_tokens() const { return num_tokens() - num_computed_tokens; }
    bool is_finished() const { return status == SequenceStatus::kFinished; }
    // Token at position p of the sequence extended by its drafts (p < num_tokens() + draft_tokens.size()).
    int32_t token_at(int p) const {
        return p < num_tokens() ? token_ids[size_t(p)] : draft_tokens[size_t(p - num_tokens())];
    }
    std::span<const int32_t> prompt_token_ids() const {
        return {token_ids.data(), size_t(num_prompt_tokens)};
    }
    std::span<const int32_t> output_token_ids() const {
        return std::span<const int32_t>(token_ids).subspan(size_t(num_prompt_tokens));
    }
};

}  // namespace gptoss
