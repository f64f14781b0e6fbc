#include "engine/structured/harmony_constraint.h"

#include <algorithm>

#include "engine/structured/json_token_mask.h"

namespace gptoss::structured {

namespace {

// Masks of distinct states kept per request; 25 KiB each for o200k_harmony. Cleared when full: a state
// recurs within a reply (string bodies, item separators), rarely across a long one.
constexpr size_t kMaxCachedMasks = 512;

int32_t special_or_none(const TokenVocabulary& v, const char* text) {
    auto id = v.special_id(text);
    return id ? *id : -1;
}

std::vector<int32_t> symbols_of(const TokenVocabulary& v, int32_t id) {
    if (v.is_special(id)) return {256 + id};
    std::vector<int32_t> out;
    for (char c : v.bytes(id)) out.push_back(static_cast<uint8_t>(c));
    return out;
}

void append_text(std::vector<int32_t>& symbols, const std::string& text) {
    for (char c : text) symbols.push_back(static_cast<uint8_t>(c));
}

// The headers still possible after some symbols: which of them, and how far in.
struct HeaderWalk {
    int32_t position = 0;
    std::vector<uint16_t> alive;
};

}  // namespace

HarmonyConstraint::HarmonyConstraint(std::shared_ptr<const JsonGrammar> final_grammar, Headers headers,
                                     std::vector<CallTarget> calls,
                                     std::shared_ptr<const TokenVocabulary> vocabulary)
    : final_grammar_(std::move(final_grammar)),
      headers_(headers),
      calls_(std::move(calls)),
      vocabulary_(std::move(vocabulary)) {
    const TokenVocabulary& v = *vocabulary_;
    ids_.start = special_or_none(v, "<|start|>");
    ids_.channel = special_or_none(v, "<|channel|>");
    ids_.constrain = special_or_none(v, "<|constrain|>");
    ids_.message = special_or_none(v, "<|message|>");
    ids_.end = special_or_none(v, "<|end|>");
    ids_.call = special_or_none(v, "<|call|>");
    ids_.return_ = special_or_none(v, "<|return|>");
    auto body = std::make_shared<TokenBitmask>(v.num_tokens());
    body->set_all();
    for (int32_t id : {ids_.call, ids_.return_}) {
        if (id >= 0) body->reset(id);
    }
    body_mask_ = std::move(body);
    auto start = std::make_shared<TokenBitmask>(v.num_tokens());
    if (ids_.start >= 0) start->set(ids_.start);
    start_only_mask_ = std::move(start);

    auto channel_header = [&](const char* channel) {
        std::vector<int32_t> h{256 + ids_.channel};
        append_text(h, channel);
        return h;
    };
    if (headers_ != Headers::kFree) {
        allowed_headers_.push_back(channel_header("analysis"));
        allowed_headers_.back().push_back(256 + ids_.message);
    }
    if (headers_ == Headers::kAnalysisOrFinal) {
        allowed_headers_.push_back(channel_header("final"));
        allowed_headers_.back().push_back(256 + ids_.message);
    }
    if (headers_ == Headers::kAnalysisOrCall) {
        for (const CallTarget& call : calls_) {
            if (!call.allowed) continue;
            std::vector<int32_t> h = channel_header("commentary");
            append_text(h, " to=functions." + call.name + " ");
            h.push_back(256 + ids_.constrain);
            append_text(h, "json");
            h.push_back(256 + ids_.message);
            allowed_headers_.push_back(std::move(h));
        }
    }
}

std::unique_ptr<ConstraintState> HarmonyConstraint::start() const {
    return std::make_unique<ConstraintState>(*this);
}

const HarmonyConstraint::CallTarget* HarmonyConstraint::call_target(const std::string& recipient) const {
    const std::string name = recipient.starts_with("functions.") ? recipient.substr(10) : recipient;
    for (const CallTarget& call : calls_) {
        if (call.name == name) return &call;
    }
    return nullptr;
}

std::shared_ptr<const TokenBitmask> HarmonyConstraint::cached(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    return it == cache_.end() ? nullptr : it->second;
}

std::shared_ptr<const TokenBitmask> HarmonyConstraint::remember(
    std::string key, std::shared_ptr<const TokenBitmask> mask) const {
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCachedMasks) cache_.clear();
    cache_.emplace(std::move(key), mask);
    return mask;
}

