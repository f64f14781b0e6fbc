// HarmonyConstraint: structured outputs inside harmony. The reasoning (analysis channel) stays free text; the
// final channel's message is held to the response format's grammar, and a call's arguments to the tool's
// parameters schema (strict tools) or to any JSON object; once the JSON is complete the only token allowed is
// the message's stop token (<|return|> after a final answer, <|call|> after a call).
//
// A reply is a sequence of harmony messages: header tokens up to <|message|>, a body, then <|end|> (another
// message follows after <|start|>) or <|return|> / <|call|> (generation ends). The engine's sampler asks
// ConstraintState::allowed_tokens() before each sampled token and advances it with the token it sampled.
//
// Headers are held (kAnalysisOrFinal, kAnalysisOrCall) or free (kFree). Held, the header after <|start|>
// begins with "assistant", the analysis channel is always open, and analysis bodies cannot end generation:
//   kAnalysisOrFinal (a response format and no tools the model may call): "<|channel|>final<|message|>";
//     after its reasoning the model always answers on the final channel, in the schema.
//   kAnalysisOrCall (tool_choice required or a named function): "<|channel|>commentary to=functions.NAME
//     <|constrain|>json<|message|>" for the tools the choice allows; the model reasons, then calls one.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/structured/json_grammar.h"
#include "engine/structured/json_matcher.h"
#include "engine/structured/token_bitmask.h"
#include "engine/structured/token_vocabulary.h"

namespace gptoss::structured {

// What a request asks for, already parsed by its route (chat completions or responses).
struct StructuredOutputRequest {
    enum class Format { kText, kJsonObject, kJsonSchema };
    Format format = Format::kText;
    nlohmann::json schema;           // kJsonSchema
    bool tool_calls_allowed = true;  // tools offered and tool_choice is not "none"
    // The function tools offered (when tool_calls_allowed). `strict` holds the arguments to `parameters`.
    struct Tool {
        std::string name;
        bool strict = false;
        nlohmann::json parameters;  // null: no parameters (the arguments are {})
    };
    std::vector<Tool> tools;
    enum class ToolChoice { kAuto, kRequired, kNamed };
    ToolChoice tool_choice = ToolChoice::kAuto;
    std::string named_tool;  // kNamed
};

// A strict tool's parameters schema cannot be compiled; `tool` is its index in
// StructuredOutputRequest::tools.
class ToolSchemaError : public SchemaError {
public:
    ToolSchemaError(const SchemaError& e, size_t tool) : SchemaError(e), tool_(tool) {}
    size_t tool() const { return tool_; }

private:
    size_t tool_;
};

class ConstraintState;

// Immutable after construction except for its mask cache; shared by the `n` sequences of one request.
class HarmonyConstraint {
public:
    enum class Headers { kFree, kAnalysisOrFinal, kAnalysisOrCall };
    struct CallTarget {
        std::string name;  // the function, addressed as "functions.NAME"
        std::shared_ptr<const JsonGrammar> arguments;
        bool allowed = true;  // kAnalysisOrCall: one of the headers it allows
    };

    // final_grammar: null leaves the final channel free. calls: the tools offered.
    HarmonyConstraint(std::shared_ptr<const JsonGrammar> final_grammar, Headers headers,
                      std::vector<CallTarget> calls, std::shared_ptr<const TokenVocabulary> vocabulary);

    std::unique_ptr<ConstraintState> start() const;

    const TokenVocabulary& vocabulary() const { return *vocabulary_; }
    const std::shared_ptr<const JsonGrammar>& final_grammar() const { return final_grammar_; }
    Headers headers() const { return headers_; }
    // The offered tool a call header addresses ("functions.NAME", or a bare NAME); null for any other.
    const CallTarget* call_target(const std::string& recipient) const;

    // Cached masks (thread-safe). `grammar` identifies the matcher's grammar in the cache: 0 for the final
    // grammar, 1 + i for calls[i]; `stop` is the token allowed once the document is complete.
    std::shared_ptr<const TokenBitmask> json_mask(const JsonMatcher& matcher, int32_t grammar,
                                                  int32_t stop) const;
    std::shared_ptr<const TokenBitmask> header_mask(const std::vector<int32_t>& header,
                                                    bool after_start) const;
    const std::shared_ptr<const TokenBitmask>& body_mask() const { return body_mask_; }
    const std::shared_ptr<const TokenBitmask>& start_only_mask() const { return start_only_mask_; }

    struct Ids {
        int32_t start = -1, channel = -1, constrain = -1, message = -1, end = -1, call = -1, return_ = -1;
    };
    const Ids& ids() const { return ids_; }
    const std::vector<CallTarget>& calls() const { return calls_; }

private:
    std::shared_ptr<const TokenBitmask> cached(const std::string& key) const;
    std::shared_ptr<const TokenBitmask> remember(std::string key,
                                                 std::shared_ptr<const TokenBitmask> mask) const;

    std::shared_ptr<const JsonGrammar> final_grammar_;
    Headers headers_;
    std::vector<CallTarget> calls_;
    std::shared_ptr<const TokenVocabulary> vocabulary_;
    Ids ids_;
    // Held headers as symbols (bytes 0..255, special id s as 256 + s), without the "assistant" that
    // follows <|start|>.
    std::vector<std::vector<int32_t>> allowed_headers_;
    std::shared_ptr<const TokenBitmask> body_mask_;        // all but <|return|> and <|call|>
    std::shared_ptr<const TokenBitmask> start_only_mask_;  // <|start|>
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const TokenBitmask>> cache_;
};

// Null when the request needs no constraint (text format, tool_choice auto or none, no strict tool). Throws
// SchemaError for a response format schema the compiler does not support, ToolSchemaError for a strict
// tool's. The entry point every route calls.
std::shared_ptr<const HarmonyConstraint> make_harmony_constraint(
    const StructuredOutputRequest& request, std::shared_ptr<const TokenVocabulary> vocabulary);

// One sequence's position in its reply. Advanced by the engine with every token appended to the sequence.
class ConstraintState {
public:
    explicit ConstraintState(const HarmonyConstraint& constraint);

    // The tokens allowed next; nullptr when this step is unconstrained.
    const TokenBitmask* allowed_tokens() const;
    void advance(int32_t token);

    enum class Phase { kHeader, kFreeBody, kAfterEnd, kJson, kDone };
    Phase phase() const { return phase_; }

private:
    void open_body();
    bool headers_held() const { return constraint_.headers() != HarmonyConstraint::Headers::kFree; }

    const HarmonyConstraint& constraint_;
    Phase phase_ = Phase::kHeader;  // the prompt ends with <|start|>assistant: the reply starts in a header
    bool after_start_ = false;      // the header began with <|start|>: the role comes first
    std::vector<int32_t> header_;   // header symbols so far: bytes 0..255, special id s as 256 + s
    // kJson: the body's grammar (as in json_mask), its stop token and the matcher.
    int32_t grammar_ = 0;
    int32_t stop_ = -1;
    std::unique_ptr<JsonMatcher> matcher_;
    mutable std::shared_ptr<const TokenBitmask> mask_;  // for the current position, computed on demand
};

}  // namespace gptoss::structured
