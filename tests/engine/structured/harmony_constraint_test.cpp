#include "engine/structured/harmony_constraint.h"

#include <map>

#include <gtest/gtest.h>

namespace gptoss::structured {
namespace {

using Json = nlohmann::json;

// A harmony-shaped toy vocabulary: the control tokens, header words, and JSON pieces.
class HarmonyConstraintTest : public ::testing::Test {
protected:
    HarmonyConstraintTest() {
        for (const char* t : {"<|start|>",
                              "<|channel|>",
                              "<|message|>",
                              "<|end|>",
                              "<|return|>",
                              "<|call|>",
                              "<|constrain|>",
                              "analysis",
                              "final",
                              "fin",
                              "al",
                              "assistant",
                              "commentary",
                              " to=functions.get",
                              " to=functions.get_time ",
                              " to=functions",
                              ".get_weather",
                              ".get_time",
                              " ",
                              "Let me think.",
                              "{\"",
                              "city",
                              "\":\"",
                              "Boston",
                              "\"}",
                              "{",
                              "}",
                              "\"",
                              "json",
                              "\"Boston\"}"}) {
            id_[t] = int32_t(tokens_.size());
            tokens_.emplace_back(t);
        }
        std::vector<int32_t> special;
        for (const auto& [text, id] : id_) {
            if (text.rfind("<|", 0) == 0) special.push_back(id);
        }
        vocabulary_ = std::make_shared<const TokenVocabulary>(tokens_, special);
    }

    std::shared_ptr<const HarmonyConstraint> constraint(bool tool_calls_allowed) {
        StructuredOutputRequest r;
        r.format = StructuredOutputRequest::Format::kJsonSchema;
        r.schema =
            Json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})");
        r.tool_calls_allowed = tool_calls_allowed;
        return make_harmony_constraint(r, vocabulary_);
    }

    // tools get_weather (strict: {"city": string}) and get_time (not strict, a schema the compiler cannot
    // take); tool_choice as given.
    std::shared_ptr<const HarmonyConstraint> tool_constraint(StructuredOutputRequest::ToolChoice choice,
                                                             const std::string& named = "") {
        StructuredOutputRequest r;
        r.tools = {
            {"get_weather", true,
             Json::parse(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
            {"get_time", false, Json::parse(R"({"type":"string","pattern":"x"})")}};
        r.tool_choice = choice;
        r.named_tool = named;
        return make_harmony_constraint(r, vocabulary_);
    }

    // The allowed tokens' texts (empty set: unconstrained shown as {"*"}).
    std::set<std::string> allowed(const ConstraintState& s) {
        const TokenBitmask* mask = s.allowed_tokens();
        if (mask == nullptr) return {"*"};
        std::set<std::string> out;
        for (int32_t id = 0; id < vocabulary_->num_tokens(); ++id) {
            if (mask->test(id)) out.insert(tokens_[size_t(id)]);
        }
        return out;
    }

    void feed(ConstraintState& s, std::initializer_list<const char*> texts) {
        for (const char* t : texts) s.advance(id_.at(t));
    }

    std::vector<std::string> tokens_;
    std::map<std::string, int32_t> id_;
    std::shared_ptr<const TokenVocabulary> vocabulary_;
};

TEST_F(HarmonyConstraintTest, TextFormatNeedsNoConstraint) {
    EXPECT_EQ(make_harmony_constraint(StructuredOutputRequest{}, vocabulary_), nullptr);
}

TEST_F(HarmonyConstraintTest, AnalysisIsFreeAndFinalIsHeldToTheSchema) {
    auto c = constraint(/*tool_calls_allowed=*/false);
    auto s = c->start();
    // Header: only the analysis or final channel, no recipient.
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"<|channel|>"}));
    feed(*s, {"<|channel|>"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"analysis", "final", "fin"}));
    feed(*s, {"analysis", "<|message|>"});
    // Analysis body: anything but the tokens that end generation.
    std::set<std::string> body = allowed(*s);
    EXPECT_TRUE(body.contains("Let me think.") && body.contains("<|end|>") && body.contains("{"));
    EXPECT_FALSE(body.contains("<|return|>") || body.contains("<|call|>"));
    feed(*s, {"Let me think.", "<|end|>"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"<|start|>"}));
    feed(*s, {"<|start|>"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"assistant"}));
    feed(*s, {"assistant", "<|channel|>", "fin", "al", "<|message|>"});
    EXPECT_EQ(s->phase(), ConstraintState::Phase::kJson);
    EXPECT_EQ(allowed(*s), (std::set<std::string>{" ", "{\"", "{"}));
    feed(*s, {"{\"", "city", "\":\""});
    EXPECT_TRUE(allowed(*s).contains("Boston"));
    EXPECT_FALSE(allowed(*s).contains("<|return|>"));
    feed(*s, {"Boston", "\"}"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"<|return|>"}));  // complete: only the stop token
    feed(*s, {"<|return|>"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"*"}));
}

