#include "engine/scheduler.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace gptoss {

Scheduler::Scheduler(const SchedulerConfig& config, KvCacheManager& kv) : config_(config), kv_(kv) {
    if (config.max_num_seqs <= 0 || config.max_num_batched_tokens <= 0 || config.max_model_len <= 0) {
        throw std::invalid_argument(
            "Scheduler: max_num_seqs, max_num_batched_tokens and max_model_len must be positive");
    }
    const KvCacheSpec& spec = kv.spec();
    const int full_needed = (config.max_model_len + spec.block_size - 1) / spec.block_size;
    if (spec.has_full_layers && spec.num_full_blocks < full_needed) {
        throw std::invalid_argument(fmt::format(
            "Scheduler: {} full-attention blocks cannot hold one sequence of max_model_len {} ({} blocks)",
            spec.num_full_blocks, config.max_model_len, full_needed));
    }
    const int window_needed =
        kv.max_window_blocks_per_sequence(std::min(config.max_num_batched_tokens, config.max_model_len));
    if (kv.has_window_pool() && spec.num_window_blocks < window_needed) {
        throw std::invalid_argument(
            fmt::format("Scheduler: {} windowed blocks cannot hold one sequence's largest chunk ({} blocks)",
                        spec.num_window_blocks, window_needed));
    }
}

void Scheduler::add(std::shared_ptr<Sequence> seq) {
    if (seq->status != SequenceStatus::kWaiting || !seq->blocks.empty() || seq->num_tokens() == 0) {
        throw std::invalid_argument("Scheduler::add: the sequence must be new and non-empty");
    }
    if (seq->num_tokens() > config_.max_model_len) {
        throw std::invalid_argument(
            fmt::format("Scheduler::add: sequence {} has {} tokens, max_model_len is {}", seq->id,
                        seq->num_tokens(), config_.max_model_len));
    }
    // Behind every waiting sequence of the same or a more urgent priority.
    auto after = std::find_if(waiting_.begin(), waiting_.end(), [&](const std::shared_ptr<Sequence>& w) {
        return w->priority > seq->priority;
    });
    waiting_.insert(after, std::move(seq));
}

size_t Scheduler::victim_index() const {
    size_t victim = running_.size() - 1;
    for (size_t i = running_.size(); i-- > 0;) {
        if (running_[i]->priority > running_[victim]->priority) victim = i;
    }
    return victim;
}

void Scheduler::preempt_running(size_t index, ScheduledBatch& batch, int& budget) {
    std::shared_ptr<Sequence> victim = running_[index];
    running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(index));
    // A sequence already scheduled in this step gives its tokens back.
    auto scheduled = std::find_if(batch.entries.begin(), batch.entries.end(),
                                  [&](const ScheduledSequence& e) { return e.seq == victim; });
    if (scheduled != batch.entries.end()) {
        budget += scheduled->num_new_tokens;
        batch.num_tokens -= scheduled->num_new_tokens;
        batch.entries.erase(scheduled);
    }
    preempt(*victim);
    auto head = std::find_if(waiting_.begin(), waiting_.end(), [&](const std::shared_ptr<Sequence>& w) {
        return w->priority >= victim->priority;
    });
    waiting_.insert(head, victim);
    ++batch.num_preempted;
}

void Scheduler::preempt(Sequence& seq) {
    kv_.free(seq);
    seq.draft_tokens.clear();
    seq.num_computed_tokens = 0;
    seq.status = SequenceStatus::kWaiting;
    ++seq.num_preemptions;
    ++num_preemptions_;
}

