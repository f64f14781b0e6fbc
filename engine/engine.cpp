// Engine::Impl: one thread owns the Scheduler, the KvCacheManager and the ModelRunner. Each loop: take new
// requests and aborts from the inbox, schedule, build BatchInputs once on the CPU, execute, apply the result,
// and push TokenEvents to the streams. A runner exception fails that step's requests (kError) and the engine
// keeps serving; nothing a request does can end the thread.
#include "engine/engine.h"

#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/batch_builder.h"
#include "engine/kv_cache_manager.h"
#include "engine/kv_cache_sizing.h"
#include "engine/output_processor.h"
#include "engine/request_queue.h"
#include "engine/scheduler.h"
#include "engine/speculative/speculator.h"
#include "engine/token_stream.h"

namespace gptoss {
namespace {

KvCachePlan plan_for(const EngineConfig& config, const ModelRunner& runner) {
    config.validate();
    const int64_t budget = config.kv_cache_memory_bytes.value_or(runner.default_kv_cache_bytes(config));
    return plan_kv_cache(config, runner.config(), runner.kv_bytes_per_token_per_layer(), budget);
}

// The runner's result must match the batch before the scheduler trusts it.
void check_step_output(const BatchInputs& in, const StepOutput& out, int32_t vocab_size) {
    const int R = in.num_sampled_rows();
    if (out.sampled_tokens.size() != size_t(R)) {
        throw std::runtime_error(fmt::format("the runner returned {} sampled tokens for {} sampled rows",
                                             out.sampled_tokens.size(), R));
    }
    bool want_logprobs = false;
    for (int r = 0; r < R; ++r) {
        const int32_t token = out.sampled_tokens[size_t(r)];
        if (token < 0 || token >= vocab_size) {
            throw std::runtime_error(
                fmt::format("the runner sampled token {} outside the vocabulary", token));
        }
        want_logprobs = want_logprobs || in.sampling[size_t(in.sample_seq[size_t(r)])].params->logprobs;
    }
    if (want_logprobs && out.logprobs.size() != size_t(R)) {
        throw std::runtime_error("the runner returned no logprobs although a sequence asked for them");
    }
}

}  // namespace

class Engine::Impl {
public:
    Impl(const EngineConfig& config, std::unique_ptr<ModelRunner> runner,
         std::shared_ptr<const Tokenizer> tokenizer, std::shared_ptr<const DraftProposer> draft_proposer)
        : config_(config),
          runner_(std::move(runner)),
          tokenizer_(std::move(tokenizer)),
          plan_(plan_for(config_, *runner_)),
          kv_(KvCacheSpec{config_.block_size, plan_.layout.num_full_blocks, plan_.layout.num_window_blocks,
                          plan_.has_full_layers, plan_.sliding_window, config_.enable_prefix_caching}),
          scheduler_(
              SchedulerConfig{config_.max_num_seqs, config_.max_num_batched_tokens, plan_.max_model_len},
              kv_),
          queue_(config_.max_queued_requests),
          speculator_(config_, std::move(draft_proposer)) {
        runner_->allocate_kv_cache(plan_.layout);
        log_capacity();
        publish_stats();
        thread_ = std::thread([this] { run(); });
    }

    ~Impl() {
        queue_.stop();
        thread_.join();
    }

    std::shared_ptr<TokenStream> submit(Request request) {
        validate(request);
        auto stream = std::make_shared<BlockingTokenStream>();
        queue_.submit(Submission{std::move(request), stream});
        return stream;
    }
    void abort(RequestId id) { queue_.abort(id); }
    void begin_shutdown() { queue_.close(); }
    int num_unfinished() const { return queue_.num_unfinished(); }
    EngineStats stats() const {
        std::lock_guard lock(stats_mutex_);
        EngineStats s = stats_;
        s.num_waiting = queue_.num_waiting();
        return s;
    }
    const KvCapacity& capacity() const { return plan_.capacity; }
    const ModelConfig& model_config() const { return runner_->config(); }
    int max_model_len() const { return plan_.max_model_len; }
    const EngineConfig& config() const { return config_; }

private:
    struct Active {
        std::shared_ptr<Sequence> seq;
        std::shared_ptr<BlockingTokenStream> stream;
        OutputProcessor output;
    };

    void log_capacity() const {
        const KvCapacity& c = plan_.capacity;
        if (plan_.max_model_len_lowered) {
            spdlog::warn(
                "max_model_len lowered to what the KV cache holds max_model_len={} "
                "(raise --kv-cache-memory or set --max-model-len)",
                plan_.max_model_len);
        }
        if (plan_.window_pool_capped) {
            spdlog::info("windowed KV pool capped at half the budget window_blocks={}", c.num_window_blocks);
        }
        spdlog::info(
            "kv cache ready backend={} block_size={} full_blocks={} window_blocks={} max_cached_tokens={} "
            "max_model_len={} max_full_length_seqs={} prefix_caching={}",
            runner_->backend_name(), c.block_size, c.num_full_blocks, c.num_window_blocks,
            c.max_cached_tokens, c.max_model_len, c.max_full_length_seqs, config_.enable_prefix_caching);
    }

