// The sampler follows engine/sampler.h step by step: logprobs from the raw logits, logit_bias, penalties,
// greedy with lowest-id ties, then temperature / top_k / top_p / min_p and a counter-based uniform draw.
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

namespace gptoss {
namespace {

int32_t sample(std::vector<float> logits, const SamplingParams& params, int32_t output_index = 0,
               std::vector<int32_t> prompt = {}, std::vector<int32_t> output = {},
               TokenLogprob* lp = nullptr) {
    SequenceSampling s;
    s.params = &params;
    s.output_index = output_index;
    s.prompt_tokens = prompt;
    s.output_tokens = output;
    return sample_token(logits, s, lp);
}

SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
}

// How often each token is drawn over `n` seeds.
std::map<int32_t, int> histogram(const std::vector<float>& logits, SamplingParams p, int n) {
    std::map<int32_t, int> counts;
    for (int seed = 0; seed < n; ++seed) {
        p.seed = static_cast<uint64_t>(seed) * 7919 + 1;
        ++counts[sample(logits, p)];
    }
    return counts;
}

TEST(Sampler, GreedyTakesTheArgmaxLowestIdOnTies) {
    EXPECT_EQ(sample({0.1f, 2.0f, -1.0f, 2.0f}, greedy()), 1);
    EXPECT_EQ(sample({5.0f, 5.0f}, greedy()), 0);
    SamplingParams top1;
    top1.temperature = 0.7f;
    top1.top_k = 1;
    EXPECT_EQ(sample({0.1f, 2.0f, -1.0f, 2.0f}, top1, 3), 1);  // top_k 1 is greedy too
}

TEST(Sampler, UniformIsCounterBasedAndInUnitInterval) {
    EXPECT_EQ(sampling_uniform(42, 7), sampling_uniform(42, 7));
    EXPECT_NE(sampling_uniform(42, 7), sampling_uniform(42, 8));
    EXPECT_NE(sampling_uniform(42, 7), sampling_uniform(43, 7));
    double sum = 0;
    for (int i = 0; i < 10000; ++i) {
        float u = sampling_uniform(1, i);
        ASSERT_GE(u, 0.0f);
        ASSERT_LT(u, 1.0f);
        sum += u;
    }
    EXPECT_NEAR(sum / 10000, 0.5, 0.01);
}

TEST(Sampler, TruncatedDrawPicksTheFirstTokenWhoseCumulativeMassExceedsTheDraw) {
    // p = [0.1, 0.6, 0.3] -> sorted order 1, 2, 0 with cumulative 0.6, 0.9, 1.0; top_p 0.999 keeps all three
    // but makes the draw a truncated one (the sorted walk).
    std::vector<float> logits = {std::log(0.1f), std::log(0.6f), std::log(0.3f)};
    SamplingParams p;
    p.top_p = 0.999f;
    for (uint64_t seed = 0; seed < 200; ++seed) {
        p.seed = seed;
        const float u = sampling_uniform(seed, 5);
        const int32_t expected = u < 0.6f ? 1 : (u < 0.9f ? 2 : 0);
        if (std::fabs(u - 0.6f) < 1e-4f || std::fabs(u - 0.9f) < 1e-4f) continue;  // rounding at a boundary
        EXPECT_EQ(sample(logits, p, 5), expected) << "u = " << u;
    }
}

TEST(Sampler, UntruncatedDrawIsTheGumbelMaxOfTheScaledLogits) {
    std::vector<float> logits(300);
    for (int i = 0; i < 300; ++i) logits[i] = 3.0f * std::sin(i * 0.7f);
    logits[17] = std::numeric_limits<float>::quiet_NaN();  // never drawn
    SamplingParams p;
    p.temperature = 0.8f;
    std::map<int32_t, int> seen;
    for (uint64_t seed = 0; seed < 100; ++seed) {
        p.seed = seed;
        const uint64_t stream = sampling_stream(seed, 4);
        int32_t expected = -1;
        float best = 0.0f;
        for (int32_t t = 0; t < 300; ++t) {
            if (t == 17) continue;
            const float v =
                static_cast<float>(static_cast<double>(logits[t] / p.temperature) + gumbel_noise(stream, t));
            if (expected < 0 || v > best) {
                expected = t;
                best = v;
            }
        }
        const int32_t token = sample(logits, p, 4);
        EXPECT_EQ(token, expected) << "seed " << seed;
        ++seen[token];
    }
    EXPECT_GT(seen.size(), 10u) << "the seed changes the draw";
}

TEST(Sampler, GumbelNoiseIsBoundedAndStandard) {
    double sum = 0;
    for (int t = 0; t < 20000; ++t) {
        const double g = gumbel_noise(sampling_stream(9, 3), t);
        ASSERT_LT(g, kMaxGumbelNoise);
        sum += g;
    }
    EXPECT_NEAR(sum / 20000, 0.5772, 0.03);  // the Euler-Mascheroni constant: Gumbel(0, 1)'s mean
}

TEST(Sampler, SameSeedAndIndexReproduce) {
    std::vector<float> logits(50);
    for (int i = 0; i < 50; ++i) logits[i] = std::sin(i * 1.3f);
    SamplingParams p;
    p.seed = 1234;
    for (int index = 0; index < 20; ++index) EXPECT_EQ(sample(logits, p, index), sample(logits, p, index));
    std::map<int32_t, int> seen;
    for (int index = 0; index < 40; ++index) ++seen[sample(logits, p, index)];
    EXPECT_GT(seen.size(), 5u) << "the output index advances the stream";
}

TEST(Sampler, TemperatureFollowsTheSoftmax) {
    const std::vector<float> logits = {0.0f, std::log(3.0f)};  // p = 1/4, 3/4 at temperature 1
    SamplingParams p;
    auto counts = histogram(logits, p, 8000);
    EXPECT_NEAR(counts[1] / 8000.0, 0.75, 0.02);
    p.temperature = 2.0f;  // p ~ 1, sqrt(3) -> 0.366 / 0.634
    counts = histogram(logits, p, 8000);
    EXPECT_NEAR(counts[1] / 8000.0, std::sqrt(3.0) / (1 + std::sqrt(3.0)), 0.02);
    p.temperature = 0.25f;  // p ~ 1, 81 -> 0.988
    counts = histogram(logits, p, 8000);
    EXPECT_NEAR(counts[1] / 8000.0, 81.0 / 82.0, 0.01);
}

TEST(Sampler, TopKKeepsTheLargestLogits) {
    const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 2.9f, 0.0f};
    SamplingParams p;
    p.top_k = 2;
    auto counts = histogram(logits, p, 3000);
    EXPECT_EQ(counts.size(), 2u);
    EXPECT_GT(counts[1], 0);
    EXPECT_GT(counts[3], 0);
    // Ties at the top_k boundary keep the lower id.
    p.top_k = 1;
    p.temperature = 1.0f;
    EXPECT_EQ(sample({2.0f, 5.0f, 5.0f}, p), 1);
    p.top_k = 2;
    counts = histogram({5.0f, 1.0f, 5.0f, 5.0f}, p, 2000);
    EXPECT_EQ(counts.count(3), 0u);
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[2], 0);
}

