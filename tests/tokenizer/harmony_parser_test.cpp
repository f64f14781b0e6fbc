// The streaming harmony parser (tokenizer/harmony/parser.cpp): every peer parse case, upstream and extra/,
// through the library API (messages, errors, per-step deltas), then the tolerant mode the server uses.
#include "tokenizer/harmony/parser.h"

#include <climits>
#include <random>

#include <gtest/gtest.h>

#include "tests/support/fixture.h"
#include "tests/tokenizer/harmony_peer_cases.h"
#include "tokenizer/harmony/message_json.h"
#include "tokenizer/tokenizer.h"

namespace gptoss::harmony {
namespace {

using Json = nlohmann::ordered_json;

std::shared_ptr<const Tokenizer> toy_tokenizer() {
    static const auto tokenizer = Tokenizer::from_file(testing::toy_harmony_dir() / "tokenizer.json");
    return tokenizer;
}

std::vector<int32_t> encode(const std::string& text) {
    return toy_tokenizer()->encode(text, SpecialTokenPolicy::all());
}

// A case's ids; an id beyond int32 (u32::MAX in parse/23) is outside the vocabulary, as -1 is.
std::vector<int32_t> case_tokens(const Json& test_case) {
    std::vector<int32_t> tokens;
    for (const Json& id : test_case.at("tokens")) {
        const int64_t value = id.get<int64_t>();
        tokens.push_back(value > INT32_MAX ? -1 : static_cast<int32_t>(value));
    }
    return tokens;
}

ParserOptions case_options(const Json& test_case, ParseMode mode) {
    const Json& options = test_case.at("options");
    ParserOptions parser_options;
    parser_options.initial_role =
        options.at("role").is_null() ? std::nullopt : role_from_name(options.at("role").get<std::string>());
    parser_options.mode = mode;
    return parser_options;
}

ParseMode case_mode(const Json& test_case) {
    return test_case.at("options").value("strict", true) ? ParseMode::kStrict : ParseMode::kNonStrict;
}

bool case_calls_eos(const Json& test_case) {
    return test_case.at("operation") == "parse_messages_from_completion_tokens" ||
           test_case.at("options").value("call_process_eos", false);
}

nlohmann::json messages_json(const StreamParser& parser) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& message : parser.messages()) out.push_back(nlohmann::json(message_to_json(message)));
    return out;
}

