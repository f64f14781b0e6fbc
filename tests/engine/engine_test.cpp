// Engine tests without a model: MirrorRunner is a ModelRunner whose "model" is the KvMirror of the scheduler
// tests (it checks every step's KV addressing by content and samples tokens from (seed, output_index)), with
// hooks to hold a step (to fill the queue deterministically) and to throw from a step.
#include "engine/engine.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/engine/scheduler_harness.h"
#include "tests/support/fixture.h"
#include "tokenizer/tokenizer.h"

namespace gptoss::testing {
namespace {

using namespace std::chrono_literals;

ModelConfig mirror_model(int32_t vocab_size) {
    ModelConfig m;
    m.num_hidden_layers = 2;
    m.layer_types = {LayerType::kSlidingAttention, LayerType::kFullAttention};
    m.sliding_window = 8;
    m.vocab_size = vocab_size;
    m.max_position_embeddings = 4096;
    return m;
}

class MirrorRunner final : public ModelRunner {
public:
    explicit MirrorRunner(int32_t vocab_size) : config_(mirror_model(vocab_size)) {}

    const ModelConfig& config() const override { return config_; }
    std::string_view backend_name() const override { return "mirror"; }
    size_t kv_bytes_per_token_per_layer() const override { return 1; }
    int64_t default_kv_cache_bytes(const EngineConfig&) const override { return 4096; }
    void allocate_kv_cache(const KvCacheLayout& layout) override {
        layout_ = layout;
        mirror_ = std::make_unique<KvMirror>(
            KvCacheSpec{layout.block_size, layout.num_full_blocks, layout.num_window_blocks, true,
                        config_.sliding_window, true},
            config_.vocab_size);
        mirror_->token_fn = token_fn;
    }
    StepOutput execute(const BatchInputs& inputs) override {
        {
            std::unique_lock lock(mutex_);
            ++num_steps_;
            changed_.notify_all();
            changed_.wait(lock, [&] { return !hold_; });
        }
        std::this_thread::sleep_for(step_delay);
        for (const SequenceSampling& s : inputs.sampling) {
            if (fail_seeds.count(s.params->seed)) throw std::runtime_error("injected runner failure");
        }
        StepOutput out = mirror_->execute(inputs);
        for (int r = 0; r < inputs.num_sampled_rows(); ++r) {
            if (inputs.sampling[size_t(inputs.sample_seq[size_t(r)])].params->logprobs) {
                out.logprobs.resize(size_t(inputs.num_sampled_rows()));
                out.logprobs[size_t(r)] = TokenLogprob{out.sampled_tokens[size_t(r)], -1.0f, {}};
            }
        }
        return out;
    }

    // Steps block in execute() until release().
    void hold() {
        std::lock_guard lock(mutex_);
        hold_ = true;
    }
    void release() {
        std::lock_guard lock(mutex_);
        hold_ = false;
        changed_.notify_all();
    }
    // Waits until the first step has entered execute().
    void wait_for_first_step() {
        std::unique_lock lock(mutex_);
        ASSERT_TRUE(changed_.wait_for(lock, 10s, [&] { return num_steps_ > 0; }));
    }