    void validate(const Request& r) const {
        auto invalid = [](std::string message) {
            return EngineError(EngineError::Kind::kInvalid, std::move(message));
        };
        const int num_prompt = static_cast<int>(r.prompt_token_ids.size());
        if (num_prompt == 0) throw invalid("the prompt is empty");
        if (r.stop.max_tokens < 1)
            throw invalid(fmt::format("max_tokens must be at least 1, got {}", r.stop.max_tokens));
        if (int64_t(num_prompt) + r.stop.max_tokens > plan_.max_model_len) {
            throw invalid(fmt::format(
                "the prompt has {} tokens and max_tokens is {}: together {} tokens, more than the maximum "
                "context "
                "length of {} tokens",
                num_prompt, r.stop.max_tokens, int64_t(num_prompt) + r.stop.max_tokens, plan_.max_model_len));
        }
        const int32_t vocab = runner_->config().vocab_size;
        for (int i = 0; i < num_prompt; ++i) {
            const int32_t id = r.prompt_token_ids[size_t(i)];
            if (id < 0 || id >= vocab) {
                throw invalid(fmt::format(
                    "prompt token id {} at position {} is outside the vocabulary (0..{})", id, i, vocab - 1));
            }
        }
        for (const auto& [id, bias] : r.sampling.logit_bias) {
            if (id < 0 || id >= vocab) {
                throw invalid(
                    fmt::format("logit_bias token id {} is outside the vocabulary (0..{})", id, vocab - 1));
            }
        }
        if (r.sampling.top_logprobs < 0 || r.sampling.top_logprobs > 20) {
            throw invalid(
                fmt::format("top_logprobs must be between 0 and 20, got {}", r.sampling.top_logprobs));
        }
        if (!tokenizer_ && !r.stop.stop_strings.empty()) throw invalid("stop strings need the tokenizer");
    }

    void run() {
        while (true) {
            RequestQueue::Drained inbox = queue_.drain(scheduler_.has_unfinished());
            try {
                for (Submission& s : inbox.submissions) admit(std::move(s));
                for (RequestId id : inbox.aborts) end_request(id, FinishReason::kAbort, {});
                queue_.set_num_scheduler_waiting(scheduler_.num_waiting());
                if (inbox.stop) {
                    while (!active_.empty()) end_request(active_.begin()->first, FinishReason::kAbort, {});
                    return;
                }
                if (scheduler_.has_unfinished()) step();
            } catch (const std::exception& e) {
                spdlog::error("engine step failed; failing all requests error=\"{}\"", e.what());
                fail_all(fmt::format("internal engine error: {}", e.what()));
            } catch (...) {
                spdlog::error("engine step failed; failing all requests");
                fail_all("internal engine error");
            }
            queue_.set_num_scheduler_waiting(scheduler_.num_waiting());
            publish_stats();
        }
    }

    void admit(Submission s) {
        const RequestId id = s.request.id;
        const bool want_logprobs = s.request.sampling.logprobs;
        try {
            auto seq = std::make_shared<Sequence>(std::move(s.request), next_arrival_++);
            Active active{seq, s.stream, OutputProcessor(tokenizer_, seq->stop, want_logprobs)};
            scheduler_.add(seq);
            active_.emplace(id, std::move(active));
        } catch (const std::exception& e) {
            TokenEvent event;
            event.finished = true;
            event.finish_reason = FinishReason::kError;
            event.error = e.what();
            s.stream->push(std::move(event));
            queue_.on_finished(id);
        }
    }

    // Ends a request without a new token (abort, error) and frees its pages now.
    void end_request(RequestId id, FinishReason reason, std::string error) {
        auto it = active_.find(id);
        if (it == active_.end()) return;  // already finished
        Active& a = it->second;
        scheduler_.finish(*a.seq, reason);
        a.stream->push(a.output.on_finish(*a.seq, reason, std::move(error)));
        active_.erase(it);
        queue_.on_finished(id);
    }

    void fail_all(const std::string& error) {
        for (auto& [id, a] : active_) {
            try {
                scheduler_.finish(*a.seq, FinishReason::kError);
            } catch (const std::exception& e) {
                spdlog::error("could not free a failed request id={} error=\"{}\"", id, e.what());
            }
            a.stream->push(a.output.on_finish(*a.seq, FinishReason::kError, error));
            queue_.on_finished(id);
        }
        active_.clear();
    }

