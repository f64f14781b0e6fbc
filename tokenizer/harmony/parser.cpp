#include "tokenizer/harmony/parser.h"

#include <algorithm>
#include <utility>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gptoss::harmony {

namespace {

// Rust's Debug form of Some(String), as harmony's "unexpected tokens remaining" message prints it.
std::string debug_some(const std::string& text) {
    std::string out = "Some(\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\")";
}

ParserEvent stop_event(int32_t token) {
    ParserEvent event;
    event.kind = ParserEvent::Kind::kStopToken;
    event.token = token;
    return event;
}

}  // namespace

StreamParser::StreamParser(std::shared_ptr<const Tokenizer> tokenizer, ParserOptions options)
    : tokenizer_(std::move(tokenizer)),
      formatting_(FormattingTokens::from_tokenizer(*tokenizer_)),
      options_(options) {
    if (options_.initial_role) {
        begin_header(options_.initial_role);
    } else {
        state_ = State::kExpectStart;
    }
}

std::optional<Role> StreamParser::current_role() const {
    if (state_ == State::kContent && current_header_) return current_header_->author.role;
    return next_role_;
}

std::vector<ParserEvent> StreamParser::process(int32_t token) {
    std::vector<ParserEvent> events;
    switch (state_) {
        case State::kExpectStart:
            expect_start(token, events);
            break;
        case State::kHeader:
            read_header(token, events);
            break;
        case State::kContent:
            read_body(token, events);
            break;
    }
    return events;
}

std::vector<ParserEvent> StreamParser::process_eos() {
    std::vector<ParserEvent> events;
    if (state_ == State::kContent) {
        end_message(std::nullopt, events);
    } else if (state_ == State::kHeader) {
        if (!tolerant()) throw ParseError("Unexpected EOS while waiting for message header to complete");
        if (!header_tokens_.empty())
            warn("the output ended inside a message header; its text was kept as a body");
        recover_header(std::nullopt, events);
    }
    return events;
}

void StreamParser::expect_start(int32_t token, std::vector<ParserEvent>& events) {
    if (token == formatting_.start) {
        begin_header(std::nullopt);
        return;
    }
    if (!tolerant()) {
        throw ParseError("Unexpected token " + std::to_string(token) + " while expecting start token " +
                         std::to_string(formatting_.start));
    }
    if (formatting_.ends_message(token)) {
        warn("a terminator outside any message was ignored");
        if (formatting_.stops_generation(token)) events.push_back(stop_event(token));
        return;
    }
    warn("output continued without <|start|>; it was read as an assistant message");
    begin_header(Role::kAssistant);
    read_header(token, events);
}

void StreamParser::read_header(int32_t token, std::vector<ParserEvent>& events) {
    if (token == formatting_.message) {
        HeaderParseOptions header_options{next_role_, true, tolerant()};
        ParsedHeader parsed = parse_header(decode_header(), header_options, &warnings_);
        if (parsed.remaining_words) {
            const std::string problem =
                "unexpected tokens remaining in message header: " + debug_some(*parsed.remaining_words);
            if (!tolerant()) throw ParseError(problem);
            warn(problem + " (dropped)");
        }
        next_role_.reset();
        header_tokens_.clear();
        begin_body(std::move(parsed.header), events);
        return;
    }
    if (options_.mode != ParseMode::kStrict && formatting_.ends_message(token)) {
        // A stop token before <|message|>: harmony's non-strict mode recovers only the first message.
        if (next_role_ || tolerant()) {
            if (tolerant() && !header_tokens_.empty())
                warn("a message header ended without <|message|>; its text was kept as a body");
            recover_header(token, events);
        } else {
            state_ = State::kExpectStart;
            header_tokens_.clear();
        }
        if (formatting_.stops_generation(token)) events.push_back(stop_event(token));
        return;
    }
    if (tolerant() && token == formatting_.start) {
        if (!header_tokens_.empty()) {
            warn("<|start|> inside a message header; the text before it was kept as a body");
            recover_header(std::nullopt, events);
        }
        begin_header(std::nullopt);
        return;
    }
    if (tolerant() && header_tokens_.size() >= kMaxHeaderTokens) {
        warn("a message header ran past " + std::to_string(kMaxHeaderTokens) +
             " tokens without <|message|>; it was read as body text");
        ParsedHeader recovered = recover_header_words();
        begin_body(std::move(recovered.header), events);
        if (recovered.remaining_words && !recovered.remaining_words->empty()) {
            pending_bytes_ = *recovered.remaining_words;
            append_body_bytes(events);
        }
        read_body(token, events);
        return;
    }
    header_tokens_.push_back(token);
}

void StreamParser::read_body(int32_t token, std::vector<ParserEvent>& events) {
    if (formatting_.ends_message(token)) {
        end_message(token, events);
        if (formatting_.stops_generation(token)) events.push_back(stop_event(token));
        return;
    }
    if (tolerant()) {
        if (token == formatting_.start || token == formatting_.channel) {
            warn("a new message began without <|end|>; the previous message was ended there");
            end_message(std::nullopt, events);
            begin_header(token == formatting_.channel ? std::optional<Role>(Role::kAssistant) : std::nullopt);
            if (token == formatting_.channel) header_tokens_.push_back(token);
            return;
        }
        if (!tokenizer_->is_valid(token)) {
            warn("token id " + std::to_string(token) + " is not in the vocabulary; it became U+FFFD");
            pending_bytes_ += utf8::kReplacementCharacter;
            append_body_bytes(events);
            return;
        }
        if (tokenizer_->is_special(token)) {
            warn("special token " + std::string(tokenizer_->token_to_bytes(token)) +
                 " inside a message body was dropped");
            last_delta_.reset();
            return;
        }
    }
    // harmony: ids that do not decode (outside the vocabulary) wait, and take every later id with them.
    pending_ids_.push_back(token);
    const bool decodable = std::all_of(pending_ids_.begin(), pending_ids_.end(),
                                       [&](int32_t id) { return tokenizer_->is_valid(id); });
    if (!decodable) {
        last_delta_.reset();
        return;
    }
    for (int32_t id : pending_ids_) pending_bytes_ += tokenizer_->token_to_bytes(id);
    pending_ids_.clear();
    append_body_bytes(events);
}