ScheduledBatch Scheduler::schedule() {
    ScheduledBatch batch;
    int budget = config_.max_num_batched_tokens;
    auto add_entry = [&](const std::shared_ptr<Sequence>& seq, int num_new, int num_drafts) {
        const bool sample = seq->num_computed_tokens + num_new - num_drafts == seq->num_tokens();
        batch.entries.push_back({seq, num_new, sample, num_drafts});
        batch.num_tokens += num_new;
        budget -= num_new;
    };

    // Running sequences: decodes (one token behind, with their drafts) first, then prefill chunks.
    for (int pass = 0; pass < 2; ++pass) {
        const bool decodes = pass == 0;
        for (size_t i = 0; i < running_.size() && budget > 0;) {
            std::shared_ptr<Sequence> seq = running_[i];
            const int remaining = seq->num_uncomputed_tokens();
            if ((remaining == 1) != decodes) {
                ++i;
                continue;
            }
            int num_drafts = decodes ? usable_drafts(*seq, budget - 1) : 0;
            int num_new = std::min(remaining, budget) + num_drafts;
            bool preempted_self = false;
            while (!kv_.allocate_slots(*seq, num_new)) {
                if (num_drafts > 0) {  // drafts never cost another sequence its pages
                    num_new -= num_drafts;
                    num_drafts = 0;
                    continue;
                }
                const size_t victim = victim_index();
                preempted_self = running_[victim] == seq;
                preempt_running(victim, batch, budget);
                if (preempted_self) break;
                if (victim < i) --i;  // running_[i] is still `seq`
            }
            if (preempted_self) continue;  // running_[i] is the next one now
            add_entry(seq, num_new, num_drafts);
            ++i;
        }
    }

    // Waiting sequences in queue order; none in a step that had to preempt (the pages are short), unless the
    // head outranks a running sequence: then that one is preempted to make room, as often as it takes.
    const bool short_of_pages = batch.num_preempted > 0;
    bool made_room = false;
    while (!waiting_.empty() && budget > 0) {
        std::shared_ptr<Sequence> seq = waiting_.front();
        if ((!short_of_pages || made_room) && num_running() < config_.max_num_seqs) {
            const PrefixHit hit = kv_.find_cached_prefix(*seq);
            const int num_new = std::min(seq->num_tokens() - hit.num_tokens, budget);
            if (kv_.allocate_slots(*seq, num_new, &hit)) {
                waiting_.pop_front();
                seq->num_computed_tokens = hit.num_tokens;
                if (!seq->admitted_once) {
                    seq->admitted_once = true;
                    seq->num_cached_prompt_tokens = hit.num_tokens;
                }
                seq->status = SequenceStatus::kRunning;
                running_.push_back(seq);
                add_entry(seq, num_new, 0);
                made_room = false;
                continue;
            }
        }
        if (running_.empty()) break;
        const size_t victim = victim_index();
        if (running_[victim]->priority <= seq->priority) break;
        preempt_running(victim, batch, budget);
        made_room = true;
    }
    return batch;
}

FinishReason Scheduler::stop_reason(const Sequence& seq, int32_t token) const {
    const auto& stops = seq.stop.stop_token_ids;
    if (std::find(stops.begin(), stops.end(), token) != stops.end()) return FinishReason::kStop;
    if (seq.num_output_tokens() >= seq.stop.max_tokens || seq.num_tokens() >= config_.max_model_len) {
        return FinishReason::kLength;
    }
    return FinishReason::kNone;
}

int Scheduler::usable_drafts(const Sequence& seq, int budget) const {
    // Every verified draft may add a token: stay within max_tokens and max_model_len with the extra one.
    const int room =
        std::min(seq.stop.max_tokens - seq.num_output_tokens(), config_.max_model_len - seq.num_tokens());
    return std::clamp(std::min(static_cast<int>(seq.draft_tokens.size()), budget), 0, std::max(0, room - 1));
}

