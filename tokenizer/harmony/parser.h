// Streaming harmony parser: model output tokens, one at a time -> messages and events (harmony.md 11).
//
// kStrict and kNonStrict reproduce openai/harmony's StreamableParser (strict=true / false) exactly, including
// its UTF-8 buffering, U+FFFD placement and error messages (the peer parse cases pin them). kTolerant is for
// serving: it never throws; whatever harmony would reject degrades to plain content with a warning:
//   - a token where <|start|> was expected opens an assistant header (text before any header, a missing
//     <|start|>assistant), recovered like harmony's non-strict first message;
//   - a header that never reaches <|message|> (ended by a terminator, <|start|>, the end of the stream, or
//     longer than kMaxHeaderTokens) becomes the body of a message;
//   - a header harmony cannot parse is parsed leniently (empty channel ignored, unknown role -> assistant,
//     extra words dropped);
//   - <|start|> or <|channel|> inside a body ends that message and begins the next header (the model forgot
//     <|end|>); other formatting tokens inside a body are dropped instead of leaking as literal text;
//   - an id outside the vocabulary becomes U+FFFD on the spot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/harmony/formatting_tokens.h"
#include "tokenizer/harmony/header.h"
#include "tokenizer/harmony/types.h"

namespace gptoss {
class Tokenizer;
}

namespace gptoss::harmony {

enum class ParseMode { kStrict, kNonStrict, kTolerant };

struct ParserOptions {
    // The role of the first message when the stream starts right after "<|start|>assistant" (the usual
    // generation prompt); nullopt when the stream starts with <|start|>.
    std::optional<Role> initial_role = Role::kAssistant;
    ParseMode mode = ParseMode::kStrict;
};

struct ParserEvent {
    enum class Kind {
        kMessageStart,  // header complete: `header` holds role, channel, recipient, content type
        kContentDelta,  // `text` was appended to the current message's body
        kMessageEnd,    // the current message is complete (messages().back()); `token` = its terminator
        kStopToken,     // <|return|> or <|call|> was consumed: generation should have stopped here
    };
    Kind kind = Kind::kContentDelta;
    MessageHeader header;          // kMessageStart
    std::string text;              // kContentDelta
    std::optional<int32_t> token;  // kMessageEnd (nullopt at end of stream), kStopToken
};

class StreamParser {
public:
    // Headers longer than this (in tokens) are not headers: kTolerant turns them into body text.
    static constexpr size_t kMaxHeaderTokens = 128;

    StreamParser(std::shared_ptr<const Tokenizer> tokenizer, ParserOptions options = {});

    // Feeds one token. kStrict / kNonStrict throw ParseError where harmony does; kTolerant never throws.
    std::vector<ParserEvent> process(int32_t token);
    // End of stream: closes a message body; a pending header is an error (strict, non-strict) or is
    // recovered (tolerant).
    std::vector<ParserEvent> process_eos();

    // Completed messages, in order.
    const std::vector<Message>& messages() const { return messages_; }
    // Header of the message whose body is being read (nullopt before <|message|> and between messages).
    const std::optional<MessageHeader>& current_header() const { return current_header_; }
    // The role known for the next or current message (harmony's current_role).
    std::optional<Role> current_role() const;
    // Body text decoded so far (bytes of an unfinished character are not included).
    const std::string& current_content() const { return content_; }
    // What the last token added to the body; nullopt when it added nothing (harmony's last_content_delta).
    const std::optional<std::string>& last_content_delta() const { return last_delta_; }
    // What kTolerant repaired, one sentence each.
    const std::vector<std::string>& warnings() const { return warnings_; }

private:
    enum class State { kExpectStart, kHeader, kContent };

    void expect_start(int32_t token, std::vector<ParserEvent>& events);
    void read_header(int32_t token, std::vector<ParserEvent>& events);
    void read_body(int32_t token, std::vector<ParserEvent>& events);
    void begin_header(std::optional<Role> role);
    void begin_body(MessageHeader header, std::vector<ParserEvent>& events);
    void append_body_bytes(std::vector<ParserEvent>& events);
    void end_message(std::optional<int32_t> terminator, std::vector<ParserEvent>& events);
    // A header that never reached <|message|>: its words become the body of a complete message.
    void recover_header(std::optional<int32_t> terminator, std::vector<ParserEvent>& events);
    ParsedHeader recover_header_words();
    std::string decode_header() const;
    void warn(std::string warning);
    bool tolerant() const { return options_.mode == ParseMode::kTolerant; }

    std::shared_ptr<const Tokenizer> tokenizer_;
    FormattingTokens formatting_;
    ParserOptions options_;

    State state_ = State::kExpectStart;
    std::optional<Role> next_role_;  // role of the header being read, when known in advance
    std::vector<int32_t> header_tokens_;
    std::optional<MessageHeader> current_header_;
    std::string content_;               // decoded body of the current message
    std::vector<int32_t> pending_ids_;  // ids whose bytes are not decodable yet (unknown ids, kStrict)
    std::string pending_bytes_;         // bytes of an unfinished UTF-8 character
    std::optional<std::string> last_delta_;
    std::vector<Message> messages_;
    std::vector<std::string> warnings_;
};

}  // namespace gptoss::harmony
