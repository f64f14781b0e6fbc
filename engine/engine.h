// Engine: the public face of the engine module (what the server sees).
//
// One engine thread owns the Scheduler, the KvCacheManager and the ModelRunner; nothing else touches them.
// HTTP threads submit requests to a thread-safe inbox and read per-request TokenStreams. abort() takes
// effect at the start of the next step and frees the request's KV pages.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/engine_config.h"
#include "engine/model_runner.h"
#include "engine/request.h"
#include "engine/speculative/draft_proposer.h"

namespace gptoss {

class Tokenizer;

// A request the engine refuses at submit(). kInvalid: the request itself is wrong (HTTP 400);
// kOverloaded: too many waiting requests (HTTP 503); kShuttingDown: no new work accepted (HTTP 503).
class EngineError : public std::runtime_error {
public:
    enum class Kind { kInvalid, kOverloaded, kShuttingDown };
    EngineError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

// Per-request outbox. The engine thread appends; one consumer reads.
class TokenStream {
public:
    virtual ~TokenStream() = default;
    // Waits up to `timeout` for new events and returns all that are queued (empty on timeout).
    // After the event with finished == true has been returned, further calls return empty at once.
    virtual std::vector<TokenEvent> wait(std::chrono::milliseconds timeout) = 0;
    virtual bool finished() const = 0;
};

// Snapshot for /metrics and logs.
struct EngineStats {
    int num_running = 0;
    int num_waiting = 0;
    int num_full_blocks = 0, num_full_blocks_used = 0;
    int num_window_blocks = 0, num_window_blocks_used = 0;
    uint64_t prefix_cache_queries = 0;  // prompt tokens looked up
    uint64_t prefix_cache_hits = 0;     // of which found cached
    uint64_t num_preemptions = 0;
    uint64_t prompt_tokens_total = 0;  // prompt tokens computed (not cached)
    uint64_t generation_tokens_total = 0;
    uint64_t num_steps = 0;
    uint64_t step_tokens_total = 0;           // tokens processed over all steps
    uint64_t spec_draft_tokens_total = 0;     // draft tokens verified (speculative decoding)
    uint64_t spec_accepted_tokens_total = 0;  // of which accepted
};

// What fits in the KV budget, logged at start.
struct KvCapacity {
    int block_size = 0;
    int num_full_blocks = 0;
    int num_window_blocks = 0;
    int64_t max_cached_tokens = 0;  // tokens of context the full pool holds
    int max_full_length_seqs = 0;   // sequences of max_model_len that fit at once
    int max_model_len = 0;
};

class Engine {
public:
    // Sizes and allocates the KV cache, then starts the engine thread. `draft_proposer` replaces prompt
    // lookup as the source of draft tokens when config.num_speculative_tokens > 0 (null: prompt lookup).
    Engine(const EngineConfig& config, std::unique_ptr<ModelRunner> runner,
           std::shared_ptr<const Tokenizer> tokenizer,
           std::shared_ptr<const DraftProposer> draft_proposer = nullptr);
    ~Engine();  // aborts what is left and joins the thread
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Queues a request. Throws EngineError when it is invalid (empty prompt, prompt + max_tokens longer than
    // max_model_len, token ids outside the vocabulary), when the queue is full, or after begin_shutdown().
    std::shared_ptr<TokenStream> submit(Request request);
    // Cancels a request (a no-op when it already finished). Its stream ends with FinishReason::kAbort.
    void abort(RequestId id);
    // Stops accepting new requests; running ones continue.
    void begin_shutdown();
    // Requests submitted and not yet finished.
    int num_unfinished() const;

    EngineStats stats() const;
    KvCapacity capacity() const;
    const ModelConfig& model_config() const;
    int max_model_len() const;
    const EngineConfig& config() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gptoss
