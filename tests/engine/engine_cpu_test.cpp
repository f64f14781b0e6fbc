// The Engine with the CPU runner on ../shared/fixtures/tiny-gptoss (sliding window 16, so the windowed pool
// releases pages constantly): requests run concurrently produce exactly the tokens each produces alone -
// greedy and seeded sampling, with prefix-cache hits, and with preemption forced by a small KV cache - and
// the golden greedy continuations of transformers come out of the engine unchanged.
#include <random>

#include <gtest/gtest.h>

#include "engine/cpu/cpu_runner.h"
#include "engine/engine.h"
#include "engine/kv_cache_sizing.h"
#include "tests/engine/golden_test_util.h"
#include "tests/support/fixture.h"
#include "tokenizer/tokenizer.h"

namespace gptoss::testing {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const ModelWeights> tiny_weights() {
    static const std::shared_ptr<const ModelWeights> weights = [] {
        const auto dir = tiny_gptoss_dir();
        return std::shared_ptr<const ModelWeights>(ModelWeights::load(dir, ModelConfig::from_file(dir)));
    }();
    return weights;
}

constexpr int kMaxModelLen = 192;

// Block size 4 and a 32-token step budget: long prompts are chunked and interleave with decodes.
EngineConfig tiny_engine_config(int num_full_blocks, bool prefix_caching) {
    EngineConfig c;
    c.block_size = 4;
    c.max_num_seqs = 8;
    c.max_num_batched_tokens = 32;
    c.max_model_len = kMaxModelLen;
    c.enable_prefix_caching = prefix_caching;
    const ModelConfig& m = tiny_weights()->config();
    const int64_t bytes_per_block =
        int64_t(c.block_size) * 2 /*layers per pool*/ * 2 * m.kv_dim() * 4 /*f32*/;
    const int window_blocks = window_pool_bound(m.sliding_window, c.block_size, c.max_num_seqs,
                                                c.max_num_batched_tokens, kMaxModelLen);
    c.kv_cache_memory_bytes = (window_blocks + num_full_blocks) * bytes_per_block;
    return c;
}

constexpr int kRoomyFullBlocks = 8 * kMaxModelLen / 4;  // every sequence at full length at once
constexpr int kTightFullBlocks = kMaxModelLen / 4 + 6;  // one full-length sequence and a little

struct RunResult {
    std::vector<std::vector<int32_t>> tokens;
    EngineStats stats;
};

std::vector<int32_t> collect_tokens(TokenStream& stream, FinishReason* reason) {
    std::vector<int32_t> ids;
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
        for (const TokenEvent& e : stream.wait(200ms)) {
            ids.insert(ids.end(), e.token_ids.begin(), e.token_ids.end());
            if (e.finished) {
                *reason = e.finish_reason;
                return ids;
            }
        }
    }
    ADD_FAILURE() << "stream did not finish";
    return ids;
}

// Runs the requests through one engine, all submitted at once or one after another.
RunResult run(const EngineConfig& config, const std::vector<Request>& requests, bool concurrently) {
    Engine engine(config, make_cpu_runner(tiny_weights(), 1), nullptr);
    RunResult result;
    result.tokens.resize(requests.size());
    std::vector<std::shared_ptr<TokenStream>> streams(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
        streams[i] = engine.submit(requests[i]);
        if (!concurrently) {
            FinishReason reason;
            result.tokens[i] = collect_tokens(*streams[i], &reason);
            EXPECT_NE(reason, FinishReason::kError);
        }
    }
    if (concurrently) {
        for (size_t i = 0; i < requests.size(); ++i) {
            FinishReason reason;
            result.tokens[i] = collect_tokens(*streams[i], &reason);
            EXPECT_NE(reason, FinishReason::kError);
        }
    }
    // Stats are published after the step that finished the last request.
    for (int i = 0; i < 200 && engine.stats().num_full_blocks_used != 0; ++i)
        std::this_thread::sleep_for(5ms);
    result.stats = engine.stats();
    EXPECT_EQ(result.stats.num_full_blocks_used, 0);
    EXPECT_EQ(result.stats.num_window_blocks_used, 0);
    return result;
}

std::vector<Request> random_requests(int n, int shared_prefix_len, uint64_t seed, bool sampled) {
    std::mt19937_64 rng(seed);
    auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::vector<int32_t> prefix;
    for (int i = 0; i < shared_prefix_len; ++i) prefix.push_back(uniform(0, 1000));
    std::vector<Request> requests;
    for (int i = 0; i < n; ++i) {
        Request r;
        r.id = RequestId(i + 1);
        r.prompt_token_ids = prefix;
        for (int k = uniform(1, 60); k > 0; --k) r.prompt_token_ids.push_back(uniform(0, 1000));
        r.sampling.temperature = sampled ? 0.8f : 0.0f;
        r.sampling.top_p = sampled ? 0.95f : 1.0f;
        r.sampling.seed = 1000 + uint64_t(i);
        r.stop.max_tokens = uniform(4, 16);
        r.stop.stop_token_ids = {1022};  // the model's EOS, as the server passes it for completions
        requests.push_back(std::move(r));
    }
    return requests;
}