nlohmann::json optional_json(const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// Runs one case exactly as harmony's tests do and checks every expectation it states.
void check_case(const Json& test_case) {
    const Json& expected = test_case.at("expected");
    const std::vector<int32_t> tokens = case_tokens(test_case);
    StreamParser parser(toy_tokenizer(), case_options(test_case, case_mode(test_case)));
    const Json steps = expected.value("steps", Json::array());
    std::string concatenated_deltas;
    std::optional<std::string> error;
    try {
        for (size_t i = 0; i < tokens.size(); ++i) {
            parser.process(tokens[i]);
            if (parser.last_content_delta()) concatenated_deltas += *parser.last_content_delta();
            for (const Json& step : steps) {
                if (step.at("after_token_index").get<size_t>() != i) continue;
                EXPECT_EQ(optional_json(parser.last_content_delta()),
                          nlohmann::json(step.at("last_content_delta")))
                    << "after token " << i;
                EXPECT_EQ(parser.current_content(), step.at("current_content").get<std::string>())
                    << "after token " << i;
            }
        }
        if (expected.contains("current_content")) {
            EXPECT_EQ(parser.current_content(), expected["current_content"].get<std::string>());
        }
        if (case_calls_eos(test_case)) parser.process_eos();
    } catch (const ParseError& e) {
        error = e.what();
    }
    if (expected.value("error", false)) {
        ASSERT_TRUE(error.has_value()) << "expected an error, got " << messages_json(parser).dump();
        if (expected.contains("error_message")) {
            EXPECT_EQ(*error, expected["error_message"].get<std::string>());
        }
        if (expected.contains("error_contains")) {
            EXPECT_NE(error->find(expected["error_contains"].get<std::string>()), std::string::npos)
                << *error;
        }
        return;
    }
    ASSERT_FALSE(error.has_value()) << *error;
    const nlohmann::json messages = messages_json(parser);
    if (expected.contains("messages")) {
        EXPECT_EQ(messages, nlohmann::json(expected["messages"]));
    }
    if (test_case.contains("derived_messages")) {
        EXPECT_EQ(messages, nlohmann::json(test_case["derived_messages"]));
    }
    if (expected.contains("message_count")) {
        EXPECT_EQ(messages.size(), expected["message_count"].get<size_t>());
    }
    const Json messages_at = expected.value("messages_at", Json::object());
    for (const auto& [index, message] : messages_at.items()) {
        ASSERT_LT(std::stoul(index), messages.size());
        EXPECT_EQ(messages[std::stoul(index)], nlohmann::json(message));
    }
    if (expected.contains("concatenated_deltas")) {
        EXPECT_EQ(concatenated_deltas, expected["concatenated_deltas"].get<std::string>());
    }
    if (expected.contains("after_eos")) {
        EXPECT_EQ(optional_json(parser.last_content_delta()),
                  nlohmann::json(expected["after_eos"]["last_content_delta"]));
        EXPECT_EQ(parser.current_content(), expected["after_eos"]["current_content"].get<std::string>());
    }
    if (expected.contains("then")) {
        const Json& then = expected["then"];
        parser.process(then.at("token").get<int32_t>());
        EXPECT_EQ(optional_json(parser.last_content_delta()), nlohmann::json(then.at("last_content_delta")));
        EXPECT_EQ(parser.current_content(), then.at("current_content").get<std::string>());
    }
}

TEST(HarmonyParser, PeerCasesExist) {
    EXPECT_GE(testing::harmony_peer_cases("parse").size(), 28u);
}

TEST(HarmonyParser, EveryPeerCase) {
    for (const auto& path : testing::harmony_peer_cases("parse")) {
        SCOPED_TRACE(testing::case_name(path));
        check_case(testing::read_ordered_json(path));
    }
}

// The events of a run, replayed: per message, its header and the concatenation of its deltas.
struct Replay {
    std::vector<MessageHeader> headers;
    std::vector<std::string> bodies;
    std::vector<int32_t> stop_tokens;
    size_t num_ends = 0;

    void add(const std::vector<ParserEvent>& events) {
        for (const auto& event : events) {
            switch (event.kind) {
                case ParserEvent::Kind::kMessageStart:
                    headers.push_back(event.header);
                    bodies.emplace_back();
                    break;
                case ParserEvent::Kind::kContentDelta:
                    ASSERT_FALSE(bodies.empty());
                    bodies.back() += event.text;
                    break;
                case ParserEvent::Kind::kMessageEnd:
                    ++num_ends;
                    break;
                case ParserEvent::Kind::kStopToken:
                    stop_tokens.push_back(*event.token);
                    break;
            }
        }
    }
};

TEST(HarmonyParser, EventsAddUpToTheMessagesInEveryPeerCase) {
    for (const auto& path : testing::harmony_peer_cases("parse")) {
        SCOPED_TRACE(testing::case_name(path));
        const Json test_case = testing::read_ordered_json(path);
        if (test_case.at("expected").value("error", false)) continue;
        StreamParser parser(toy_tokenizer(), case_options(test_case, case_mode(test_case)));
        Replay replay;
        for (int32_t token : case_tokens(test_case)) replay.add(parser.process(token));
        if (case_calls_eos(test_case)) replay.add(parser.process_eos());
        ASSERT_EQ(replay.num_ends, parser.messages().size());
        for (size_t i = 0; i < parser.messages().size(); ++i) {
            const Message& message = parser.messages()[i];
            EXPECT_EQ(replay.bodies[i], message.text());
            EXPECT_EQ(replay.headers[i].channel, message.channel);
            EXPECT_EQ(replay.headers[i].recipient, message.recipient);
            EXPECT_EQ(replay.headers[i].content_type, message.content_type);
            EXPECT_EQ(replay.headers[i].author.role, message.author.role);
        }
    }
}

TEST(HarmonyParser, StopTokenEventsForReturnAndCallOnly) {
    const auto tokens = FormattingTokens::from_tokenizer(*toy_tokenizer());
    StreamParser parser(toy_tokenizer());
    Replay replay;
    for (int32_t id : encode("<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>commentary "
                             "to=functions.f <|constrain|>json<|message|>{}<|call|>")) {
        replay.add(parser.process(id));
    }
    EXPECT_EQ(replay.stop_tokens, std::vector<int32_t>{tokens.call});
    ASSERT_EQ(parser.messages().size(), 2u);
    EXPECT_EQ(parser.messages()[1].recipient, "functions.f");
    EXPECT_EQ(parser.messages()[1].content_type, "<|constrain|>json");
    EXPECT_EQ(parser.messages()[1].text(), "{}");
}

TEST(HarmonyParser, ObservableStateWhileStreaming) {
    StreamParser parser(toy_tokenizer());
    const auto ids = encode("<|channel|>final<|message|>Hi there");
    for (int32_t id : ids) parser.process(id);
    ASSERT_TRUE(parser.current_header().has_value());
    EXPECT_EQ(parser.current_header()->channel, "final");
    EXPECT_EQ(parser.current_role(), Role::kAssistant);
    EXPECT_EQ(parser.current_content(), "Hi there");
    EXPECT_TRUE(parser.messages().empty());
}

// --- tolerant mode (serving): never throws, repairs with a warning --------------------------------------

struct TolerantRun {
    std::vector<Message> messages;
    std::vector<std::string> warnings;
    Replay replay;
};

TolerantRun run_tolerant(const std::vector<int32_t>& ids,
                         std::optional<Role> initial_role = Role::kAssistant) {
    StreamParser parser(toy_tokenizer(), {initial_role, ParseMode::kTolerant});
    TolerantRun run;
    for (int32_t id : ids) run.replay.add(parser.process(id));
    run.replay.add(parser.process_eos());
    run.messages = parser.messages();
    run.warnings = parser.warnings();
    return run;
}

TEST(HarmonyParserTolerant, TextBeforeAnyHeaderBecomesAMessage) {
    const auto run = run_tolerant(
        encode("I must refuse<|end|><|start|>assistant<|channel|>final<|message|>No.<|return|>"));
    ASSERT_EQ(run.messages.size(), 2u);
    EXPECT_EQ(run.messages[0].text(), "I must refuse");
    EXPECT_FALSE(run.messages[0].channel.has_value());
    EXPECT_EQ(run.messages[1].text(), "No.");
    EXPECT_FALSE(run.warnings.empty());
}

TEST(HarmonyParserTolerant, LaterHeaderWithoutMessageTokenKeepsItsText) {
    const auto run = run_tolerant(encode(
        "<|channel|>analysis<|message|>ok<|end|><|start|>assistant<|channel|>final lost text<|return|>"));
    ASSERT_EQ(run.messages.size(), 2u);
    EXPECT_EQ(run.messages[1].channel, "final");
    EXPECT_EQ(run.messages[1].text(), "lost text");
}

TEST(HarmonyParserTolerant, UnknownRoleAndEmptyChannelAreRepaired) {
    auto run = run_tolerant(encode("<|start|>robot<|message|>hi<|end|>"), std::nullopt);
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].author.role, Role::kAssistant);
    EXPECT_EQ(run.messages[0].text(), "hi");
    EXPECT_FALSE(run.warnings.empty());

    run = run_tolerant(encode("<|channel|><|message|>x<|end|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_FALSE(run.messages[0].channel.has_value());
    EXPECT_EQ(run.messages[0].text(), "x");
}

TEST(HarmonyParserTolerant, ExtraHeaderWordsAreDropped) {
    const auto run = run_tolerant(encode("<|channel|>final some junk words<|message|>answer<|return|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].channel, "final");
    EXPECT_EQ(run.messages[0].text(), "answer");
    EXPECT_FALSE(run.warnings.empty());
}

TEST(HarmonyParserTolerant, StrayHeaderWordsDoNotHideAToolCall) {
    const auto run = run_tolerant(
        encode("<|channel|>commentary to=functions.f <|constrain|>json extra<|message|>{}<|call|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].recipient, "functions.f");
    EXPECT_EQ(run.messages[0].content_type, "<|constrain|>json");
    EXPECT_FALSE(run.warnings.empty());
}

TEST(HarmonyParserTolerant, MissingAndUnknownChannelsAreAccepted) {
    auto run = run_tolerant(encode("<|message|>plain<|return|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_FALSE(run.messages[0].channel.has_value());
    EXPECT_EQ(run.messages[0].text(), "plain");
    run = run_tolerant(encode("<|channel|>thoughts<|message|>x<|end|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].channel, "thoughts");
}

TEST(HarmonyParserTolerant, StartInsideABodyEndsTheMessage) {
    const auto run = run_tolerant(encode(
        "<|channel|>analysis<|message|>think<|start|>assistant<|channel|>final<|message|>ans<|return|>"));
    ASSERT_EQ(run.messages.size(), 2u);
    EXPECT_EQ(run.messages[0].text(), "think");
    EXPECT_EQ(run.messages[1].channel, "final");
    EXPECT_EQ(run.messages[1].text(), "ans");
    EXPECT_FALSE(run.warnings.empty());
}

TEST(HarmonyParserTolerant, OtherFormattingTokensInABodyDoNotLeakAsText) {
    const auto run =
        run_tolerant(encode("<|channel|>final<|message|>a<|constrain|>b<|endoftext|>c<|return|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].text(), "abc");
}

TEST(HarmonyParserTolerant, StrayTextAfterAMessageIsRead) {
    auto ids = encode("<|channel|>final<|message|>x<|end|>");
    ids.push_back(188183);  // "oops"
    const auto run = run_tolerant(ids);
    ASSERT_EQ(run.messages.size(), 2u);
    EXPECT_EQ(run.messages[1].text(), toy_tokenizer()->decode(std::vector<int32_t>{188183}));
}

TEST(HarmonyParserTolerant, UnknownIdsBecomeReplacementCharactersOnTheSpot) {
    auto ids = encode("<|channel|>final<|message|>ab");
    ids.push_back(-1);
    const auto tail = encode("cd<|return|>");
    ids.insert(ids.end(), tail.begin(), tail.end());
    const auto run = run_tolerant(ids);
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].text(),
              "ab\xEF\xBF\xBD"
              "cd");
}

TEST(HarmonyParserTolerant, EndOfStreamInsideAHeaderIsNotAnError) {
    // A real header cut off by max_tokens shows nothing (no half-named tool call, no header text as content).
    auto run = run_tolerant(encode("<|channel|>analysis"));
    EXPECT_TRUE(run.messages.empty());
    EXPECT_FALSE(run.warnings.empty());
    run =
        run_tolerant(encode("<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>commentary "
                            "to=functions.get_wea"));
    ASSERT_EQ(run.messages.size(), 1u);
    run = run_tolerant(encode("<|channel|>final<|message|>x<|end|><|start|>"));
    EXPECT_EQ(run.messages.size(), 1u);
    // Plain text that never reached <|message|> is kept.
    run = run_tolerant(encode("Hello there, friend"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].text(), "Hello there, friend");
}

TEST(HarmonyParserTolerant, HeaderFieldsBeforeAMissingMessageTokenStayFields) {
    const auto run = run_tolerant(encode("<|channel|>commentary to=functions.f <|constrain|>json<|call|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].recipient, "functions.f");
    EXPECT_EQ(run.messages[0].content_type, "<|constrain|>json");
    EXPECT_EQ(run.messages[0].text(), "");
}

TEST(HarmonyParserTolerant, ForeignSpecialTokensInAHeaderAreDropped) {
    const auto run = run_tolerant(encode("<|channel|>fi<|endoftext|>nal<|message|>x<|return|>"));
    ASSERT_EQ(run.messages.size(), 1u);
    EXPECT_EQ(run.messages[0].channel, "final");
    EXPECT_FALSE(run.warnings.empty());
}

TEST(HarmonyParserTolerant, RunawayHeaderBecomesStreamingText) {
    std::string text;
    for (int i = 0; i < 100; ++i) text += " word" + std::to_string(i);
    const auto ids = encode(text);
    ASSERT_GT(ids.size(), StreamParser::kMaxHeaderTokens);
    StreamParser parser(toy_tokenizer(), {Role::kAssistant, ParseMode::kTolerant});
    for (int32_t id : ids) parser.process(id);
    EXPECT_TRUE(parser.current_header().has_value());  // reading a body: the text streams from here on
    parser.process_eos();
    ASSERT_EQ(parser.messages().size(), 1u);
    EXPECT_NE(parser.messages()[0].text().find("word99"), std::string::npos);
}

TEST(HarmonyParserTolerant, AgreesWithStrictOnWellFormedPeerCases) {
    for (const auto& path : testing::harmony_peer_cases("parse")) {
        SCOPED_TRACE(testing::case_name(path));
        const Json test_case = testing::read_ordered_json(path);
        const auto tokens = case_tokens(test_case);
        StreamParser tolerant(toy_tokenizer(), case_options(test_case, ParseMode::kTolerant));
        for (int32_t token : tokens) ASSERT_NO_THROW(tolerant.process(token));
        ASSERT_NO_THROW(tolerant.process_eos());
        if (test_case.at("expected").value("error", false) || !tolerant.warnings().empty()) continue;
        StreamParser strict(toy_tokenizer(), case_options(test_case, case_mode(test_case)));
        for (int32_t token : tokens) strict.process(token);
        strict.process_eos();
        EXPECT_EQ(messages_json(tolerant), messages_json(strict));
    }
}

TEST(HarmonyParserTolerant, RandomTokenSequencesNeverThrow) {
    // A fast slice of tests/fuzz/harmony_parser_fuzz.cpp: structural tokens, text and out-of-range ids.
    const auto tokens = FormattingTokens::from_tokenizer(*toy_tokenizer());
    const std::vector<int32_t> alphabet = {tokens.start,
                                           tokens.channel,
                                           tokens.constrain,
                                           tokens.message,
                                           tokens.end,
                                           tokens.call,
                                           tokens.return_,
                                           173781 /*assistant*/,
                                           35644,
                                           17196,
                                           12606,
                                           316 /* to*/,
                                           28 /*=*/,
                                           44580,
                                           220,
                                           9552 /*bad utf-8*/,
                                           -1,
                                           199999,
                                           200013,
                                           201087};
    std::mt19937 rng(7);
    for (int run = 0; run < 2000; ++run) {
        const bool strict = run % 2 == 0;
        StreamParser parser(toy_tokenizer(), {run % 3 == 0 ? std::nullopt : std::optional(Role::kAssistant),
                                              strict ? ParseMode::kStrict : ParseMode::kTolerant});
        const int length = static_cast<int>(rng() % 40);
        try {
            for (int i = 0; i < length; ++i) parser.process(alphabet[rng() % alphabet.size()]);
            parser.process_eos();
        } catch (const ParseError&) {
            ASSERT_TRUE(strict) << "tolerant mode threw";
        }
    }
}

}  // namespace
}  // namespace gptoss::harmony
