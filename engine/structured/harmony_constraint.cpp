#include "engine/structured/harmony_constraint.h"

#include <algorithm>

#include "engine/structured/json_token_mask.h"

namespace gptoss::structured {

namespace {

// Masks of distinct states kept per request; 25 KiB each for o200k_harmony. Cleared when full: a state
// recurs within a reply (string bodies, item separators), rarely across a long one.
constexpr size_t kMaxCachedMasks = 512;

int32_t require_special(const TokenVocabulary& v, const char* text) {
    auto id = v.special_id(text);
    return id ? *id : -1;
}

std::vector<int32_t> symbols_of(const TokenVocabulary& v, int32_t id) {
    if (v.is_special(id)) return {256 + id};
    std::vector<int32_t> out;
    for (char c : v.bytes(id)) out.push_back(static_cast<uint8_t>(c));
    return out;
}

}  // namespace

HarmonyConstraint::HarmonyConstraint(std::shared_ptr<const JsonGrammar> final_grammar, bool answer_on_final,
                                     std::shared_ptr<const TokenVocabulary> vocabulary)
    : grammar_(std::move(final_grammar)),
      answer_on_final_(answer_on_final),
      vocabulary_(std::move(vocabulary)) {
    const TokenVocabulary& v = *vocabulary_;
    ids_.start = require_special(v, "<|start|>");
    ids_.channel = require_special(v, "<|channel|>");
    ids_.constrain = require_special(v, "<|constrain|>");
    ids_.message = require_special(v, "<|message|>");
    ids_.end = require_special(v, "<|end|>");
    ids_.call = require_special(v, "<|call|>");
    ids_.return_ = require_special(v, "<|return|>");
    auto body = std::make_shared<TokenBitmask>(v.num_tokens());
    body->set_all();
    for (int32_t id : {ids_.call, ids_.return_}) {
        if (id >= 0) body->reset(id);
    }
    body_mask_ = std::move(body);
    auto start = std::make_shared<TokenBitmask>(v.num_tokens());
    if (ids_.start >= 0) start->set(ids_.start);
    start_only_mask_ = std::move(start);
}

std::unique_ptr<ConstraintState> HarmonyConstraint::start() const {
    return std::make_unique<ConstraintState>(*this);
}

std::shared_ptr<const TokenBitmask> HarmonyConstraint::json_mask(const JsonMatcher& matcher) const {
    std::string key(1, 'j');
    key.append(matcher.state_key());
    {
        std::lock_guard lock(mutex_);
        if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    }
    auto mask = std::make_shared<TokenBitmask>(json_token_mask(matcher, *vocabulary_));
    if (matcher.is_complete() && ids_.return_ >= 0) mask->set(ids_.return_);
    // A state that no token continues (a byte sequence no token spells): end the message rather than
    // leave the sampler nothing to pick.
    if (mask->count() == 0 && ids_.return_ >= 0) mask->set(ids_.return_);
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCachedMasks) cache_.clear();
    cache_.emplace(key, mask);
    return mask;
}

std::shared_ptr<const TokenBitmask> HarmonyConstraint::header_mask(const std::vector<int32_t>& header,
                                                                   bool after_start) const {
    std::string key = after_start ? "H" : "h";
    for (int32_t s : header) key.append(reinterpret_cast<const char*>(&s), sizeof(s));
    {
        std::lock_guard lock(mutex_);
        if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    }
    const TokenVocabulary& v = *vocabulary_;
    std::vector<std::vector<int32_t>> allowed;
    for (const char* channel : {"analysis", "final"}) {
        std::vector<int32_t> h;
        if (after_start) {
            for (char c : std::string("assistant")) h.push_back(static_cast<uint8_t>(c));
        }
        h.push_back(256 + ids_.channel);
        for (const char* c = channel; *c; ++c) h.push_back(static_cast<uint8_t>(*c));
        h.push_back(256 + ids_.message);
        allowed.push_back(std::move(h));
    }
    auto mask = std::make_shared<TokenBitmask>(v.num_tokens());
    for (int32_t id = 0; id < v.num_tokens(); ++id) {
        if (v.bytes(id).empty()) continue;
        std::vector<int32_t> next = header;
        const std::vector<int32_t> more = symbols_of(v, id);
        next.insert(next.end(), more.begin(), more.end());
        for (const auto& h : allowed) {
            if (next.size() <= h.size() && std::equal(next.begin(), next.end(), h.begin())) {
                mask->set(id);
                break;
            }
        }
    }
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCachedMasks) cache_.clear();
    cache_.emplace(key, mask);
    return mask;
}

