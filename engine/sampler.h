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
//  5. otherwise z /= temperature; keep the top_k largest (if top_k > 0); p = softmax(z) over those;
//     sort by p descending (ties: lower id first); keep the shortest prefix whose mass reaches top_p;
//     drop tokens with p < min_p * p_max; renormalise; pick the first token whose cumulative mass
//     exceeds u * total, with u = sampling_uniform(seed, output_index).
//     (engine/sorted_walk.h draws that token while sorting only the prefix of the order the draw reaches.)
#pragma once

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
inline float sampling_uniform(uint64_t seed, int32_t output_index) {
    uint64_t r = splitmix64(seed ^ splitmix64(static_cast<uint64_t>(output_index)));
    return static_cast<float>(r >> 40) * (1.0f / 16777216.0f);
}

// Samples one token from `logits` (modified in place: they are scratch). Fills `logprob` when requested.
int32_t sample_token(std::span<float> logits, const SequenceSampling& sampling, TokenLogprob* logprob);

}  // namespace gptoss