std::vector<SequenceOutput> Scheduler::update(const ScheduledBatch& batch, const StepOutput& output) {
    // Check the whole output before changing anything.
    int num_rows = 0;
    for (const ScheduledSequence& entry : batch.entries) num_rows += entry.num_sampled_rows();
    if (output.sampled_tokens.size() != size_t(num_rows)) {
        throw std::invalid_argument(fmt::format("step output has {} sampled tokens for {} sampled rows",
                                                output.sampled_tokens.size(), num_rows));
    }
    for (int r = 0; r < num_rows; ++r) {
        if (output.sampled_tokens[size_t(r)] < 0)
            throw std::invalid_argument(fmt::format("step output has no sampled token for row {}", r));
    }
    std::vector<SequenceOutput> outputs;
    int row = 0;
    for (const ScheduledSequence& entry : batch.entries) {
        const int first_row = row;
        row += entry.num_sampled_rows();
        Sequence& seq = *entry.seq;
        const std::vector<int32_t> drafts = std::move(seq.draft_tokens);
        seq.draft_tokens.clear();
        if (seq.status != SequenceStatus::kRunning) continue;
        if (!entry.sample) {
            seq.num_computed_tokens += entry.num_new_tokens;
            kv_.on_tokens_computed(seq);
            continue;
        }
        // Row j verifies draft j: the tokens sampled agree with the drafts up to the first difference, which
        // is itself a sample of the model (the correction), as is the token after the last draft (the bonus).
        // A stop token ends the run early (usable_drafts keeps the lengths in bounds).
        const auto& stops = seq.stop.stop_token_ids;
        int num_emitted = 0;
        for (int j = 0; j <= entry.num_draft_tokens; ++j) {
            const int32_t token = output.sampled_tokens[size_t(first_row + j)];
            ++num_emitted;
            if (j == entry.num_draft_tokens || token != drafts[size_t(j)]) break;
            if (std::find(stops.begin(), stops.end(), token) != stops.end()) break;
        }
        FinishReason reason = FinishReason::kNone;
        for (int j = 0; j < num_emitted && reason == FinishReason::kNone; ++j) {
            const int r = first_row + j;
            const int32_t token = output.sampled_tokens[size_t(r)];
            seq.token_ids.push_back(token);
            if (seq.constraint) seq.constraint->advance(token);
            reason = stop_reason(seq, token);
            const TokenLogprob* logprob =
                size_t(r) < output.logprobs.size() ? &output.logprobs[size_t(r)] : nullptr;
            outputs.push_back({entry.seq, token, logprob, reason});
            if (reason == FinishReason::kStop) seq.stop_token = token;
        }
        // The K/V of the accepted drafts were computed from the right tokens; those after them are discarded.
        seq.num_computed_tokens += entry.num_new_tokens - entry.num_draft_tokens + (num_emitted - 1);
        seq.speculation.num_drafted += entry.num_draft_tokens;
        seq.speculation.num_accepted += num_emitted - 1;
        num_draft_tokens_ += uint64_t(entry.num_draft_tokens);
        num_accepted_draft_tokens_ += uint64_t(num_emitted - 1);
        kv_.on_tokens_computed(seq);
        if (reason != FinishReason::kNone) {
            finish(seq, reason);
        } else if (entry.num_draft_tokens > 0) {
            kv_.release_tail(seq);
        }
    }
    return outputs;
}

void Scheduler::finish(Sequence& seq, FinishReason reason) {
    if (seq.is_finished()) return;
    auto is_seq = [&](const std::shared_ptr<Sequence>& p) { return p.get() == &seq; };
    if (auto it = std::find_if(running_.begin(), running_.end(), is_seq); it != running_.end())
        running_.erase(it);
    if (auto it = std::find_if(waiting_.begin(), waiting_.end(), is_seq); it != waiting_.end())
        waiting_.erase(it);
    kv_.free(seq);
    seq.status = SequenceStatus::kFinished;
    seq.finish_reason = reason;
}

std::shared_ptr<Sequence> Scheduler::find(RequestId id) const {
    for (const auto& seq : running_) {
        if (seq->id == id) return seq;
    }
    for (const auto& seq : waiting_) {
        if (seq->id == id) return seq;
    }
    return nullptr;
}

std::vector<std::shared_ptr<Sequence>> Scheduler::live_sequences() const {
    std::vector<std::shared_ptr<Sequence>> live(running_.begin(), running_.end());
    live.insert(live.end(), waiting_.begin(), waiting_.end());
    return live;
}

std::string Scheduler::verify() const {
    if (num_running() > config_.max_num_seqs) {
        return fmt::format("{} running sequences, max_num_seqs is {}", num_running(), config_.max_num_seqs);
    }
    std::vector<const Sequence*> holders;
    for (const auto& seq : running_) {
        if (seq->status != SequenceStatus::kRunning)
            return fmt::format("sequence {} in running is not running", seq->id);
        if (seq->num_computed_tokens >= seq->num_tokens()) {
            return fmt::format("running sequence {} has nothing left to compute", seq->id);
        }
        holders.push_back(seq.get());
    }
    for (const auto& seq : waiting_) {
        if (seq->status != SequenceStatus::kWaiting || !seq->blocks.empty() ||
            seq->num_computed_tokens != 0) {
            return fmt::format("waiting sequence {} holds pages or progress", seq->id);
        }
        holders.push_back(seq.get());
    }
    std::vector<const Sequence*> sorted = holders;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return "a sequence is queued twice";
    return kv_.verify(holders);
}

}  // namespace gptoss