std::shared_ptr<const TokenBitmask> HarmonyConstraint::json_mask(const JsonMatcher& matcher, int32_t grammar,
                                                                 int32_t stop) const {
    std::string key(1, 'j');
    key.append(reinterpret_cast<const char*>(&grammar), sizeof(grammar));
    key.append(reinterpret_cast<const char*>(&stop), sizeof(stop));
    key.append(matcher.state_key());
    if (auto hit = cached(key)) return hit;
    auto mask = std::make_shared<TokenBitmask>(json_token_mask(matcher, *vocabulary_));
    if (matcher.is_complete() && stop >= 0) mask->set(stop);
    // A state that no token continues (a byte sequence no token spells): end the message rather than
    // leave the sampler nothing to pick.
    if (mask->count() == 0 && stop >= 0) mask->set(stop);
    return remember(std::move(key), std::move(mask));
}

std::shared_ptr<const TokenBitmask> HarmonyConstraint::header_mask(const std::vector<int32_t>& header,
                                                                   bool after_start) const {
    std::string key = after_start ? "H" : "h";
    for (int32_t s : header) key.append(reinterpret_cast<const char*>(&s), sizeof(s));
    if (auto hit = cached(key)) return hit;
    const TokenVocabulary& v = *vocabulary_;
    std::vector<std::vector<int32_t>> full;  // the allowed headers as this one must spell them
    for (const auto& h : allowed_headers_) {
        std::vector<int32_t> f;
        if (after_start) append_text(f, "assistant");
        f.insert(f.end(), h.begin(), h.end());
        full.push_back(std::move(f));
    }
    HeaderWalk root{static_cast<int32_t>(header.size()), {}};
    for (size_t i = 0; i < full.size(); ++i) {
        if (full[i].size() >= header.size() && std::equal(header.begin(), header.end(), full[i].begin()))
            root.alive.push_back(static_cast<uint16_t>(i));
    }
    auto mask = std::make_shared<TokenBitmask>(v.num_tokens());
    auto next_is = [&](const HeaderWalk& w, int32_t symbol) {
        return std::any_of(w.alive.begin(), w.alive.end(), [&](uint16_t i) {
            return full[i].size() > size_t(w.position) && full[i][size_t(w.position)] == symbol;
        });
    };
    for (int32_t id : v.special_ids()) {
        if (next_is(root, 256 + id)) mask->set(id);
    }
    const ByteTrie& trie = v.trie();
    trie.walk(
        root,
        [&](const HeaderWalk& from, uint8_t byte, HeaderWalk& to) {
            to.position = from.position + 1;
            to.alive.clear();
            for (uint16_t i : from.alive) {
                if (full[i].size() > size_t(from.position) && full[i][size_t(from.position)] == byte)
                    to.alive.push_back(i);
            }
            return !to.alive.empty();
        },
        [&](int32_t node, const HeaderWalk&) {
            for (const int32_t* it = trie.items_begin(node); it != trie.items_end(node); ++it) mask->set(*it);
        });
    return remember(std::move(key), std::move(mask));
}

