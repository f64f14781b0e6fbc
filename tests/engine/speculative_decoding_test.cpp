// Speculative decoding on the CPU runner: the n-gram proposer; the engine with speculation on gives the
// tokens (and logprobs) it gives with speculation off, greedy and seeded sampling, on the trained toy model;
// and verification keeps the target distribution, checked by a chi-square test against the model's exact
// probabilities with drafts that are accepted about as often as rejected.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "engine/batch_builder.h"
#include "engine/cpu/cpu_runner.h"
#include "engine/engine.h"
#include "engine/scheduler.h"
#include "engine/single_sequence_driver.h"
#include "engine/speculative/ngram_proposer.h"
#include "tests/support/fixture.h"
#include "tokenizer/tokenizer.h"

namespace gptoss::testing {
namespace {

using namespace std::chrono_literals;

TEST(NgramProposer, ProposesWhatFollowedTheMostRecentLongestMatch) {
    const NgramProposer proposer(2, 3);
    // ... 1 2 3 [7 8 9] ... 5 2 3 [4 5 6] ... 2 3: the 3-gram "x 2 3" does not recur, the 2-gram "2 3" does;
    // its most recent earlier occurrence is followed by 4 5 6.
    const std::vector<int32_t> tokens = {1, 2, 3, 7, 8, 9, 5, 2, 3, 4, 5, 6, 0, 2, 3};
    EXPECT_EQ(proposer.propose(tokens, 3), (std::vector<int32_t>{4, 5, 6}));
    EXPECT_EQ(proposer.propose(tokens, 2), (std::vector<int32_t>{4, 5}));
    // The longest n wins over a more recent shorter match: "5 2 3" recurs at the start, "2 3" later.
    const std::vector<int32_t> longer = {5, 2, 3, 10, 11, 9, 2, 3, 12, 5, 2, 3};
    EXPECT_EQ(proposer.propose(longer, 2), (std::vector<int32_t>{10, 11}));
    // A match near the end proposes only what there is.
    EXPECT_EQ(proposer.propose(std::vector<int32_t>{4, 4, 4}, 5), (std::vector<int32_t>{4}));
}

TEST(NgramProposer, ProposesNothingWithoutAMatch) {
    const NgramProposer proposer(2, 4);
    EXPECT_TRUE(proposer.propose(std::vector<int32_t>{1, 2, 3, 4, 5}, 4).empty());
    EXPECT_TRUE(proposer.propose(std::vector<int32_t>{1}, 4).empty());
    EXPECT_TRUE(proposer.propose(std::vector<int32_t>{1, 2, 1, 2}, 0).empty());
    EXPECT_THROW(NgramProposer(0, 2), std::invalid_argument);
    EXPECT_THROW(NgramProposer(3, 2), std::invalid_argument);
}

std::shared_ptr<const ModelWeights> load_weights(const std::filesystem::path& dir) {
    return std::shared_ptr<const ModelWeights>(ModelWeights::load(dir, ModelConfig::from_file(dir)));
}

void collect(TokenStream& stream, std::vector<int32_t>& ids, std::vector<TokenLogprob>& logprobs) {
    const auto deadline = std::chrono::steady_clock::now() + 300s;
    while (std::chrono::steady_clock::now() < deadline) {
        for (const TokenEvent& e : stream.wait(200ms)) {
            ids.insert(ids.end(), e.token_ids.begin(), e.token_ids.end());
            logprobs.insert(logprobs.end(), e.logprobs.begin(), e.logprobs.end());
            EXPECT_NE(e.finish_reason, FinishReason::kError) << e.error;
            if (e.finished) return;
        }
    }
    ADD_FAILURE() << "stream did not finish";
}

struct EngineRun {
    std::vector<std::vector<int32_t>> tokens;
    std::vector<std::vector<TokenLogprob>> logprobs;
    EngineStats stats;
};

EngineRun run_engine(std::shared_ptr<const ModelWeights> weights, std::shared_ptr<const Tokenizer> tokenizer,
                     EngineConfig config, const std::vector<Request>& requests) {
    Engine engine(config, make_cpu_runner(std::move(weights), 1), std::move(tokenizer));
    std::vector<std::shared_ptr<TokenStream>> streams;
    for (const Request& r : requests) streams.push_back(engine.submit(r));
    EngineRun run;
    run.tokens.resize(streams.size());
    run.logprobs.resize(streams.size());
    for (size_t i = 0; i < streams.size(); ++i) collect(*streams[i], run.tokens[i], run.logprobs[i]);
    for (int i = 0; i < 200 && engine.stats().num_full_blocks_used != 0; ++i)
        std::this_thread::sleep_for(5ms);
    run.stats = engine.stats();
    EXPECT_EQ(run.stats.num_full_blocks_used, 0);
    EXPECT_EQ(run.stats.num_window_blocks_used, 0);
    return run;
}

// The toy model's first 16 golden prompts, half greedy and half sampled (seeded, temperature 0.8, top_p
// 0.95, with logprobs), run together: 4 n-gram draft tokens per step change neither the tokens nor their
// logprobs, and save steps.
TEST(SpeculativeDecoding, EngineGivesTheSameTokensAndLogprobsWithAndWithoutDrafts) {
    const auto dir = toy_harmony_dir();
    const auto weights = load_weights(dir);
    const auto tokenizer = Tokenizer::from_file(dir / "tokenizer.json");
    const nlohmann::json golden = read_json(dir / "golden.json");
    std::vector<Request> requests;
    for (size_t i = 0; i < 16; ++i) {
        Request r;
        r.id = RequestId(i + 1);
        r.prompt_token_ids = golden["cases"][i]["prompt_ids"].get<std::vector<int32_t>>();
        r.sampling.temperature = i % 2 == 0 ? 0.0f : 0.8f;
        r.sampling.top_p = i % 2 == 0 ? 1.0f : 0.95f;
        r.sampling.seed = 77 + uint64_t(i);
        r.sampling.logprobs = i % 4 == 1;
        r.sampling.top_logprobs = 2;
        r.stop.max_tokens = 64;
        r.stop.stop_token_ids = {*tokenizer->special_token_id("<|return|>"),
                                 *tokenizer->special_token_id("<|call|>")};
        requests.push_back(std::move(r));
    }
    EngineConfig config;
    config.max_num_seqs = 16;
    config.max_num_batched_tokens = 512;
    config.max_model_len = 1024;
    config.kv_cache_memory_bytes = int64_t(64) << 20;
    const EngineRun off = run_engine(weights, tokenizer, config, requests);
    config.num_speculative_tokens = 4;
    const EngineRun on = run_engine(weights, tokenizer, config, requests);
    for (size_t i = 0; i < requests.size(); ++i) {
        EXPECT_EQ(on.tokens[i], off.tokens[i]) << "request " << i;
        EXPECT_FALSE(off.tokens[i].empty());
        ASSERT_EQ(on.logprobs[i].size(), off.logprobs[i].size()) << "request " << i;
        for (size_t t = 0; t < on.logprobs[i].size(); ++t) {
            EXPECT_NEAR(on.logprobs[i][t].logprob, off.logprobs[i][t].logprob, 1e-4) << "request " << i;
            ASSERT_EQ(on.logprobs[i][t].top.size(), 2u);
            EXPECT_EQ(on.logprobs[i][t].top[1].token, off.logprobs[i][t].top[1].token) << "request " << i;
        }
    }
    EXPECT_EQ(off.stats.spec_draft_tokens_total, 0u);
    EXPECT_GT(on.stats.spec_accepted_tokens_total, 0u);
    EXPECT_LT(on.stats.num_steps, off.stats.num_steps);
    std::printf("[ spec toy sampled ] drafts %llu accepted %llu steps %llu (without drafts %llu)\n",
                static_cast<unsigned long long>(on.stats.spec_draft_tokens_total),
                static_cast<unsigned long long>(on.stats.spec_accepted_tokens_total),
                static_cast<unsigned long long>(on.stats.num_steps),
                static_cast<unsigned long long>(off.stats.num_steps));
}

// The trained toy model's 60 golden prompts, run together with n-gram drafts: every answer is still
// exactly transformers' greedy answer, stopping at <|return|> or <|call|>.
TEST(SpeculativeDecoding, ToyHarmonyGoldenAnswersWithDrafts) {
    const auto dir = toy_harmony_dir();
    const auto tokenizer = Tokenizer::from_file(dir / "tokenizer.json");
    const int32_t ret = *tokenizer->special_token_id("<|return|>"),
                  call = *tokenizer->special_token_id("<|call|>");
    const nlohmann::json golden = read_json(dir / "golden.json");
    std::vector<Request> requests;
    std::vector<std::vector<int32_t>> expected;
    for (const nlohmann::json& c : golden["cases"]) {
        Request r;
        r.id = RequestId(requests.size() + 1);
        r.prompt_token_ids = c["prompt_ids"].get<std::vector<int32_t>>();
        r.sampling.temperature = 0.0f;
        r.stop.max_tokens = 96;
        r.stop.stop_token_ids = {ret, call};
        expected.push_back(c["greedy_ids"].get<std::vector<int32_t>>());
        requests.push_back(std::move(r));
    }
    EngineConfig config;
    config.max_num_seqs = 16;
    config.max_num_batched_tokens = 512;
    config.max_model_len = 1024;
    config.kv_cache_memory_bytes = int64_t(64) << 20;
    config.num_speculative_tokens = 4;
    const EngineRun on = run_engine(load_weights(dir), tokenizer, config, requests);
    int matched = 0;
    for (size_t i = 0; i < requests.size(); ++i) {
        EXPECT_EQ(on.tokens[i], expected[i]) << "case " << i;
        matched += on.tokens[i] == expected[i];
    }
    EXPECT_GT(on.stats.spec_accepted_tokens_total, 0u);
    std::printf("[ spec toy ] %d/%zu golden answers; drafts %llu accepted %llu (%.2f)\n", matched,
                requests.size(), static_cast<unsigned long long>(on.stats.spec_draft_tokens_total),
                static_cast<unsigned long long>(on.stats.spec_accepted_tokens_total),
                on.stats.spec_draft_tokens_total
                    ? double(on.stats.spec_accepted_tokens_total) / double(on.stats.spec_draft_tokens_total)
                    : 0.0);
}

// Scheduler + KV manager + CPU runner, one request at a time, with drafts chosen by the test.
class Verifier {
public:
    explicit Verifier(std::shared_ptr<const ModelWeights> weights)
        : runner_(make_cpu_runner(std::move(weights), 1)),
          kv_(KvCacheSpec{4, 64, 64, true, runner_->config().sliding_window, false}),
          scheduler_(SchedulerConfig{1, 64, 128}, kv_) {
        runner_->allocate_kv_cache(KvCacheLayout{4, 64, 64});
    }