    void step() {
        speculator_.propose(scheduler_.running());
        ScheduledBatch batch = scheduler_.schedule();
        queue_.set_num_scheduler_waiting(scheduler_.num_waiting());  // admitted ones no longer wait
        if (batch.empty()) {
            // Nothing runs and the head of the queue cannot get its pages: it never will (the pools are sized
            // for one max-length sequence, so this means a bug, not load). Fail it rather than spin.
            if (batch.num_preempted == 0 && scheduler_.num_running() == 0 && scheduler_.num_waiting() > 0) {
                const auto head = scheduler_.live_sequences().front();
                spdlog::error("request does not fit in the KV cache id={} tokens={}", head->id,
                              head->num_tokens());
                end_request(head->id, FinishReason::kError, "the request does not fit in the KV cache");
            }
            return;
        }
        uint64_t num_prompt_tokens = 0;
        for (const ScheduledSequence& e : batch.entries) {
            const int start = e.seq->num_computed_tokens, end = start + e.num_new_tokens;
            const int p = e.seq->num_prompt_tokens;
            num_prompt_tokens += uint64_t(std::min(end, p) - std::min(start, p));
        }
        const BatchInputs inputs = build_batch_inputs(batch, config_.block_size);
        StepOutput output;
        try {
            output = runner_->execute(inputs);
            check_step_output(inputs, output, runner_->config().vocab_size);
        } catch (const std::exception& e) {
            spdlog::error("model step failed; failing its requests error=\"{}\" seqs={} tokens={}", e.what(),
                          inputs.num_seqs, inputs.num_tokens);
            const std::string message = fmt::format("the model failed: {}", e.what());
            for (const ScheduledSequence& entry : batch.entries)
                end_request(entry.seq->id, FinishReason::kError, message);
            return;
        }
        const std::vector<SequenceOutput> outputs = scheduler_.update(batch, output);
        prompt_tokens_total_ += num_prompt_tokens;
        generation_tokens_total_ += outputs.size();
        ++num_steps_;
        step_tokens_total_ += uint64_t(batch.num_tokens);

        for (const SequenceOutput& o : outputs) {
            auto it = active_.find(o.seq->id);
            if (it == active_.end()) continue;
            Active& a = it->second;
            std::optional<TokenEvent> event = a.output.on_token(*o.seq, o.token, o.logprob, o.finish_reason);
            if (a.output.stopped_by_string()) scheduler_.finish(*o.seq, FinishReason::kStop);
            if (!event) continue;
            const bool finished = event->finished;
            a.stream->push(std::move(*event));
            if (finished) {
                active_.erase(it);
                queue_.on_finished(o.seq->id);
            }
        }
    }

    void publish_stats() {
        const KvUsage u = kv_.usage();
        std::lock_guard lock(stats_mutex_);
        stats_.num_running = scheduler_.num_running();
        stats_.num_full_blocks = u.num_full_blocks;
        stats_.num_full_blocks_used = u.num_full_blocks_used;
        stats_.num_window_blocks = u.num_window_blocks;
        stats_.num_window_blocks_used = u.num_window_blocks_used;
        stats_.prefix_cache_queries = u.prefix_cache_queries;
        stats_.prefix_cache_hits = u.prefix_cache_hits;
        stats_.num_preemptions = scheduler_.num_preemptions();
        stats_.spec_draft_tokens_total = scheduler_.num_draft_tokens();
        stats_.spec_accepted_tokens_total = scheduler_.num_accepted_draft_tokens();
        stats_.prompt_tokens_total = prompt_tokens_total_;
        stats_.generation_tokens_total = generation_tokens_total_;
        stats_.num_steps = num_steps_;
        stats_.step_tokens_total = step_tokens_total_;
    }

    const EngineConfig config_;
    const std::unique_ptr<ModelRunner> runner_;
    const std::shared_ptr<const Tokenizer> tokenizer_;
    const KvCachePlan plan_;
    KvCacheManager kv_;
    Scheduler scheduler_;
    RequestQueue queue_;
    const Speculator speculator_;

    // Engine thread only.
    std::unordered_map<RequestId, Active> active_;
    uint64_t next_arrival_ = 0;
    uint64_t prompt_tokens_total_ = 0, generation_tokens_total_ = 0, num_steps_ = 0, step_tokens_total_ = 0;

    mutable std::mutex stats_mutex_;
    EngineStats stats_;
    std::thread thread_;
};

Engine::Engine(const EngineConfig& config, std::unique_ptr<ModelRunner> runner,
               std::shared_ptr<const Tokenizer> tokenizer,
               std::shared_ptr<const DraftProposer> draft_proposer) {
    if (!runner) throw std::invalid_argument("Engine: no model runner");
    impl_ =
        std::make_unique<Impl>(config, std::move(runner), std::move(tokenizer), std::move(draft_proposer));
}

Engine::~Engine() = default;

std::shared_ptr<TokenStream> Engine::submit(Request request) {
    return impl_->submit(std::move(request));
}
void Engine::abort(RequestId id) {
    impl_->abort(id);
}
void Engine::begin_shutdown() {
    impl_->begin_shutdown();
}
int Engine::num_unfinished() const {
    return impl_->num_unfinished();
}
EngineStats Engine::stats() const {
    return impl_->stats();
}
KvCapacity Engine::capacity() const {
    return impl_->capacity();
}
const ModelConfig& Engine::model_config() const {
    return impl_->model_config();
}
int Engine::max_model_len() const {
    return impl_->max_model_len();
}
const EngineConfig& Engine::config() const {
    return impl_->config();
}

}  // namespace gptoss
