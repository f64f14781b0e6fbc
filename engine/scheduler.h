// Scheduler: continuous batching with chunked prefill and preemption by recompute (vLLM v1 / nano-vllm).
//
// One step = a token budget shared by every scheduled sequence; there is no prefill or decode phase: each
// sequence moves num_computed_tokens towards num_tokens. Order within a step: running sequences first -
// those one token behind (decodes, each with the draft tokens it carries for speculative decoding, as many as
// the budget and its page allocation allow: drafts never preempt), then those with more to compute (prefill
// chunks, cut to the remaining budget) - then waiting sequences by priority, FCFS within one (the head of the
// queue blocks the rest), up to max_num_seqs running. Pages come from the KvCacheManager all or nothing; when
// a running sequence cannot get its pages, the newest running sequence of the least urgent priority is
// preempted (pages freed, num_computed_tokens = 0, output kept) and put back at the head of its priority in
// the waiting queue, repeatedly, until the allocation succeeds or the sequence itself is the one chosen. No
// new sequence is admitted in a step that preempted, except that a waiting sequence more urgent than a
// running one takes that one's place (vLLM's priority preemption): a batch job never holds an interactive
// request back for more than a step. Within one priority the oldest running sequence is never preempted
// while another runs, so every sequence finishes (no starvation) once more urgent work stops arriving.
//
// Not thread-safe: the engine thread owns it (tests drive it directly with hand-made StepOutputs).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/batch_inputs.h"
#include "engine/kv_cache_manager.h"
#include "engine/scheduled_batch.h"
#include "engine/sequence.h"

namespace gptoss {

struct SchedulerConfig {
    int max_num_seqs = 256;
    int max_num_batched_tokens = 8192;
    int max_model_len = 131072;  // a sequence never grows past this (submit() checks prompt + max_tokens)
};

// One sampled token of one sequence, as update() applied it.
struct SequenceOutput {
    std::shared_ptr<Sequence> seq;
    int32_t token = 0;
    const TokenLogprob* logprob = nullptr;             // into the StepOutput; null when not returned
    FinishReason finish_reason = FinishReason::kNone;  // kStop (stop token) or kLength, else kNone
};

class Scheduler {
public:
    // Throws std::invalid_argument when the pools cannot hold one max_model_len sequence (it could never
    // run).
    Scheduler(const SchedulerConfig& config, KvCacheManager& kv);

    // Queues a new sequence (status kWaiting, no blocks).
    void add(std::shared_ptr<Sequence> seq);
    // Decides this step's work and allocates its pages.
    ScheduledBatch schedule();
    // Applies a step's result: advances num_computed_tokens, caches/releases pages, appends sampled tokens
    // and finishes sequences on a stop token or length. `output.sampled_tokens` holds one token per sampled
    // row (ScheduledSequence::num_sampled_rows, in batch order). A sequence that verified drafts keeps the
    // sampled tokens up to the first that differs from its draft (that one included), releases the pages
    // of the rest, and has its drafts cleared; so does every scheduled sequence.
    std::vector<SequenceOutput> update(const ScheduledBatch& batch, const StepOutput& output);
    // Finishes a sequence wherever it is (waiting, preempted or running) and frees its pages. No-op when it
    // already finished.
    void finish(Sequence& seq, FinishReason reason);
    // Finds a live sequence by request id.
    std::shared_ptr<Sequence> find(RequestId id) const;

    bool has_unfinished() const { return !running_.empty() || !waiting_.empty(); }
    int num_running() const { return static_cast<int>(running_.size()); }
    int num_waiting() const { return static_cast<int>(waiting_.size()); }
    uint64_t num_preemptions() const { return num_preemptions_; }
    uint64_t num_draft_tokens() const { return num_draft_tokens_; }  // verified so far
    uint64_t num_accepted_draft_tokens() const { return num_accepted_draft_tokens_; }
    const SchedulerConfig& config() const { return config_; }
    const KvCacheManager& kv() const { return kv_; }
    // The running sequences, oldest first.
    const std::vector<std::shared_ptr<Sequence>>& running() const { return running_; }
    // Every live sequence: running (oldest first), then waiting (queue order).
    std::vector<std::shared_ptr<Sequence>> live_sequences() const;

    // KvCacheManager::verify over the live sequences plus the scheduler's own invariants (statuses, limits).
    std::string verify() const;

private:
    void preempt(Sequence& seq);
    // Index in running_ of the next sequence to preempt: the newest of the least urgent priority.
    size_t victim_index() const;
    // Removes running_[index] (and its entry in `batch`, giving its tokens back to `budget`), preempts it and
    // puts it back at the head of its priority in the waiting queue.
    void preempt_running(size_t index, ScheduledBatch& batch, int& budget);
    FinishReason stop_reason(const Sequence& seq, int32_t token) const;
    // How many of the sequence's drafts this step can verify within `budget` tokens and its length limits.
    int usable_drafts(const Sequence& seq, int budget) const;

    SchedulerConfig config_;
    KvCacheManager& kv_;
    std::vector<std::shared_ptr<Sequence>> running_;  // admission order: back = newest = first to preempt
    std::deque<std::shared_ptr<Sequence>>
        waiting_;  // front = next to admit; by priority, FCFS within one (preempted ones go to its front)
    uint64_t num_preemptions_ = 0;
    uint64_t num_draft_tokens_ = 0, num_accepted_draft_tokens_ = 0;
};

}  // namespace gptoss