    std::set<uint64_t> fail_seeds;  // a batch with one of these seeds throws
    std::chrono::milliseconds step_delay{0};
    std::function<int32_t(uint64_t, int32_t)> token_fn;
    KvCacheLayout layout_;

private:
    ModelConfig config_;
    std::unique_ptr<KvMirror> mirror_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool hold_ = false;
    int num_steps_ = 0;
};

EngineConfig small_engine_config() {
    EngineConfig c;
    c.block_size = 4;
    c.max_num_seqs = 8;
    c.max_num_batched_tokens = 32;
    c.max_model_len = 128;
    // 1 byte per token and layer, one layer per pool: 4-byte blocks. Windowed pool: the bound for 8 sequences
    // and 32 tokens (36 blocks); the full pool gets the rest: 64 blocks.
    c.kv_cache_memory_bytes = 36 * 4 + 64 * 4;
    c.max_queued_requests = 16;
    return c;
}

Request make_request(RequestId id, int prompt_len, int max_tokens) {
    Request r;
    r.id = id;
    r.prompt_token_ids = make_prompt(prompt_len, static_cast<int32_t>(id * 7));
    r.sampling.seed = id;
    r.stop.max_tokens = max_tokens;
    return r;
}

// All events of a stream up to the finished one.
std::vector<TokenEvent> collect(TokenStream& stream) {
    std::vector<TokenEvent> all;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        for (TokenEvent& e : stream.wait(100ms)) all.push_back(std::move(e));
        if (!all.empty() && all.back().finished) return all;
    }
    ADD_FAILURE() << "stream did not finish";
    all.emplace_back().finished = true;  // callers read back()
    return all;
}

std::vector<int32_t> tokens_of(const std::vector<TokenEvent>& events) {
    std::vector<int32_t> ids;
    for (const auto& e : events) ids.insert(ids.end(), e.token_ids.begin(), e.token_ids.end());
    return ids;
}

std::vector<int32_t> fake_tokens(uint64_t seed, int n, int32_t vocab) {
    std::vector<int32_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(fake_token(seed, i, vocab));
    return ids;
}

// Stats are published after each step: wait until every page is back.
void expect_pages_return(const Engine& engine) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    EngineStats s;
    do {
        s = engine.stats();
        if (s.num_full_blocks_used == 0 && s.num_window_blocks_used == 0 && s.num_running == 0) return;
        std::this_thread::sleep_for(5ms);
    } while (std::chrono::steady_clock::now() < deadline);
    ADD_FAILURE() << "pages still used: full " << s.num_full_blocks_used << " window "
                  << s.num_window_blocks_used;
}

struct EngineUnderTest {
    explicit EngineUnderTest(EngineConfig config = small_engine_config(), int32_t vocab = 1000,
                             std::shared_ptr<const Tokenizer> tokenizer = nullptr,
                             std::function<void(MirrorRunner&)> setup = {}) {
        auto r = std::make_unique<MirrorRunner>(vocab);
        if (setup) setup(*r);
        runner = r.get();
        engine = std::make_unique<Engine>(config, std::move(r), std::move(tokenizer));
    }
    ~EngineUnderTest() {
        runner->release();  // a failed assertion must not leave the engine thread held
        engine.reset();
    }
    MirrorRunner* runner;
    std::unique_ptr<Engine> engine;
};

TEST(Engine, SizesTheKvCacheAndReportsCapacity) {
    EngineUnderTest t;
    const KvCapacity c = t.engine->capacity();
    EXPECT_EQ(c.num_window_blocks, 36);
    EXPECT_EQ(c.num_full_blocks, 64);
    EXPECT_EQ(c.max_cached_tokens, 256);
    EXPECT_EQ(c.max_full_length_seqs, 2);
    EXPECT_EQ(t.runner->layout_.num_full_blocks, 64);
    EXPECT_EQ(t.engine->max_model_len(), 128);
}

TEST(Engine, ConcurrentRequestsStreamTheirTokensAndFreeTheirPages) {
    EngineUnderTest t;
    std::vector<std::shared_ptr<TokenStream>> streams;
    for (RequestId id = 1; id <= 12; ++id)
        streams.push_back(t.engine->submit(make_request(id, 5 + int(id) * 3, 20)));
    for (RequestId id = 1; id <= 12; ++id) {
        const auto events = collect(*streams[id - 1]);
        EXPECT_EQ(tokens_of(events), fake_tokens(id, 20, 1000)) << "request " << id;
        EXPECT_EQ(events.back().finish_reason, FinishReason::kLength);
        EXPECT_EQ(events.back().num_output_tokens, 20);
        EXPECT_EQ(events.back().num_prompt_tokens, 5 + int(id) * 3);
        EXPECT_TRUE(streams[id - 1]->finished());
        EXPECT_TRUE(streams[id - 1]->wait(1ms).empty());
    }
    expect_pages_return(*t.engine);
    const EngineStats s = t.engine->stats();
    EXPECT_EQ(s.generation_tokens_total, 12u * 20u);
    EXPECT_GT(s.num_steps, 0u);
    EXPECT_EQ(s.num_waiting, 0);
    EXPECT_EQ(t.engine->num_unfinished(), 0);
}

