// Request, SamplingParams, StopCriteria and TokenEvent: the plain data the server and the engine exchange.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gptoss {

using RequestId = uint64_t;

namespace structured {
class HarmonyConstraint;  // engine/structured/harmony_constraint.h
}

// Sampling semantics are defined once, in engine/sampler.h; every backend follows them.
struct SamplingParams {
    float temperature = 1.0f;                           // 0 = greedy
    int top_k = 0;                                      // 0 = all tokens
    float top_p = 1.0f;                                 // nucleus mass in (0, 1]
    float min_p = 0.0f;                                 // drop tokens below min_p * p(most likely)
    float presence_penalty = 0.0f;                      // OpenAI: -2..2, over generated tokens
    float frequency_penalty = 0.0f;                     // OpenAI: -2..2, over generated tokens
    float repetition_penalty = 1.0f;                    // HF/vLLM: > 0, over prompt + generated tokens
    std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logits before everything else
    uint64_t seed = 0;      // per-request stream; the engine picks one when the request has none
    bool logprobs = false;  // return the sampled token's logprob
    int top_logprobs = 0;   // and this many alternatives (0..20)
    // Structured outputs: which tokens each step may sample (the final channel held to a JSON grammar).
    // Shared by the request's sequences; each keeps its own position in it.
    std::shared_ptr<const structured::HarmonyConstraint> constraint;

    bool is_greedy() const { return temperature <= 0.0f || top_k == 1; }
    bool uses_penalties() const {
        return presence_penalty != 0.0f || frequency_penalty != 0.0f || repetition_penalty != 1.0f;
    }
    // Features only the host sampler has; a GPU runner hands such sequences to it.
    bool needs_host_sampler() const {
        return uses_penalties() || !logit_bias.empty() || constraint != nullptr;
    }
};

struct StopCriteria {
    int max_tokens = 16;                  // generated tokens at most
    std::vector<int32_t> stop_token_ids;  // sampling one of these ends the request (it is part of the output)
    std::vector<std::string> stop_strings;  // matched on the decoded output text (special tokens skipped)
};

// Request::priority of offline work (the Batch API, run-batch): it waits behind, and yields its place to,
// every interactive request (priority 0).
inline constexpr int kBatchPriority = 1;

struct Request {
    RequestId id = 0;  // unique among live requests; the server allocates them
    int priority = 0;  // lower is served first (vLLM's convention); FCFS within one priority
    std::vector<int32_t> prompt_token_ids;
    SamplingParams sampling;
    StopCriteria stop;
};

enum class FinishReason { kNone, kStop, kLength, kAbort, kError };

struct TopLogprob {
    int32_t token = 0;
    float logprob = 0.0f;
};

struct TokenLogprob {
    int32_t token = 0;
    float logprob = 0.0f;
    std::vector<TopLogprob> top;  // most likely first
};

// What a request's stream receives. Several tokens may arrive in one event; the last event has finished set.
struct TokenEvent {
    std::vector<int32_t> token_ids;      // newly released output tokens
    std::vector<TokenLogprob> logprobs;  // parallel to token_ids when logprobs were requested
    // Newly released output text: special tokens skipped, complete UTF-8 only, and held back while it could
    // still be the start of a stop string; cut before the stop string when one matched.
    std::string text;
    // When a stop string matched: how many bytes at the end of the released tokens' decoded text lie at or
    // after the match (consumers that decode token_ids themselves drop these).
    size_t stop_trim_bytes = 0;
    bool finished = false;
    FinishReason finish_reason = FinishReason::kNone;
    std::optional<int32_t> stop_token;       // the stop token id that ended the request
    std::optional<std::string> stop_string;  // the stop string that ended the request
    std::string error;                       // for kError
    int num_prompt_tokens = 0;
    int num_cached_tokens = 0;  // prompt tokens served from the prefix cache
    int num_output_tokens = 0;  // total so far
};

}  // namespace gptoss
