// libFuzzer target: random token sequences through the streaming harmony parser (all three modes) and the
// chat output assembler the server uses. Properties checked:
//   - strict / non-strict parsing fails only with harmony::ParseError;
//   - tolerant parsing and ChatOutputAssembler never throw;
//   - the events of a run add up to its messages (every delta belongs to the message it is reported for);
//   - memory stays proportional to the input (libFuzzer's -rss_limit_mb / -malloc_limit_mb catch the rest).
//
// Input layout: byte 0 picks the mode, the initial role and a stop-trim length; each later byte below 0xC0
// picks a token from a list of structurally interesting ones (formatting tokens, header words, broken UTF-8,
// ids outside the vocabulary), and a byte from 0xC0 up starts a 3-byte raw id anywhere in (and around) the
// vocabulary. The tokenizer is ../shared/vocab/o200k_base.tiktoken ($GPTOSS_FUZZ_TOKENIZER overrides).
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "server/chat_mapping.h"
#include "tokenizer/harmony/parser.h"
#include "tokenizer/tokenizer.h"

namespace {

using gptoss::harmony::ParseMode;
using gptoss::harmony::ParserEvent;

struct Setup {
    std::shared_ptr<const gptoss::Tokenizer> tokenizer;
    std::vector<int32_t> interesting;  // [192] tokens chosen by one input byte
};

const Setup& setup() {
    static const Setup instance = [] {
        Setup s;
        const char* path = std::getenv("GPTOSS_FUZZ_TOKENIZER");
        s.tokenizer = gptoss::Tokenizer::from_file(path != nullptr ? path : GPTOSS_DEFAULT_FUZZ_TOKENIZER);
        const auto f = gptoss::harmony::FormattingTokens::from_tokenizer(*s.tokenizer);
        const int32_t vocab = s.tokenizer->vocab_size();
        for (int32_t id : {f.start, f.channel, f.message, f.end, f.call, f.return_, f.constrain}) {
            // Formatting tokens three times over: they drive the state machine.
            for (int k = 0; k < 3; ++k) s.interesting.push_back(id);
        }
        for (const char* text : {"assistant",
                                 "analysis",
                                 "final",
                                 "commentary",
                                 "user",
                                 "tool",
                                 "system",
                                 " to=",
                                 "functions.get_weather",
                                 " json",
                                 "json",
                                 " code",
                                 " ",
                                 "\n",
                                 "<|constrain|>",
                                 "<|start|>",
                                 "to=assistant",
                                 "browser.search",
                                 "{\"a\": 1}",
                                 "💖",
                                 "é"}) {
            for (int32_t id : s.tokenizer->encode_ordinary(text)) s.interesting.push_back(id);
        }
        // Broken UTF-8 (9552: " \xF0\x9F"), a split emoji, specials that are not harmony's, ids outside.
        for (int32_t id :
             {9552, 9559, 31446, 244, 199998, 199999, 200013, vocab - 1, vocab, -1, INT32_MAX, INT32_MIN}) {
            s.interesting.push_back(id);
        }
        size_t i = 0;
        while (s.interesting.size() < 192) s.interesting.push_back(s.interesting[i++]);
        s.interesting.resize(192);
        return s;
    }();
    return instance;
}

std::vector<int32_t> tokens_from(const uint8_t* data, size_t size, const Setup& s) {
    std::vector<int32_t> tokens;
    const int64_t span = static_cast<int64_t>(s.tokenizer->vocab_size()) + 64;
    for (size_t pos = 0; pos < size;) {
        const uint8_t byte = data[pos++];
        if (byte < 0xC0) {
            tokens.push_back(s.interesting[byte]);
        } else if (pos + 2 <= size) {
            const int64_t raw = (static_cast<int64_t>(byte & 0x3F) << 16) | (data[pos] << 8) | data[pos + 1];
            pos += 2;
            tokens.push_back(static_cast<int32_t>(raw % span) - 32);
        }
    }
    return tokens;
}

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "harmony_parser_fuzz: %s\n", what);
    std::abort();
}

// Replays the events and checks them against the parser's messages.
void check_events(const gptoss::harmony::StreamParser& parser, const std::vector<ParserEvent>& events) {
    std::vector<std::string> bodies;
    bool open = false;
    size_t num_ends = 0;
    for (const auto& event : events) {
        switch (event.kind) {
            case ParserEvent::Kind::kMessageStart:
                if (open) fail("message start inside a message");
                bodies.emplace_back();
                open = true;
                break;
            case ParserEvent::Kind::kContentDelta:
                if (!open || event.text.empty()) fail("delta outside a message, or empty");
                bodies.back() += event.text;
                break;
            case ParserEvent::Kind::kMessageEnd:
                if (!open) fail("message end without a start");
                open = false;
                ++num_ends;
                break;
            case ParserEvent::Kind::kStopToken:
                break;
        }
    }
    if (num_ends != parser.messages().size()) fail("message end events differ from the messages");
    for (size_t i = 0; i < num_ends; ++i) {
        if (bodies[i] != parser.messages()[i].text()) fail("deltas differ from the message text");
    }
}

void run_parser(const std::vector<int32_t>& tokens, ParseMode mode, bool assistant_first, const Setup& s) {
    using gptoss::harmony::Role;
    gptoss::harmony::StreamParser parser(
        s.tokenizer, {assistant_first ? std::optional(Role::kAssistant) : std::nullopt, mode});
    std::vector<ParserEvent> events;
    try {
        for (int32_t token : tokens) {
            auto step = parser.process(token);
            events.insert(events.end(), step.begin(), step.end());
        }
        auto last = parser.process_eos();
        events.insert(events.end(), last.begin(), last.end());
    } catch (const gptoss::harmony::ParseError&) {
        if (mode == ParseMode::kTolerant) fail("tolerant mode threw ParseError");
        return;
    }
    check_events(parser, events);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const Setup& s = setup();
    const uint8_t control = data[0];
    const std::vector<int32_t> tokens = tokens_from(data + 1, size - 1, s);
    const bool assistant_first = (control & 0x04) == 0;
    run_parser(tokens, static_cast<ParseMode>(control % 3), assistant_first, s);
    run_parser(tokens, ParseMode::kTolerant, assistant_first, s);

    // The serving path: never throws, and always yields a well-formed message.
    gptoss::ChatOutputAssembler assembler(s.tokenizer, gptoss::ChatPrompt{});
    for (int32_t token : tokens) assembler.push(token);
    assembler.finish(control >> 5);
    const nlohmann::json message = assembler.message();
    if (!message.contains("content") || message.dump().empty()) fail("malformed assembled message");
    (void)assembler.finish_reason(gptoss::FinishReason::kStop);
    return 0;
}
