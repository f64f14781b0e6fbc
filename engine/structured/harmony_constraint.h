// HarmonyConstraint: structured outputs inside harmony. The reasoning (analysis channel) and the headers stay
// free text; only the final channel's message is held to the JSON grammar, and once the JSON is complete the
// only token allowed is <|return|>.
//
// A reply is a sequence of harmony messages: header tokens up to <|message|>, a body, then <|end|> (another
// message follows after <|start|>) or <|return|> / <|call|> (generation ends). The engine's sampler asks
// ConstraintState::allowed_tokens() before each sampled token and advances it with the token it sampled.
//
// With `answer_on_final` (a response format and no tools the model may call), headers are held to
// "<|channel|>analysis<|message|>" or "<|channel|>final<|message|>" (after <|start|>: "assistant" first),
// and analysis bodies cannot end generation: after its reasoning the model always answers on the final
// channel, in the schema.
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
};

class ConstraintState;

// Immutable after construction except for its mask cache; shared by the `n` sequences of one request.
class HarmonyConstraint {
public:
    HarmonyConstraint(std::shared_ptr<const JsonGrammar> final_grammar, bool answer_on_final,
                      std::shared_ptr<const TokenVocabulary> vocabulary);

    std::unique_ptr<ConstraintState> start() const;

    const TokenVocabulary& vocabulary() const { return *vocabulary_; }
    const std::shared_ptr<const JsonGrammar>& grammar() const { return grammar_; }
    bool answer_on_final() const { return answer_on_final_; }

    // Cached masks (thread-safe).
    std::shared_ptr<const TokenBitmask> json_mask(const JsonMatcher& matcher) const;
    std::shared_ptr<const TokenBitmask> header_mask(const std::vector<int32_t>& header,
                                                    bool after_start) const;
    const std::shared_ptr<const TokenBitmask>& body_mask() const { return body_mask_; }
    const std::shared_ptr<const TokenBitmask>& start_only_mask() const { return start_only_mask_; }

    struct Ids {
        int32_t start = -1, channel = -1, constrain = -1, message = -1, end = -1, call = -1, return_ = -1;
    };
    const Ids& ids() const { return ids_; }

private:
    std::shared_ptr<const JsonGrammar> grammar_;
    bool answer_on_final_;
    std::shared_ptr<const TokenVocabulary> vocabulary_;
    Ids ids_;
    std::shared_ptr<const TokenBitmask> body_mask_;        // all but <|return|> and <|call|>
    std::shared_ptr<const TokenBitmask> start_only_mask_;  // <|start|>
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const TokenBitmask>> cache_;
};

// Null when the request needs no constraint (text format and nothing else). Throws SchemaError for a schema
// the compiler does not support. The entry point every route calls.
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

    const HarmonyConstraint& constraint_;
    Phase phase_ = Phase::kHeader;  // the prompt ends with <|start|>assistant: the reply starts in a header
    bool after_start_ = false;      // the header began with <|start|>: the role comes first
    std::vector<int32_t> header_;   // header symbols so far: bytes 0..255, special id s as 256 + s
    JsonMatcher matcher_;
    mutable std::shared_ptr<const TokenBitmask> mask_;  // for the current position, computed on demand
};

}  // namespace gptoss::structured
