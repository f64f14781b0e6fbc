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
                              "Let me think.",
                              "{\"",
                              "city",
                              "\":\"",
                              "Boston",
                              "\"}",
                              "{",
                              "}",
                              "\"",
                              " ",
                              "json"}) {
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