TEST(Sampler, TopPKeepsTheShortestPrefixReachingTheMass) {
    const std::vector<float> logits = {std::log(0.2f), std::log(0.5f), std::log(0.3f)};
    SamplingParams p;
    p.top_p = 0.75f;  // 0.5 + 0.3 = 0.8 >= 0.75: tokens 1 and 2
    auto counts = histogram(logits, p, 4000);
    EXPECT_EQ(counts.count(0), 0u);
    EXPECT_NEAR(counts[1] / 4000.0, 0.5 / 0.8, 0.03);
    p.top_p = 0.5f;  // token 1 alone reaches 0.5
    counts = histogram(logits, p, 500);
    EXPECT_EQ(counts[1], 500);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheBest) {
    const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
    SamplingParams p;
    p.min_p = 0.25f;  // threshold 0.125: drops token 3 only
    auto counts = histogram(logits, p, 4000);
    EXPECT_EQ(counts.count(3), 0u);
    EXPECT_GT(counts[2], 0);
    EXPECT_NEAR(counts[0] / 4000.0, 0.5 / 0.95, 0.03);
}

TEST(Sampler, LogitBiasComesFirst) {
    SamplingParams p = greedy();
    p.logit_bias = {{2, 10.0f}, {99, 5.0f}};  // out-of-vocabulary ids are ignored
    EXPECT_EQ(sample({1.0f, 3.0f, 0.0f}, p), 2);
    p.logit_bias = {{1, -100.0f}};
    EXPECT_EQ(sample({1.0f, 3.0f, 0.0f}, p), 0);
}