void StreamParser::begin_header(std::optional<Role> role) {
    state_ = State::kHeader;
    next_role_ = role;
    header_tokens_.clear();
}

void StreamParser::begin_body(MessageHeader header, std::vector<ParserEvent>& events) {
    state_ = State::kContent;
    current_header_ = std::move(header);
    content_.clear();
    pending_ids_.clear();
    pending_bytes_.clear();
    ParserEvent event;
    event.kind = ParserEvent::Kind::kMessageStart;
    event.header = *current_header_;
    events.push_back(std::move(event));
}

// Emits the decodable prefix of pending_bytes_. At most one invalid sequence is replaced per call (by one
// U+FFFD); the bytes after it wait for the next token, exactly as harmony does.
void StreamParser::append_body_bytes(std::vector<ParserEvent>& events) {
    const size_t valid = utf8::valid_prefix_length(pending_bytes_);
    std::string delta = pending_bytes_.substr(0, valid);
    size_t consumed = valid;
    bool waiting = false;  // the bytes end inside a character that the next token may complete
    if (valid < pending_bytes_.size()) {
        const utf8::Sequence next = utf8::classify_sequence(std::string_view(pending_bytes_).substr(valid));
        if (next.kind == utf8::SequenceKind::kInvalid) {
            delta += utf8::kReplacementCharacter;
            consumed += next.length;
        } else {
            waiting = true;
        }
    }
    pending_bytes_.erase(0, consumed);
    if (!waiting || !delta.empty()) {
        last_delta_ = delta;
    } else {
        last_delta_.reset();
    }
    if (delta.empty()) return;
    content_ += delta;
    ParserEvent event;
    event.kind = ParserEvent::Kind::kContentDelta;
    event.text = std::move(delta);
    events.push_back(std::move(event));
}

void StreamParser::end_message(std::optional<int32_t> terminator, std::vector<ParserEvent>& events) {
    // What never decoded: undecodable ids become one U+FFFD, unfinished bytes are decoded lossily.
    std::string tail = pending_ids_.empty() ? "" : std::string(utf8::kReplacementCharacter);
    utf8::append_lossy(pending_bytes_, tail);
    if (!tail.empty()) {
        content_ += tail;
        ParserEvent event;
        event.kind = ParserEvent::Kind::kContentDelta;
        event.text = std::move(tail);
        events.push_back(std::move(event));
    }
    Message message;
    message.author = current_header_->author;
    message.recipient = current_header_->recipient;
    message.channel = current_header_->channel;
    message.content_type = current_header_->content_type;
    message.content.emplace_back(TextContent{std::move(content_)});
    messages_.push_back(std::move(message));
    ParserEvent event;
    event.kind = ParserEvent::Kind::kMessageEnd;
    event.token = terminator;
    events.push_back(std::move(event));

    state_ = State::kExpectStart;
    current_header_.reset();
    content_.clear();
    pending_ids_.clear();
    pending_bytes_.clear();
    last_delta_.reset();
}

ParsedHeader StreamParser::recover_header_words() {
    const std::string text = decode_header();
    HeaderParseOptions header_options{next_role_, false, tolerant()};
    ParsedHeader parsed = parse_header(text, header_options, &warnings_);
    if (tolerant() && !next_role_ && parsed.header.author.role == Role::kTool) {
        // Without a known role, an unknown first word is prose, not a tool name.
        header_options.role = Role::kAssistant;
        parsed = parse_header(text, header_options, &warnings_);
    }
    return parsed;
}

void StreamParser::recover_header(std::optional<int32_t> terminator, std::vector<ParserEvent>& events) {
    if (!header_tokens_.empty()) {
        ParsedHeader recovered = recover_header_words();
        begin_body(std::move(recovered.header), events);
        if (recovered.remaining_words) {
            pending_bytes_ = *recovered.remaining_words;
            append_body_bytes(events);
        }
        end_message(terminator, events);
    }
    state_ = State::kExpectStart;
    next_role_.reset();
    header_tokens_.clear();
}

std::string StreamParser::decode_header() const {
    std::string bytes;
    for (int32_t id : header_tokens_) {
        if (tokenizer_->is_valid(id)) {
            bytes += tokenizer_->token_to_bytes(id);
        } else if (tolerant()) {
            bytes += utf8::kReplacementCharacter;
        } else {
            throw ParseError("could not decode header: token id " + std::to_string(id) +
                             " is not in the vocabulary");
        }
    }
    if (utf8::is_valid(bytes)) return bytes;
    if (!tolerant()) throw ParseError("could not decode header: it is not valid UTF-8");
    std::string text;
    utf8::append_lossy(bytes, text);
    return text;
}

void StreamParser::warn(std::string warning) {
    warnings_.push_back(std::move(warning));
}

}  // namespace gptoss::harmony