    // Three output tokens after `prompt`; the first decode step carries `draft(first token)` when given.
    std::vector<int32_t> three_tokens(const std::vector<int32_t>& prompt, const SamplingParams& sampling,
                                      const std::function<int32_t(int32_t)>& draft) {
        Request r;
        r.id = next_id_++;
        r.prompt_token_ids = prompt;
        r.sampling = sampling;
        r.stop.max_tokens = 3;
        auto seq = std::make_shared<Sequence>(std::move(r), r.id);
        scheduler_.add(seq);
        while (!seq->is_finished()) {
            if (draft && seq->num_output_tokens() == 1)
                seq->draft_tokens = {draft(seq->output_token_ids()[0])};
            const ScheduledBatch batch = scheduler_.schedule();
            const BatchInputs in = build_batch_inputs(batch, 4);
            scheduler_.update(batch, runner_->execute(in));
        }
        return {seq->output_token_ids().begin(), seq->output_token_ids().end()};
    }
    uint64_t num_accepted() const { return scheduler_.num_accepted_draft_tokens(); }
    uint64_t num_drafted() const { return scheduler_.num_draft_tokens(); }

private:
    std::unique_ptr<ModelRunner> runner_;
    KvCacheManager kv_;
    Scheduler scheduler_;
    RequestId next_id_ = 1;
};

// The sampler's distribution over the top_k tokens of a logits row at `temperature`.
std::map<int32_t, double> top_k_distribution(const float* logits, int vocab, int top_k, float temperature) {
    std::vector<int32_t> order(static_cast<size_t>(vocab));
    for (int v = 0; v < vocab; ++v) order[size_t(v)] = v;
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    std::map<int32_t, double> p;
    double sum = 0;
    for (int i = 0; i < top_k; ++i) {
        const double w = std::exp((double(logits[order[size_t(i)]]) - logits[order[0]]) / temperature);
        p[order[size_t(i)]] = w;
        sum += w;
    }
    for (auto& [token, w] : p) w /= sum;
    return p;
}

// Sampling with top_k 3 at temperature 1.5 from a fixed prompt: the first token has 3 possible values, and
// the second token, verified against a draft that is the second most likely token after the first, is
// accepted about a third of the time (then the third token is the bonus row's sample). Over 2,000 seeded
// draws the pairs (first, second) must follow the model's exact joint distribution: chi-square with 8
// degrees of freedom below 26.12 (p = 0.001). Each draw must also equal, seed for seed, the three tokens
// sampled without drafts.
TEST(SpeculativeDecoding, VerificationKeepsTheTargetDistribution) {
    const auto weights = load_weights(tiny_gptoss_dir());
    const int V = weights->config().vocab_size;
    const std::vector<int32_t> prompt = {17, 3, 250, 901, 44, 7, 512};
    constexpr int kTopK = 3;
    constexpr float kTemperature = 1.5f;

    // Exact distributions from the model's logits.
    auto scorer_runner = make_cpu_runner(weights, 1);
    SingleSequenceDriver scorer(*scorer_runner, 16);
    const std::vector<float> first_logits =
        scorer.score(prompt, std::vector<int32_t>{int32_t(prompt.size()) - 1});
    const std::map<int32_t, double> p_first = top_k_distribution(first_logits.data(), V, kTopK, kTemperature);
    std::map<int32_t, std::map<int32_t, double>> p_second;
    std::map<int32_t, int32_t> draft_after;  // the second most likely token after each first token
    for (const auto& [first, p] : p_first) {
        std::vector<int32_t> ids = prompt;
        ids.push_back(first);
        const std::vector<float> logits = scorer.score(ids, std::vector<int32_t>{int32_t(ids.size()) - 1});
        p_second[first] = top_k_distribution(logits.data(), V, kTopK, kTemperature);
        std::vector<std::pair<double, int32_t>> ranked;
        for (const auto& [token, q] : p_second[first]) ranked.push_back({q, token});
        std::sort(ranked.rbegin(), ranked.rend());
        draft_after[first] = ranked[1].second;
    }

    SamplingParams sampling;
    sampling.temperature = kTemperature;
    sampling.top_k = kTopK;
    Verifier with_drafts(weights), without(weights);
    std::map<std::pair<int32_t, int32_t>, int> counts;
    constexpr int kDraws = 2000;
    for (int i = 0; i < kDraws; ++i) {
        sampling.seed = 1 + uint64_t(i);
        const auto pair =
            with_drafts.three_tokens(prompt, sampling, [&](int32_t first) { return draft_after.at(first); });
        ASSERT_EQ(pair.size(), 3u);
        EXPECT_EQ(pair, without.three_tokens(prompt, sampling, nullptr)) << "seed " << sampling.seed;
        ++counts[{pair[0], pair[1]}];
    }
    double chi2 = 0;
    for (const auto& [first, pf] : p_first) {
        for (const auto& [second, ps] : p_second[first]) {
            const double expected = kDraws * pf * ps;
            ASSERT_GT(expected, 5.0) << "a cell too small for the chi-square test";
            const double observed = counts[{first, second}];
            chi2 += (observed - expected) * (observed - expected) / expected;
        }
    }
    int outside = 0;
    for (const auto& [pair, n] : counts)
        outside += p_second.count(pair.first) && p_second[pair.first].count(pair.second) ? 0 : n;
    EXPECT_EQ(outside, 0) << "draws outside the top-k support";
    EXPECT_LT(chi2, 26.12);
    EXPECT_EQ(with_drafts.num_drafted(), uint64_t(kDraws));
    EXPECT_GT(with_drafts.num_accepted(), uint64_t(kDraws / 10));
    EXPECT_LT(with_drafts.num_accepted(), uint64_t(kDraws * 9 / 10));
    std::printf(
        "[ spec distribution ] chi2 %.2f (8 dof, limit 26.12 at p = 0.001); drafts accepted %llu/%d\n", chi2,
        static_cast<unsigned long long>(with_drafts.num_accepted()), kDraws);
}

}  // namespace
}  // namespace gptoss::testing