TEST(Sampler, RepetitionPenaltyCoversPromptAndOutput) {
    SamplingParams p = greedy();
    p.repetition_penalty = 2.0f;
    // Token 1 (4.0) in the prompt -> 2.0 < token 2 (3.0).
    EXPECT_EQ(sample({0.0f, 4.0f, 3.0f}, p, 0, {1}), 2);
    // Negative logits are multiplied: token 0 (-1 -> -2) falls below token 2 (-1.5).
    EXPECT_EQ(sample({-1.0f, -3.0f, -1.5f}, p, 0, {}, {0}), 2);
    EXPECT_EQ(sample({0.0f, 4.0f, 3.0f}, p, 0, {}, {}), 1);
}

TEST(Sampler, FrequencyAndPresencePenaltiesCountOutputTokens) {
    SamplingParams p = greedy();
    p.frequency_penalty = 0.5f;
    // Token 0 generated 3 times: 5.0 - 1.5 = 3.5 < 4.0; the prompt does not count.
    EXPECT_EQ(sample({5.0f, 4.0f}, p, 0, {1, 1, 1, 1}, {0, 0, 0}), 1);
    EXPECT_EQ(sample({5.0f, 4.0f}, p, 0, {0, 0, 0, 0}, {0}), 0);
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 1.5f;  // once is enough, however often
    EXPECT_EQ(sample({5.0f, 4.0f}, p, 0, {}, {0}), 1);
    p.presence_penalty = -2.0f;  // negative values encourage repeats
    EXPECT_EQ(sample({3.0f, 4.0f}, p, 0, {}, {0}), 0);
}

TEST(Sampler, LogprobsAreRawLogSoftmaxWithTopAlternatives) {
    std::vector<float> logits = {1.0f, 3.0f, 3.0f, -2.0f, 0.5f};
    double lse = 0;
    for (float z : logits) lse += std::exp(z);
    lse = std::log(lse);
    SamplingParams p = greedy();
    p.logprobs = true;
    p.top_logprobs = 3;
    p.logit_bias = {{4, 50.0f}};  // changes the pick, not the reported logprobs
    TokenLogprob lp;
    int32_t token = sample(logits, p, 0, {}, {}, &lp);
    EXPECT_EQ(token, 4);
    EXPECT_EQ(lp.token, 4);
    EXPECT_NEAR(lp.logprob, 0.5 - lse, 1e-5);
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.top[0].token, 1);  // tie with token 2: lower id first
    EXPECT_EQ(lp.top[1].token, 2);
    EXPECT_EQ(lp.top[2].token, 0);
    EXPECT_NEAR(lp.top[0].logprob, 3.0 - lse, 1e-5);
    EXPECT_NEAR(lp.top[2].logprob, 1.0 - lse, 1e-5);
}

TEST(Sampler, TopLogprobsUpToTwenty) {
    std::vector<float> logits(100);
    for (int i = 0; i < 100; ++i) logits[i] = static_cast<float>(i % 37);
    SamplingParams p = greedy();
    p.logprobs = true;
    p.top_logprobs = 20;
    TokenLogprob lp;
    sample(logits, p, 0, {}, {}, &lp);
    ASSERT_EQ(lp.top.size(), 20u);
    for (size_t i = 1; i < lp.top.size(); ++i) {
        EXPECT_TRUE(lp.top[i - 1].logprob > lp.top[i].logprob ||
                    (lp.top[i - 1].logprob == lp.top[i].logprob && lp.top[i - 1].token < lp.top[i].token));
    }
    p.top_logprobs = 50;  // clamped to 20
    sample(logits, p, 0, {}, {}, &lp);
    EXPECT_EQ(lp.top.size(), 20u);
    p.top_logprobs = 0;
    sample(logits, p, 0, {}, {}, &lp);
    EXPECT_TRUE(lp.top.empty());
    EXPECT_EQ(lp.token, 36);
}

TEST(Sampler, NoLogprobsUnlessRequested) {
    SamplingParams p = greedy();
    TokenLogprob lp;
    lp.token = -7;
    sample({1.0f, 2.0f}, p, 0, {}, {}, &lp);
    EXPECT_EQ(lp.token, -7);
}

}  // namespace
}  // namespace gptoss