TEST_F(HarmonyConstraintTest, WithToolsHeadersAreFreeButTheFinalAnswerIsStillConstrained) {
    auto c = constraint(/*tool_calls_allowed=*/true);
    auto s = c->start();
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"*"}));
    feed(*s, {"<|channel|>", "commentary", " to=functions.get", "<|constrain|>", "json", "<|message|>"});
    EXPECT_EQ(allowed(*s),
              (std::set<std::string>{"*"}));  // a call's arguments: not held to the answer schema
    feed(*s, {"{", "}", "<|call|>"});
    EXPECT_EQ(s->phase(), ConstraintState::Phase::kDone);

    auto t = c->start();
    feed(*t, {"<|channel|>", "final", "<|message|>"});
    EXPECT_EQ(t->phase(), ConstraintState::Phase::kJson);
    EXPECT_EQ(allowed(*t), (std::set<std::string>{" ", "{\"", "{"}));
}

TEST_F(HarmonyConstraintTest, RequiredLetsTheAnalysisRunThenAllowsOnlyCallsToOfferedTools) {
    auto c = tool_constraint(StructuredOutputRequest::ToolChoice::kRequired);
    auto s = c->start();
    feed(*s, {"<|channel|>"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"analysis", "commentary"}));
    feed(*s, {"analysis", "<|message|>", "Let me think."});
    EXPECT_FALSE(allowed(*s).contains("<|return|>"));  // no answer instead of the call
    feed(*s, {"<|end|>", "<|start|>", "assistant", "<|channel|>", "commentary"});
    // Every token that keeps the header a prefix of an allowed one (a real vocabulary has a token for every
    // byte, so each prefix can be finished).
    EXPECT_EQ(allowed(*s),
              (std::set<std::string>{" ", " to=functions", " to=functions.get", " to=functions.get_time "}));
    feed(*s, {" to=functions", ".get_weather", " ", "<|constrain|>", "json", "<|message|>"});
    // Strict: the arguments follow the tool's schema, then only <|call|>.
    EXPECT_EQ(s->phase(), ConstraintState::Phase::kJson);
    EXPECT_EQ(allowed(*s), (std::set<std::string>{" ", "{\"", "{"}));
    feed(*s, {"{\"", "city", "\":\"", "Boston", "\"}"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"<|call|>"}));
}

TEST_F(HarmonyConstraintTest, NamedAllowsOnlyThatToolAndANonStrictUncompilableSchemaIsAnyJsonObject) {
    auto c = tool_constraint(StructuredOutputRequest::ToolChoice::kNamed, "get_time");
    auto s = c->start();
    feed(*s, {"<|channel|>"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"analysis", "commentary"}));
    feed(*s, {"commentary", " to=functions"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{".get_time"}));
    feed(*s, {".get_time", " ", "<|constrain|>", "json", "<|message|>", "{"});
    const std::set<std::string> args = allowed(*s);
    EXPECT_TRUE(args.contains("}") && args.contains("\"") && !args.contains("<|call|>"));
    feed(*s, {"}"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"<|call|>"}));
}

TEST_F(HarmonyConstraintTest, AutoWithAStrictToolLeavesHeadersFreeAndHoldsItsArguments) {
    auto c = tool_constraint(StructuredOutputRequest::ToolChoice::kAuto);
    ASSERT_NE(c, nullptr);
    auto s = c->start();
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"*"}));
    feed(*s, {"<|channel|>", "final", "<|message|>"});
    EXPECT_EQ(allowed(*s), (std::set<std::string>{"*"}));  // no response format: the answer is free

    auto t = c->start();
    feed(*t, {"<|channel|>", "commentary", " to=functions", ".get_weather", " ", "<|constrain|>", "json",
              "<|message|>"});
    EXPECT_EQ(allowed(*t), (std::set<std::string>{" ", "{\"", "{"}));
    // A call to a tool that was never offered is not held (the route drops it from tool_calls).
    auto u = c->start();
    feed(*u, {"<|channel|>", "commentary", " to=functions.get", "<|message|>"});
    EXPECT_EQ(allowed(*u), (std::set<std::string>{"*"}));

    StructuredOutputRequest plain;
    plain.tools = {{"get_time", false, nullptr}};
    EXPECT_EQ(make_harmony_constraint(plain, vocabulary_), nullptr);  // auto, nothing strict: no constraint
}

TEST_F(HarmonyConstraintTest, AStrictToolSchemaTheCompilerCannotTakeNamesTheTool) {
    StructuredOutputRequest r;
    r.tools = {{"a", false, nullptr}, {"b", true, Json::parse(R"({"type":"string","pattern":"x"})")}};
    try {
        make_harmony_constraint(r, vocabulary_);
        FAIL() << "no error";
    } catch (const ToolSchemaError& e) {
        EXPECT_EQ(e.tool(), 1u);
        EXPECT_NE(std::string(e.what()).find("pattern"), std::string::npos);
    }
}

TEST_F(HarmonyConstraintTest, SequencesOfOneRequestKeepTheirOwnPosition) {
    auto c = constraint(false);
    auto a = c->start();
    auto b = c->start();
    feed(*a, {"<|channel|>", "final", "<|message|>", "{\""});
    EXPECT_EQ(b->phase(), ConstraintState::Phase::kHeader);
    EXPECT_EQ(allowed(*b), (std::set<std::string>{"<|channel|>"}));
    EXPECT_TRUE(allowed(*a).contains("city"));
}

}  // namespace
}  // namespace gptoss::structured