std::shared_ptr<const HarmonyConstraint> make_harmony_constraint(
    const StructuredOutputRequest& request, std::shared_ptr<const TokenVocabulary> vocabulary) {
    using Format = StructuredOutputRequest::Format;
    using Choice = StructuredOutputRequest::ToolChoice;
    std::shared_ptr<const JsonGrammar> final_grammar;
    if (request.format == Format::kJsonObject) {
        final_grammar = std::make_shared<const JsonGrammar>(any_json_object_grammar());
    } else if (request.format == Format::kJsonSchema) {
        final_grammar = std::make_shared<const JsonGrammar>(compile_json_schema(request.schema));
    }
    std::vector<HarmonyConstraint::CallTarget> calls;
    bool any_strict = false;
    if (request.tool_calls_allowed) {
        const auto any_object = std::make_shared<const JsonGrammar>(any_json_object_grammar());
        for (size_t i = 0; i < request.tools.size(); ++i) {
            const auto& tool = request.tools[i];
            HarmonyConstraint::CallTarget call{tool.name, any_object, true};
            const nlohmann::json schema =
                tool.parameters.is_null() ? nlohmann::json{{"type", "object"}} : tool.parameters;
            // Strict: the schema must compile. Otherwise it holds the arguments where the compiler takes it
            // (clients such as the AI SDK never send strict), else any JSON object does.
            try {
                call.arguments = std::make_shared<const JsonGrammar>(compile_json_schema(schema));
            } catch (const SchemaError& e) {
                if (tool.strict) throw ToolSchemaError(e, i);
            }
            any_strict = any_strict || tool.strict;
            call.allowed = request.tool_choice != Choice::kNamed || tool.name == request.named_tool;
            calls.push_back(std::move(call));
        }
    }
    const bool call_forced = request.tool_calls_allowed && request.tool_choice != Choice::kAuto;
    if (!final_grammar && !call_forced && !any_strict) return nullptr;
    const auto headers = call_forced                   ? HarmonyConstraint::Headers::kAnalysisOrCall
                         : !request.tool_calls_allowed ? HarmonyConstraint::Headers::kAnalysisOrFinal
                                                       : HarmonyConstraint::Headers::kFree;
    return std::make_shared<const HarmonyConstraint>(std::move(final_grammar), headers, std::move(calls),
                                                     std::move(vocabulary));
}

ConstraintState::ConstraintState(const HarmonyConstraint& constraint) : constraint_(constraint) {}

const TokenBitmask* ConstraintState::allowed_tokens() const {
    if (!mask_) {
        switch (phase_) {
            case Phase::kHeader:
                if (headers_held()) mask_ = constraint_.header_mask(header_, after_start_);
                break;
            case Phase::kFreeBody:
                if (headers_held()) mask_ = constraint_.body_mask();
                break;
            case Phase::kAfterEnd:
                if (headers_held()) mask_ = constraint_.start_only_mask();
                break;
            case Phase::kJson:
                mask_ = constraint_.json_mask(*matcher_, grammar_, stop_);
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
                       !matcher_->advance(v.bytes(token))) {
                // Only a sampler that ignored the mask gets here; stop constraining rather than guess.
                phase_ = Phase::kDone;
            }
            return;
        case Phase::kDone:
            return;
    }
}

// The header is complete: the final channel without a recipient gets the response format's grammar, a call
// to an offered tool its arguments' grammar; anything else is free.
void ConstraintState::open_body() {
    const auto& ids = constraint_.ids();
    std::string channel;
    std::string recipient;
    // "to=NAME" ends at a space or a special token; the channel name likewise, after <|channel|>.
    for (size_t i = 0; i < header_.size(); ++i) {
        auto word_at = [&](size_t from) {
            std::string w;
            for (size_t j = from; j < header_.size() && header_[j] < 256 && header_[j] != ' '; ++j)
                w.push_back(static_cast<char>(header_[j]));
            return w;
        };
        if (header_[i] == 256 + ids.channel) channel = word_at(i + 1);
        if (i + 3 <= header_.size() && header_[i] == 't' && header_[i + 1] == 'o' && header_[i + 2] == '=')
            recipient = word_at(i + 3);
    }
    header_.clear();
    phase_ = Phase::kFreeBody;
    if (!recipient.empty()) {
        const HarmonyConstraint::CallTarget* call = constraint_.call_target(recipient);
        if (call == nullptr) return;
        grammar_ = 1 + static_cast<int32_t>(call - constraint_.calls().data());
        stop_ = ids.call;
        matcher_ = std::make_unique<JsonMatcher>(call->arguments);
        phase_ = Phase::kJson;
    } else if (channel == "final" && constraint_.final_grammar()) {
        grammar_ = 0;
        stop_ = ids.return_;
        matcher_ = std::make_unique<JsonMatcher>(constraint_.final_grammar());
        phase_ = Phase::kJson;
    }
}

}  // namespace gptoss::structured
