// The sampler: one definition of sampling semantics, implemented here on the host. Every backend follows it
// (a GPU runner may implement the same steps on the device, and hands sequences that need host-only features
// to this code).
//
// For one sequence with float32 logits z over the vocabulary:
//  1. logprobs (when requested) are log_softmax of the raw model logits z, before any processing below;
//     top_logprobs lists the most likely tokens, ties broken by the lower id.
//  2. structured outputs: z[t] = -inf for tokens the sequence's constraint does not allow this step;
//     logit_bias: z[t] += bias.
//  3. repetition_penalty r over tokens in prompt + output: z[t] = z[t] > 0 ? z[t] / r : z[t] * r.
//     frequency/presence over output tokens: z[t] -= count(t) * frequency + (count(t) > 0) * presence.
//  4. greedy (temperature 0 or top_k 1): the argmax, lowest id on ties.
//  5. otherwise z /= temperature. Without truncation (top_k off, top_p 1, min_p 0: the OpenAI defaults) the
//     token is the Gumbel-max draw argmax_t float(z[t] + gumbel_noise(sampling_stream(seed, output_index),
//     t)) (lower id on ties; NaN logits never win), an exact sample of softmax(z) that a GPU takes in one
//     parallel pass over the vocabulary, with no sum and no ordering.
//  6. with truncation: keep the top_k largest (if top_k > 0); p = softmax(z) over those;
//     sort by p descending (ties: lower id first); keep the shortest prefix whose mass reaches top_p;
//     drop tokens with p < min_p * p_max; renormalise; pick the first token whose cumulative mass
//     exceeds u * total, with u = sampling_uniform(seed, output_index).
//     (engine/sorted_walk.h draws that token while sorting only the prefix of the order the draw reaches.)
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

#include "engine/batch_inputs.h"
#include "engine/request.h"

namespace gptoss {

// Counter-based randomness: the same (seed, index) gives the same u on every backend, so a seeded request
// is reproducible whatever else shares its batch. splitmix64 finalizer; 24 random bits -> [0, 1).
inline uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
// The random stream of one draw (a sequence's seed at one output index).
inline uint64_t sampling_stream(uint64_t seed, int32_t output_index) {
    return splitmix64(seed ^ splitmix64(static_cast<uint64_t>(output_index)));
}
inline float sampling_uniform(uint64_t seed, int32_t output_index) {
    return static_cast<float>(sampling_stream(seed, output_index) >> 40) * (1.0f / 16777216.0f);
}
// Gumbel(0, 1) noise of token t in a draw's stream: -log(-log(u)), u in (0, 1) from 53 random bits, in
// double (cuda/kernels/sampling.cu computes the same values; both logs are within an ulp of exact).
inline double gumbel_noise(uint64_t stream, int32_t token) {
    const uint64_t r = splitmix64(stream + static_cast<uint64_t>(token));
    const double u = (static_cast<double>(r >> 11) + 0.5) * 0x1p-53;
    return -std::log(-std::log(u));
}
// The largest gumbel_noise can be (u = 1 - 2^-54): a token whose logit is further than this below the best
// noisy logit so far cannot win.
inline constexpr double kMaxGumbelNoise = 37.43;
// Whether a sampled draw keeps every token (no top-k, top-p or min-p): the Gumbel-max rule applies.
inline bool untruncated(const SamplingParams& p, int vocab) {
    return (p.top_k <= 0 || p.top_k >= vocab) && p.top_p >= 1.0f && p.min_p <= 0.0f;
}

// Samples one token from `logits` (modified in place: they are scratch). Fills `logprob` when requested.
int32_t sample_token(std::span<float> logits, const SequenceSampling& sampling, TokenLogprob* logprob);

}  // namespace gptoss
