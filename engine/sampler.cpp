#include "engine/sampler.h"

#include "engine/sorted_walk.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "engine/structured/harmony_constraint.h"

namespace gptoss {

namespace {

constexpr int kMaxTopLogprobs = 20;

// log(sum(exp(z))) in double, skipping NaNs.
double log_sum_exp(std::span<const float> z) {
    float m = -std::numeric_limits<float>::infinity();
    for (float v : z) m = std::max(m, v);  // NaN never wins a max
    if (!std::isfinite(m)) return m;
    double sum = 0.0;
    for (float v : z) {
        if (!std::isnan(v)) sum += std::exp(static_cast<double>(v) - m);
    }
    return m + std::log(sum);
}

// "a ranks before b": larger value first, lower id on ties.
struct ByValueThenId {
    std::span<const float> values;
    bool operator()(int32_t a, int32_t b) const {
        return values[a] != values[b] ? values[a] > values[b] : a < b;
    }
};

void fill_top_logprobs(std::span<const float> raw, double lse, int top_n, TokenLogprob* out) {
    out->top.clear();
    const int vocab = static_cast<int>(raw.size());
    top_n = std::clamp(top_n, 0, std::min(kMaxTopLogprobs, vocab));
    if (top_n == 0) return;
    std::vector<int32_t> ids(vocab);
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + top_n, ids.end(), ByValueThenId{raw});
    for (int i = 0; i < top_n; ++i) {
        out->top.push_back({ids[i], static_cast<float>(raw[ids[i]] - lse)});
    }
}

void apply_penalties(std::span<float> z, const SequenceSampling& s) {
    const SamplingParams& p = *s.params;
    const int vocab = static_cast<int>(z.size());
    auto in_vocab = [&](int32_t t) { return t >= 0 && t < vocab; };
    for (const auto& [token, bias] : p.logit_bias) {
        if (in_vocab(token)) z[token] += bias;
    }
    if (p.repetition_penalty != 1.0f) {
        std::vector<uint8_t> seen(vocab, 0);
        for (auto tokens : {s.prompt_tokens, s.output_tokens}) {
            for (int32_t t : tokens) {
                if (in_vocab(t)) seen[t] = 1;
            }
        }
        const float r = p.repetition_penalty;
        for (int t = 0; t < vocab; ++t) {
            if (seen[t]) z[t] = z[t] > 0 ? z[t] / r : z[t] * r;
        }
    }
    if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
        std::unordered_map<int32_t, int> counts;
        for (int32_t t : s.output_tokens) {
            if (in_vocab(t)) ++counts[t];
        }
        for (const auto& [t, count] : counts) {
            z[t] -= static_cast<float>(count) * p.frequency_penalty + p.presence_penalty;
        }
    }
}

// Structured outputs: tokens the sequence's constraint does not allow can never be sampled.
void apply_constraint(std::span<float> z, const SequenceSampling& s) {
    if (s.constraint == nullptr) return;
    const structured::TokenBitmask* allowed = s.constraint->allowed_tokens();
    if (allowed == nullptr) return;
    const float never = -std::numeric_limits<float>::infinity();
    for (int32_t t = 0; t < static_cast<int32_t>(z.size()); ++t) {
        if (!allowed->test(t)) z[t] = never;
    }
}

int32_t argmax_lowest_id(std::span<const float> z) {
    int32_t best = 0;
    for (int32_t t = 1; t < static_cast<int32_t>(z.size()); ++t) {
        if (z[t] > z[best] || std::isnan(z[best])) best = t;
    }
    return best;
}

// Gumbel-max over every token (sampler.h step 5). Tokens whose logit cannot beat the best noisy value even
// with the largest noise are skipped: the result is the same, and a peaked softmax skips most of them.
int32_t gumbel_max(std::span<const float> z, uint64_t stream) {
    int32_t best = -1;
    float best_value = -std::numeric_limits<float>::infinity();
    for (int32_t t = 0; t < static_cast<int32_t>(z.size()); ++t) {
        if (std::isnan(z[t])) continue;
        if (best >= 0 && static_cast<double>(z[t]) + kMaxGumbelNoise < best_value) continue;
        const float value = static_cast<float>(static_cast<double>(z[t]) + gumbel_noise(stream, t));
        if (best < 0 || value > best_value) {
            best = t;
            best_value = value;
        }
    }
    return best >= 0 ? best : argmax_lowest_id(z);
}

int32_t sample_from(std::span<float> z, const SequenceSampling& s) {
    const SamplingParams& p = *s.params;
    const int vocab = static_cast<int>(z.size());
    for (float& v : z) v /= p.temperature;
    if (untruncated(p, vocab)) return gumbel_max(z, sampling_stream(p.seed, s.output_index));

    // Candidates: the top_k largest logits (ties: lower id), or every token.
    std::vector<int32_t> ids(vocab);
    std::iota(ids.begin(), ids.end(), 0);
    size_t num_candidates = ids.size();
    if (p.top_k > 0 && p.top_k < vocab) {
        num_candidates = static_cast<size_t>(p.top_k);
        std::nth_element(ids.begin(), ids.begin() + num_candidates - 1, ids.end(), ByValueThenId{z});
        ids.resize(num_candidates);
    }
    float m = -std::numeric_limits<float>::infinity();
    for (int32_t t : ids) m = std::max(m, z[t]);
    double sum = 0.0;
    std::vector<float> prob(vocab, 0.0f);  // p over the candidates, 0 elsewhere
    for (int32_t t : ids) {
        double e = std::isnan(z[t]) ? 0.0 : std::exp(static_cast<double>(z[t]) - m);
        prob[t] = static_cast<float>(e);
        sum += e;
    }
    if (!(sum > 0.0)) return argmax_lowest_id(z);
    for (int32_t t : ids) prob[t] = static_cast<float>(prob[t] / sum);
    const WalkParams walk{.top_p = p.top_p, .min_p = p.min_p, .u = sampling_uniform(p.seed, s.output_index)};
    return walk_prefix(prob, ids, walk).token;
}

}  // namespace

int32_t sample_token(std::span<float> logits, const SequenceSampling& sampling, TokenLogprob* logprob) {
    static const SamplingParams kGreedy{.temperature = 0.0f};
    SequenceSampling s = sampling;
    if (!s.params) s.params = &kGreedy;
    const SamplingParams& p = *s.params;
    const bool want_logprobs = logprob != nullptr && p.logprobs;

    std::vector<float> raw;  // the model's logits, before any processing [V]
    double lse = 0.0;
    if (want_logprobs) {
        raw.assign(logits.begin(), logits.end());
        lse = log_sum_exp(raw);
        fill_top_logprobs(raw, lse, p.top_logprobs, logprob);
    }
    apply_constraint(logits, s);
    apply_penalties(logits, s);
    const int32_t token = p.is_greedy() ? argmax_lowest_id(logits) : sample_from(logits, s);
    if (want_logprobs) {
        logprob->token = token;
        logprob->logprob = static_cast<float>(raw[token] - lse);
    }
    return token;
}

}  // namespace gptoss
