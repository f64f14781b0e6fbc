// sample (cuda/kernels/sampling.cu) vs the host sampler engine/sampler.h on full-vocabulary rows: greedy,
// untruncated Gumbel-max draws, temperature, top-k, top-p, min-p, their combinations, seeds, logprobs and
// top_logprobs, and rows with massive ties (like the toy checkpoint, whose untrained tokens all have logit
// 0).
#include <algorithm>

#include "cuda/kernels/kernels.h"
#include "engine/sampler.h"
#include "tests/cuda/cuda_test_util.h"

namespace gptoss::testing {
namespace {

std::vector<SamplingParams> parameter_sets() {
    std::vector<SamplingParams> sets;
    auto add = [&](float temperature, int top_k, float top_p, float min_p, bool logprobs, int top_logprobs) {
        SamplingParams p;
        p.temperature = temperature;
        p.top_k = top_k;
        p.top_p = top_p;
        p.min_p = min_p;
        p.logprobs = logprobs;
        p.top_logprobs = top_logprobs;
        sets.push_back(p);
    };
    add(0.0f, 0, 1.0f, 0.0f, false, 0);       // greedy
    add(0.0f, 0, 1.0f, 0.0f, true, 5);        // greedy + logprobs
    add(1.0f, 1, 1.0f, 0.0f, false, 0);       // top_k 1 is greedy
    add(1.0f, 0, 1.0f, 0.0f, false, 0);       // plain sampling (Gumbel-max)
    add(0.8f, 1 << 30, 1.0f, 0.0f, true, 2);  // top_k beyond the vocabulary: untruncated, with logprobs
    add(0.7f, 0, 0.9f, 0.0f, true, 20);       // nucleus + logprobs
    add(1.3f, 50, 1.0f, 0.0f, false, 0);      // top-k
    add(1.0f, 40, 0.8f, 0.0f, false, 0);      // top-k + top-p
    add(1.0f, 0, 1.0f, 0.05f, true, 0);       // min-p
    add(0.5f, 100, 0.95f, 0.02f, true, 3);
    add(2.0f, 0, 0.5f, 0.0f, false, 0);
    return sets;
}

// Random rows of `vocab` logits, every parameter set on several rows, against sample_token.
void check_against_host(int vocab) {
    const std::vector<SamplingParams> sets = parameter_sets();
    constexpr int kRowsPerSet = 6;
    const int R = static_cast<int>(sets.size()) * kRowsPerSet;
    std::vector<float> logits(size_t(R) * vocab);
    std::mt19937 rng(77);
    for (int r = 0; r < R; ++r) {
        float* row = &logits[size_t(r) * vocab];
        const std::vector<float> values = random_normal(vocab, 1.0f + (r % 3), 100 + r);
        std::copy(values.begin(), values.end(), row);
        if (r % kRowsPerSet == 4) {  // toy-like: almost every logit exactly 0, a few trained tokens
            std::fill(row, row + vocab, 0.0f);
            for (int i = 0; i < std::min(300, vocab / 4); ++i)
                row[rng() % vocab] = std::round(values[i] * 4.0f) / 4.0f;
        }
        if (r % kRowsPerSet == 5) {  // a peaked distribution
            for (int i = 0; i < 10; ++i) row[rng() % vocab] += 12.0f;
        }
    }
    std::vector<SamplingParams> row_params(R);
    std::vector<cuda::SamplingRowParams> gpu_params(R);
    std::vector<int32_t> expected(R);
    std::vector<TokenLogprob> expected_lp(R);
    for (int r = 0; r < R; ++r) {
        SamplingParams& p = row_params[r];
        p = sets[r / kRowsPerSet];
        p.seed = 1000003ull * r + 17;
        SequenceSampling s;
        s.params = &p;
        s.output_index = r * 3;
        std::vector<float> scratch(logits.begin() + size_t(r) * vocab,
                                   logits.begin() + size_t(r + 1) * vocab);
        expected[r] = sample_token(scratch, s, &expected_lp[r]);
        cuda::SamplingRowParams& g = gpu_params[r];
        g.temperature = p.temperature;
        g.top_k = p.top_k;
        g.top_p = p.top_p;
        g.min_p = p.min_p;
        g.uniform = sampling_uniform(p.seed, s.output_index);
        g.stream = sampling_stream(p.seed, s.output_index);
        g.greedy = p.is_greedy() ? 1 : 0;
        g.num_top_logprobs = p.logprobs ? std::min(p.top_logprobs, cuda::kMaxTopLogprobs) : -1;
    }

    auto d_logits = to_device(logits);
    auto d_params = to_device(gpu_params);
    cuda::DeviceBuffer<float> probs(logits.size());
    auto d_tokens = poisoned<int32_t>(R, -7);
    auto d_lp = poisoned<float>(R, NAN);
    auto d_top_tokens = poisoned<int32_t>(size_t(R) * cuda::kMaxTopLogprobs, -7);
    auto d_top_lp = poisoned<float>(size_t(R) * cuda::kMaxTopLogprobs, NAN);
    cuda::sample({.logits = d_logits.get(),
                  .probs = probs.get(),
                  .num_rows = R,
                  .vocab = vocab,
                  .params = d_params.get(),
                  .tokens = d_tokens.get(),
                  .token_logprobs = d_lp.get(),
                  .top_tokens = d_top_tokens.get(),
                  .top_logprobs = d_top_lp.get()},
                 nullptr);
    const std::vector<int32_t> tokens = to_host(d_tokens), top_tokens = to_host(d_top_tokens);
    const std::vector<float> lp = to_host(d_lp), top_lp = to_host(d_top_lp);
    for (int r = 0; r < R; ++r) {
        EXPECT_EQ(tokens[r], expected[r]) << "row " << r << " parameter set " << r / kRowsPerSet;
        if (!row_params[r].logprobs) continue;
        EXPECT_NEAR(lp[r], expected_lp[r].logprob, 1e-4) << "row " << r;
        const int n = static_cast<int>(expected_lp[r].top.size());
        ASSERT_EQ(n, gpu_params[r].num_top_logprobs) << "row " << r;
        for (int j = 0; j < n; ++j) {
            EXPECT_EQ(top_tokens[size_t(r) * cuda::kMaxTopLogprobs + j], expected_lp[r].top[j].token)
                << "row " << r;
            EXPECT_NEAR(top_lp[size_t(r) * cuda::kMaxTopLogprobs + j], expected_lp[r].top[j].logprob, 1e-4);
        }
    }
}

TEST(CudaSampling, MatchesHostSamplerFullVocabulary) {
    GPTOSS_SKIP_WITHOUT_GPU();
    check_against_host(201088);
}

// Small enough for compute-sanitizer racecheck; also the tiny fixture's vocabulary.
TEST(CudaSampling, MatchesHostSamplerSmallVocabulary) {
    GPTOSS_SKIP_WITHOUT_GPU();
    check_against_host(1024);
}

}  // namespace
}  // namespace gptoss::testing