std::shared_ptr<const HarmonyConstraint> make_harmony_constraint(
    const StructuredOutputRequest& request, std::shared_ptr<const TokenVocabulary> vocabulary) {
    std::shared_ptr<const JsonGrammar> grammar;
    switch (request.format) {
        case StructuredOutputRequest::Format::kText:
            return nullptr;
        case StructuredOutputRequest::Format::kJsonObject:
            grammar = std::make_shared<const JsonGrammar>(any_json_object_grammar());
            break;
        case StructuredOutputRequest::Format::kJsonSchema:
            grammar = std::make_shared<const JsonGrammar>(compile_json_schema(request.schema));
            break;
    }
    return std::make_shared<const HarmonyConstraint>(std::move(grammar), !request.tool_calls_allowed,
                                                     std::move(vocabulary));
}

ConstraintState::ConstraintState(const HarmonyConstraint& constraint)
    : constraint_(constraint), matcher_(constraint.grammar()) {}

const TokenBitmask* ConstraintState::allowed_tokens() const {
    if (!mask_) {
        switch (phase_) {
            case Phase::kHeader:
                if (constraint_.answer_on_final()) mask_ = constraint_.header_mask(header_, after_start_);
                break;
            case Phase::kFreeBody:
                if (constraint_.answer_on_final()) mask_ = constraint_.body_mask();
                break;
            case Phase::kAfterEnd:
                if (constraint_.answer_on_final()) mask_ = constraint_.start_only_mask();
                break;
            case Phase::kJson:
                mask_ = constraint_.json_mask(matcher_);
                break;
            case Phase::kDone:
                break;
        }
    }
    return mask_.get();
}

void ConstraintState::advance(int32_t token) {
    mask_.reset();
    const auto& ids = constraint_.ids();
    const TokenVocabulary& v = constraint_.vocabulary();
    if (token == ids.call || token == ids.return_) {
        phase_ = Phase::kDone;
        return;
    }
    switch (phase_) {
        case Phase::kHeader:
            if (token == ids.message) {
                open_body();
            } else if (token >= 0 && token < v.num_tokens()) {
                const std::vector<int32_t> more = symbols_of(v, token);
                header_.insert(header_.end(), more.begin(), more.end());
            }
            return;
        case Phase::kFreeBody:
            if (token == ids.end) phase_ = Phase::kAfterEnd;
            return;
        case Phase::kAfterEnd:
            if (token == ids.start) {
                phase_ = Phase::kHeader;
                after_start_ = true;
                header_.clear();
            }
            return;
        case Phase::kJson:
            if (token == ids.end) {
                phase_ = Phase::kAfterEnd;
            } else if (token < 0 || token >= v.num_tokens() || v.is_special(token) ||
                       !matcher_.advance(v.bytes(token))) {
                // Only a sampler that ignored the mask gets here; stop constraining rather than guess.
                phase_ = Phase::kDone;
            }
            return;
        case Phase::kDone:
            return;
    }
}

// The header is complete: the final channel without a recipient gets the JSON grammar.
void ConstraintState::open_body() {
    const auto& ids = constraint_.ids();
    auto channel = std::find(header_.begin(), header_.end(), 256 + ids.channel);
    std::string name;
    bool recipient = false;
    std::string text;
    for (int32_t s : header_) {
        if (s < 256) text.push_back(static_cast<char>(s));
    }
    recipient = text.find("to=") != std::string::npos;
    if (channel != header_.end()) {
        for (auto it = channel + 1; it != header_.end() && *it < 256 && *it != ' '; ++it)
            name.push_back(static_cast<char>(*it));
    }
    header_.clear();
    if (name == "final" && !recipient) {
        phase_ = Phase::kJson;
        matcher_ = JsonMatcher(constraint_.grammar());
    } else {
        phase_ = Phase::kFreeBody;
    }
}

}  // namespace gptoss::structured
