// OpenAI request bodies -> typed requests, validated at the edge.
//
// Unknown fields are ignored (clients send store, metadata, service_tier, ...); a known field with the wrong
// JSON type, or a value out of range, throws ApiError 400 naming the parameter. `null` counts as absent.
// Deep structure that only the harmony mapping understands (message content parts, tool schemas,
// response_format) is checked for its JSON type here and for its meaning by build_chat_prompt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/generation_config.h"
#include "engine/request.h"

namespace gptoss {

// Parameters chat and text completions share. Sampling values left unset come from generation_config.json.
struct GenerationParams {
    std::string model;  // empty when the request names none
    int n = 1;          // choices per prompt
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
    std::optional<double> temperature, top_p, min_p, repetition_penalty;
    std::optional<int> top_k;
    double presence_penalty = 0.0, frequency_penalty = 0.0;
    std::optional<int> max_tokens;                      // max_completion_tokens wins over max_tokens
    std::string max_tokens_param;                       // which of the two was given (for error messages)
    std::vector<std::string> stop;                      // stop strings
    std::vector<int32_t> stop_token_ids;                // vLLM extension
    bool ignore_eos = false;                            // vLLM extension: do not stop on the model's EOS ids
    std::optional<uint64_t> seed;                       // none: the server draws one
    std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> bias in [-100, 100]
    std::string user;                                   // accepted, logged
};

struct ChatCompletionRequest {
    GenerationParams params;
    bool logprobs = false;
    int top_logprobs = 0;
    bool include_reasoning = true;  // vLLM extension: false drops reasoning fields from the response
};

// One prompt of a /v1/completions request: text or token ids.
using CompletionPrompt = std::variant<std::string, std::vector<int32_t>>;

struct CompletionRequest {
    GenerationParams params;
    std::vector<CompletionPrompt> prompts;  // one or more (a batch); n choices each
    std::optional<int> logprobs;            // legacy: number of top alternatives (0..20)
    bool echo = false;
    bool return_token_ids = false;  // vLLM extension: choices[].token_ids and prompt_token_ids
};

// POST /tokenize: vLLM's shapes. Either a text prompt or chat messages (rendered as the chat endpoint does).
struct TokenizeRequest {
    std::string model;
    std::optional<std::string> prompt;
    bool return_token_strs = false;
    bool chat = false;  // the body has "messages": render it as the chat endpoint does
};

struct DetokenizeRequest {
    std::string model;
    std::vector<int32_t> tokens;
};

// Parses a request body: must be one JSON object. Rejects nesting deeper than max_depth before parsing so
// no later recursive walk can exhaust the stack. Throws ApiError 400.
nlohmann::json parse_json_body(std::string_view text, int max_depth = 64);

ChatCompletionRequest parse_chat_completion_request(const nlohmann::json& body);
CompletionRequest parse_completion_request(const nlohmann::json& body);
TokenizeRequest parse_tokenize_request(const nlohmann::json& body);
DetokenizeRequest parse_detokenize_request(const nlohmann::json& body);

// Sampling for one engine request: the request's values, else generation_config.json's, else OpenAI's
// defaults (temperature 1, top_p 1). `seed` is the final per-choice seed.
SamplingParams make_sampling_params(const GenerationParams& params, const GenerationConfig& defaults,
                                    uint64_t seed, bool logprobs, int top_logprobs);

}  // namespace gptoss