TEST(EngineCpu, GoldenGreedyContinuationsComeOutOfTheEngineConcurrently) {
    GoldenFile golden(tiny_gptoss_dir() / "golden.safetensors");
    std::vector<Request> requests;
    std::vector<std::vector<int32_t>> expected;
    for (const std::string& name : golden.cases()) {
        if (!golden.has(name + ".greedy_f32")) continue;
        Request r;
        r.id = RequestId(requests.size() + 1);
        r.prompt_token_ids = golden.read<int32_t>(name + ".input_ids");
        expected.push_back(golden.read<int32_t>(name + ".greedy_f32"));
        r.sampling.temperature = 0.0f;
        r.stop.max_tokens =
            static_cast<int>(expected.back().size());  // no stop ids: transformers ignored EOS
        requests.push_back(std::move(r));
    }
    ASSERT_GE(requests.size(), 4u);
    const RunResult result = run(tiny_engine_config(kRoomyFullBlocks, true), requests, true);
    for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(result.tokens[i], expected[i]) << "case " << i;
}

// The trained toy model with the real vocabulary: chat prompts run together end at <|return|> or <|call|>
// (the stop ids the server passes for harmony chat) with exactly transformers' greedy tokens.
TEST(EngineCpu, ToyHarmonyGreedyAnswersStopAtTheHarmonyStopTokens) {
    const auto dir = toy_harmony_dir();
    std::shared_ptr<const ModelWeights> weights(ModelWeights::load(dir, ModelConfig::from_file(dir)));
    const auto tokenizer = Tokenizer::from_file(dir / "tokenizer.json");
    const int32_t ret = *tokenizer->special_token_id("<|return|>"),
                  call = *tokenizer->special_token_id("<|call|>");
    const nlohmann::json golden = read_json(dir / "golden.json");
    EngineConfig config;
    config.max_num_batched_tokens = 256;
    config.max_model_len = 512;
    config.kv_cache_memory_bytes = int64_t(64) << 20;
    Engine engine(config, make_cpu_runner(weights, 1), tokenizer);
    std::vector<std::shared_ptr<TokenStream>> streams;
    std::vector<std::vector<int32_t>> expected;
    for (size_t i = 0; i < golden["cases"].size() && i < 12; ++i) {
        const nlohmann::json& c = golden["cases"][i];
        Request r;
        r.id = RequestId(i + 1);
        r.prompt_token_ids = c["prompt_ids"].get<std::vector<int32_t>>();
        r.sampling.temperature = 0.0f;
        r.stop.max_tokens = 64;
        r.stop.stop_token_ids = {ret, call};
        expected.push_back(c["greedy_ids"].get<std::vector<int32_t>>());
        streams.push_back(engine.submit(std::move(r)));
    }
    for (size_t i = 0; i < streams.size(); ++i) {
        FinishReason reason = FinishReason::kNone;
        EXPECT_EQ(collect_tokens(*streams[i], &reason), expected[i]) << "case " << i;
        EXPECT_EQ(reason, FinishReason::kStop) << "case " << i;
    }
}

TEST(EngineCpu, ConcurrentGreedyRequestsMatchEachRunAlone) {
    const auto requests = random_requests(8, 0, 7, false);
    const RunResult alone = run(tiny_engine_config(kRoomyFullBlocks, false), requests, false);
    const RunResult together = run(tiny_engine_config(kRoomyFullBlocks, false), requests, true);
    for (size_t i = 0; i < requests.size(); ++i) {
        EXPECT_EQ(together.tokens[i], alone.tokens[i]) << "request " << i;
        EXPECT_FALSE(alone.tokens[i].empty());
    }
    EXPECT_EQ(together.stats.num_preemptions, 0u);
}

TEST(EngineCpu, PrefixCacheHitsDoNotChangeTheTokens) {
    const auto requests = random_requests(8, 37, 11, false);
    const RunResult alone = run(tiny_engine_config(kRoomyFullBlocks, false), requests, false);
    const RunResult cached = run(tiny_engine_config(kRoomyFullBlocks, true), requests, false);
    const RunResult together = run(tiny_engine_config(kRoomyFullBlocks, true), requests, true);
    for (size_t i = 0; i < requests.size(); ++i) {
        EXPECT_EQ(cached.tokens[i], alone.tokens[i]) << "request " << i;
        EXPECT_EQ(together.tokens[i], alone.tokens[i]) << "request " << i;
    }
    // One after another, every request after the first reuses at least the shared prefix's 9 full blocks.
    EXPECT_GE(cached.stats.prefix_cache_hits, 7u * 36u);
    EXPECT_GT(together.stats.prefix_cache_hits, 0u);
    EXPECT_EQ(alone.stats.prefix_cache_hits, 0u);
}

TEST(EngineCpu, ForcedPreemptionDoesNotChangeTheTokens) {
    auto requests = random_requests(8, 20, 13, false);
    for (Request& r : requests) {
        r.stop.max_tokens = 40;
        r.stop.stop_token_ids.clear();  // run to length, so sequences grow and pages run out
    }
    const RunResult alone = run(tiny_engine_config(kRoomyFullBlocks, false), requests, false);
    const RunResult preempted = run(tiny_engine_config(kTightFullBlocks, true), requests, true);
    for (size_t i = 0; i < requests.size(); ++i)
        EXPECT_EQ(preempted.tokens[i], alone.tokens[i]) << "request " << i;
    EXPECT_GT(preempted.stats.num_preemptions, 0u);
}

TEST(EngineCpu, SeededSamplingDoesNotDependOnTheBatch) {
    const auto requests = random_requests(6, 12, 17, true);
    const RunResult alone = run(tiny_engine_config(kRoomyFullBlocks, false), requests, false);
    const RunResult together = run(tiny_engine_config(kTightFullBlocks, true), requests, true);
    for (size_t i = 0; i < requests.size(); ++i)
        EXPECT_EQ(together.tokens[i], alone.tokens[i]) << "request " << i;
}

}  // namespace
}  // namespace gptoss::testing
