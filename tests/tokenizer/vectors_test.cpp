// The peer vectors (../shared/peer/tokenizer/*.jsonl, made with tiktoken) and the harmony tokenizer facts
// must hold exactly from both vocabulary formats.
#include <gtest/gtest.h>

#include "tests/support/fixture.h"
#include "tests/tokenizer/tokenizer_files.h"

namespace gptoss {
namespace {

using testing::VocabFormat;

class VectorsTest : public ::testing::TestWithParam<VocabFormat> {
protected:
    const Tokenizer& tok() const { return *testing::tokenizer_for(GetParam()); }
};

std::vector<int32_t> ids_of(const nlohmann::json& j) {
    return j.get<std::vector<int32_t>>();
}

void check_vector_file(const Tokenizer& tok, const std::string& name) {
    const auto lines = testing::read_jsonl(testing::shared_dir() / "peer" / "tokenizer" / name);
    ASSERT_GT(lines.size(), 100u) << name;
    size_t num_special = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        const auto& line = lines[i];
        const std::string text = line.at("text");
        const std::vector<int32_t> expected = ids_of(line.at("ids"));
        SCOPED_TRACE(name + " line " + std::to_string(i + 1) + ": " + text.substr(0, 80));
        if (line.contains("allowed_special")) {
            ASSERT_EQ(line["allowed_special"], "all");
            EXPECT_EQ(tok.encode(text, SpecialTokenPolicy::all()), expected);
            ++num_special;
        } else {
            EXPECT_EQ(tok.encode_ordinary(text), expected);
            EXPECT_EQ(tok.encode(text, SpecialTokenPolicy::none()), expected);
            EXPECT_EQ(tok.encode_ordinary_parallel(text, 4), expected);
        }
        EXPECT_EQ(tok.decode(expected), text);
        EXPECT_EQ(tok.decode_bytes(expected), text);
    }
    if (name == "o200k_vectors.jsonl") {
        EXPECT_EQ(num_special, 8u);
    }
}

TEST_P(VectorsTest, O200kVectors) {
    check_vector_file(tok(), "o200k_vectors.jsonl");
}

TEST_P(VectorsTest, WhitespaceEdges) {
    check_vector_file(tok(), "o200k_whitespace_edges.jsonl");
}

TEST_P(VectorsTest, HarmonyTokenizerFacts) {
    const auto facts =
        testing::read_json(testing::shared_dir() / "peer" / "harmony" / "tokenizer_facts.json");
    for (const auto& c : facts.at("cases")) {
        const std::string op = c.at("op");
        SCOPED_TRACE(c.at("name").get<std::string>());
        if (op == "encode_ordinary") {
            EXPECT_EQ(tok().encode_ordinary(c.at("text").get<std::string>()),
                      ids_of(c.at("expected_tokens")));
        } else if (op == "encode") {
            SpecialTokenPolicy policy;
            if (c.at("allowed_special") == "all") {
                policy = SpecialTokenPolicy::all();
            } else {
                policy.allowed = c.at("allowed_special").get<std::vector<std::string>>();
            }
            const auto ids = tok().encode(c.at("text").get<std::string>(), policy);
            if (c.contains("expected_tokens")) {
                EXPECT_EQ(ids, ids_of(c.at("expected_tokens")));
            } else {
                // tiktoken raises on a disallowed special string; this tokenizer has no "disallowed" mode:
                // text that is not allowed stays ordinary text, never a control token.
                ASSERT_TRUE(c.contains("expected_error"));
                EXPECT_EQ(ids, tok().encode_ordinary(c.at("text").get<std::string>()));
            }
        } else if (op == "decode_utf8") {
            const auto tokens = c.at("tokens").get<std::vector<int64_t>>();
            std::vector<int32_t> ids;
            bool representable = true;
            for (auto t : tokens) {
                representable = representable && t <= INT32_MAX;
                ids.push_back(static_cast<int32_t>(t));
            }
            ASSERT_TRUE(representable);
            if (c.contains("expected_text")) {
                const bool beyond_model = ids[0] >= 201088;  // the harmony crate's extra <|reserved_201088|>
                if (beyond_model) {
                    EXPECT_THROW(tok().decode(ids), TokenizerError) << "ids past 201087 have no model row";
                } else {
                    EXPECT_EQ(tok().decode(ids), c.at("expected_text").get<std::string>());
                }
            } else if (c.contains("lossy_decode_contains")) {
                // Strict decoding errors upstream; decode() here is the lossy variant.
                const std::string text = tok().decode(ids);
                EXPECT_NE(text.find(c.at("lossy_decode_contains").get<std::string>()), std::string::npos)
                    << text;
                EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos) << text;
            } else {
                ASSERT_TRUE(c.contains("expected_error"));
                try {
                    tok().decode(ids);
                    ADD_FAILURE() << "decode did not throw";
                } catch (const TokenizerError& e) {
                    EXPECT_EQ(std::string(e.what()), c.at("expected_error").get<std::string>());
                }
            }
        } else if (op == "decode_bytes") {
            const std::string bytes = tok().decode_bytes(ids_of(c.at("tokens")));
            const auto expected = c.at("expected_bytes").get<std::vector<int>>();
            ASSERT_EQ(bytes.size(), expected.size());
            for (size_t i = 0; i < bytes.size(); ++i)
                EXPECT_EQ(static_cast<unsigned char>(bytes[i]), expected[i]);
        } else if (op == "is_special_token") {
            for (const auto& pair : c.at("cases"))
                EXPECT_EQ(tok().is_special(pair[0]), pair[1].get<bool>()) << pair;
        } else if (op == "special_token_ids") {
            for (const auto& [text, id] : c.at("expected").items()) {
                EXPECT_EQ(tok().special_token_id(text), std::optional<int32_t>(id.get<int32_t>())) << text;
                EXPECT_EQ(tok().token_to_bytes(id.get<int32_t>()), text);
            }
        } else if (op == "stop_tokens" || op == "stop_tokens_for_assistant_actions") {
            for (const auto& id : c.at("expected")) EXPECT_TRUE(tok().is_special(id.get<int32_t>())) << id;
        } else {
            ADD_FAILURE() << "unknown op " << op;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(BothFormats, VectorsTest,
                         ::testing::Values(VocabFormat::kTiktoken, VocabFormat::kTokenizerJson),
                         [](const auto& info) { return testing::format_name(info.param); });

}  // namespace
}  // namespace gptoss