TEST(Engine, PreemptionUnderASmallCacheIsInvisibleToClients) {
    EngineConfig c = small_engine_config();
    c.kv_cache_memory_bytes = 36 * 4 + 34 * 4;  // 34 full blocks: one 128-token sequence and a little
    EngineUnderTest t(c);
    std::vector<std::shared_ptr<TokenStream>> streams;
    // All six are queued before the second step, so that they run side by side and outgrow the cache (when
    // the engine thread ran ahead of the submissions, the first requests could finish alone: ~5% flaky).
    t.runner->hold();
    streams.push_back(t.engine->submit(make_request(1, 30, 60)));
    t.runner->wait_for_first_step();
    for (RequestId id = 2; id <= 6; ++id) streams.push_back(t.engine->submit(make_request(id, 30, 60)));
    t.runner->release();
    for (RequestId id = 1; id <= 6; ++id)
        EXPECT_EQ(tokens_of(collect(*streams[id - 1])), fake_tokens(id, 60, 1000));
    expect_pages_return(*t.engine);
    EXPECT_GT(t.engine->stats().num_preemptions, 0u);
}

TEST(Engine, RejectsInvalidRequestsWithAClearMessage) {
    EngineUnderTest t;
    auto expect_invalid = [&](Request r, const std::string& fragment) {
        try {
            t.engine->submit(std::move(r));
            ADD_FAILURE() << "accepted a request that should fail with: " << fragment;
        } catch (const EngineError& e) {
            EXPECT_EQ(e.kind(), EngineError::Kind::kInvalid);
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    expect_invalid(make_request(1, 0, 5), "empty");
    expect_invalid(make_request(2, 100, 29), "100 tokens and max_tokens is 29");
    expect_invalid(make_request(3, 4, 0), "max_tokens");
    Request bad_id = make_request(4, 4, 4);
    bad_id.prompt_token_ids[2] = 1000;
    expect_invalid(bad_id, "token id 1000 at position 2");
    bad_id.prompt_token_ids[2] = -1;
    expect_invalid(bad_id, "token id -1");
    Request bias = make_request(5, 4, 4);
    bias.sampling.logit_bias = {{5000, 1.0f}};
    expect_invalid(bias, "logit_bias");
    Request top = make_request(6, 4, 4);
    top.sampling.top_logprobs = 21;
    expect_invalid(top, "top_logprobs");
    Request stops = make_request(7, 4, 4);
    stops.stop.stop_strings = {"x"};
    expect_invalid(stops, "tokenizer");  // this engine has none
    // The boundary itself is fine.
    EXPECT_EQ(tokens_of(collect(*t.engine->submit(make_request(8, 100, 28)))).size(), 28u);
}

TEST(Engine, RefusesWhenTheQueueIsFullAndADuplicateId) {
    EngineConfig c = small_engine_config();
    c.max_queued_requests = 2;
    c.max_num_seqs = 1;
    EngineUnderTest t(c);
    t.runner->hold();
    auto first = t.engine->submit(make_request(1, 4, 3));
    t.runner->wait_for_first_step();  // request 1 is running, held inside the runner
    auto second = t.engine->submit(make_request(2, 4, 3));
    auto third = t.engine->submit(make_request(3, 4, 3));
    try {
        t.engine->submit(make_request(4, 4, 3));
        ADD_FAILURE() << "a third waiting request was accepted";
    } catch (const EngineError& e) {
        EXPECT_EQ(e.kind(), EngineError::Kind::kOverloaded);
    }
    try {
        t.engine->submit(make_request(1, 4, 3));
        ADD_FAILURE() << "a live id was accepted twice";
    } catch (const EngineError& e) {
        EXPECT_EQ(e.kind(), EngineError::Kind::kInvalid);
    }
    t.runner->release();
    EXPECT_EQ(tokens_of(collect(*first)).size(), 3u);
    EXPECT_EQ(tokens_of(collect(*second)).size(), 3u);
    EXPECT_EQ(tokens_of(collect(*third)).size(), 3u);
    // Once finished, the id may be used again.
    EXPECT_EQ(tokens_of(collect(*t.engine->submit(make_request(1, 4, 2)))).size(), 2u);
}

TEST(Engine, AbortEndsTheStreamAndFreesThePages) {
    EngineUnderTest t(small_engine_config(), 1000, nullptr, [](MirrorRunner& r) { r.step_delay = 2ms; });
    auto running = t.engine->submit(make_request(1, 40, 80));
    auto first_events = running->wait(10s);  // at least one token out: it is decoding
    ASSERT_FALSE(first_events.empty());
    ASSERT_FALSE(first_events.back().finished);
    t.engine->abort(1);
    auto events = collect(*running);
    EXPECT_EQ(events.back().finish_reason, FinishReason::kAbort);
    EXPECT_LT(events.back().num_output_tokens, 80);
    t.engine->abort(1);   // already finished: a no-op
    t.engine->abort(99);  // unknown: a no-op
    expect_pages_return(*t.engine);
}

TEST(Engine, AbortWhileQueuedOrMidPrefill) {
    EngineConfig c = small_engine_config();
    c.max_num_seqs = 1;
    EngineUnderTest t(c);
    t.runner->hold();
    auto prefilling = t.engine->submit(make_request(1, 100, 10));  // 100 tokens: several 32-token chunks
    t.runner->wait_for_first_step();
    auto queued = t.engine->submit(make_request(2, 4, 10));
    t.engine->abort(2);
    t.engine->abort(1);
    t.runner->release();
    EXPECT_EQ(collect(*queued).back().finish_reason, FinishReason::kAbort);
    const auto events = collect(*prefilling);
    EXPECT_EQ(events.back().finish_reason, FinishReason::kAbort);
    EXPECT_TRUE(tokens_of(events).empty());
    expect_pages_return(*t.engine);
}

TEST(Engine, RunnerFailureFailsItsRequestsAndTheEngineKeepsServing) {
    EngineUnderTest t(small_engine_config(), 1000, nullptr, [](MirrorRunner& r) { r.fail_seeds = {13}; });
    auto failing = t.engine->submit(make_request(13, 8, 5));
    const auto events = collect(*failing);
    EXPECT_EQ(events.back().finish_reason, FinishReason::kError);
    EXPECT_NE(events.back().error.find("injected runner failure"), std::string::npos) << events.back().error;
    expect_pages_return(*t.engine);
    auto ok = t.engine->submit(make_request(14, 8, 5));
    EXPECT_EQ(tokens_of(collect(*ok)), fake_tokens(14, 5, 1000));
}

TEST(Engine, ShutdownRefusesNewRequestsAndFinishesRunningOnes) {
    EngineUnderTest t;
    auto running = t.engine->submit(make_request(1, 8, 30));
    t.engine->begin_shutdown();
    try {
        t.engine->submit(make_request(2, 8, 3));
        ADD_FAILURE() << "accepted after begin_shutdown";
    } catch (const EngineError& e) {
        EXPECT_EQ(e.kind(), EngineError::Kind::kShuttingDown);
    }
    EXPECT_EQ(tokens_of(collect(*running)), fake_tokens(1, 30, 1000));
}

TEST(Engine, DestructionAbortsUnfinishedRequests) {
    std::shared_ptr<TokenStream> stream;
    {
        EngineUnderTest t(small_engine_config(), 1000, nullptr, [](MirrorRunner& r) { r.step_delay = 5ms; });
        stream = t.engine->submit(make_request(1, 8, 100));  // 100 steps: 0.5 s at least
        t.runner->wait_for_first_step();
    }
    const auto events = collect(*stream);
    EXPECT_EQ(events.back().finish_reason, FinishReason::kAbort);
}

TEST(Engine, StopStringsAndLogprobsReachTheStream) {
    const auto tokenizer = Tokenizer::from_file(toy_harmony_dir() / "tokenizer.json");
    const std::vector<int32_t> script =
        tokenizer->encode_ordinary("Sure. The answer: 42 <END> trailing words");
    EngineUnderTest t(small_engine_config(), tokenizer->vocab_size(), tokenizer, [&](MirrorRunner& r) {
        r.token_fn = [&](uint64_t, int32_t i) { return script[size_t(i)]; };
    });
    Request r = make_request(1, 6, 40);
    r.stop.stop_strings = {"<END>"};
    r.sampling.logprobs = true;
    const auto events = collect(*t.engine->submit(r));
    std::string text;
    size_t num_logprobs = 0;
    for (const auto& e : events) {
        text += e.text;
        num_logprobs += e.logprobs.size();
    }
    EXPECT_EQ(text, "Sure. The answer: 42 ");
    EXPECT_EQ(events.back().finish_reason, FinishReason::kStop);
    EXPECT_EQ(events.back().stop_string, "<END>");
    EXPECT_EQ(num_logprobs, tokens_of(events).size());
    expect_pages_return(*t.engine);
}

}  // namespace
}  // namespace gptoss::testing
