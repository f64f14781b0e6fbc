#include "engine/structured/json_token_mask.h"

#include <gtest/gtest.h>

#include "tests/engine/structured/json_reference.h"
#include "tests/engine/structured/test_schemas.h"

namespace gptoss::structured {
namespace {

using Json = nlohmann::json;

// A vocabulary rich in JSON pieces: every 1- and 2-byte string over a JSON-ish alphabet, some words and
// multi-byte characters (whole and split), and two specials.
TokenVocabulary small_vocabulary() {
    const std::string alphabet = "{}[]\":, \n0123456789-.eEtrufalsn\\/aZxy@T";
    std::vector<std::string> tokens;
    for (char a : alphabet) {
        tokens.emplace_back(1, a);
        for (char b : alphabet) tokens.push_back(std::string{a, b});
    }
    for (const char* w : {"true",         "false",        "null",   "\"name\"",
                          "\":",          "\"}",          "\"],",   "celsius",
                          "\"unit\": \"", "fahrenheit\"", "2024",   "-02-29",
                          "T13:45:00Z\"", "\xc3\xa9",     "\xc3",   "\xa9",
                          "\xe4\xb8\xad", "\\u00",        "e9",     "\"kind\":\"circle\"",
                          "children",     "value\":",     "ab\"},", "\\\"x\",",
                          "\xc3\xa9\":",  "\xe4\xb8\"",   "xy\"]}", "\xf0\x9f\x98\x80",
                          "\xf0\x9f",     "\x98\x80z\""})
        tokens.emplace_back(w);
    tokens.emplace_back("<|return|>");
    tokens.emplace_back("<|end|>");
    std::vector<int32_t> special = {int32_t(tokens.size() - 2), int32_t(tokens.size() - 1)};
    return TokenVocabulary(std::move(tokens), std::move(special));
}

// The reference: every token of the vocabulary tried byte by byte.
TokenBitmask brute_force_mask(const JsonMatcher& m, const TokenVocabulary& v) {
    TokenBitmask mask(v.num_tokens());
    for (int32_t id = 0; id < v.num_tokens(); ++id) {
        if (v.is_special(id)) continue;
        JsonMatcher copy = m;
        if (copy.advance(v.bytes(id))) mask.set(id);
    }
    return mask;
}

TEST(JsonTokenMask, EqualsTheBruteForceMaskAlongGeneratedDocuments) {
    const TokenVocabulary vocabulary = small_vocabulary();
    int num_checked = 0;
    for (const Json& schema : testing::test_schemas()) {
        const auto grammar = std::make_shared<const JsonGrammar>(compile_json_schema(schema));
        testing::DocumentGenerator generator(schema, 17);
        for (int i = 0; i < 3; ++i) {
            const std::string doc = generator.generate();
            JsonMatcher m(grammar);
            for (size_t j = 0; j <= doc.size(); ++j) {
                const TokenBitmask fast = json_token_mask(m, vocabulary);
                ASSERT_EQ(fast, brute_force_mask(m, vocabulary)) << doc.substr(0, j) << " for " << schema;
                // Allowed tokens keep the text completable into a valid document (a few per position: the
                // completion search is the slow part).
                int num_completed = 0;
                for (int32_t id = int32_t(j % 13); id < vocabulary.num_tokens() && num_completed < 3;
                     id += 13) {
                    if (!fast.test(id)) continue;
                    ++num_completed;
                    JsonMatcher next = m;
                    ASSERT_TRUE(next.advance(vocabulary.bytes(id)));
                    auto rest = testing::complete_document(next, 2000);
                    if (rest) {
                        EXPECT_TRUE(testing::document_validates(
                            doc.substr(0, j) + std::string(vocabulary.bytes(id)) + *rest, schema));
                    }
                }
                ++num_checked;
                if (j < doc.size()) {
                    ASSERT_TRUE(m.advance(uint8_t(doc[j])));
                }
            }
        }
    }
    EXPECT_GT(num_checked, 100);
}

// String bodies take the StringTokenIndex shortcut (values under length limits and keys of an object that
// takes any key): it must agree with the byte-by-byte reference at every position, escapes and split UTF-8
// included.
TEST(JsonTokenMask, StringBodyShortcutEqualsTheBruteForceMask) {
    const TokenVocabulary vocabulary = small_vocabulary();
    const auto any_object = std::make_shared<const JsonGrammar>(any_json_object_grammar());
    const auto bounded = std::make_shared<const JsonGrammar>(compile_json_schema(Json::parse(
        R"({"type":"object","properties":{"s":{"type":"string","minLength":2,"maxLength":4}},"required":["s"]})")));
    const std::vector<std::pair<std::shared_ptr<const JsonGrammar>, std::string>> cases = {
        {any_object, "{\"ab\\\"x\xc3\xa9\": [\"\xe4\xb8\xad\\u00e9\", {\"k\":\"v\"}], \"n\": 1}"},
        {bounded, "{\"s\": \"a\xc3\xa9\\n\"}"},
        {bounded, "{\"s\":\"xy\"}"},
        {bounded, "{\"s\":\"x\xf0\x9f\x98\x80z\"}"},
    };
    int num_shortcut = 0;
    for (const auto& [grammar, doc] : cases) {
        JsonMatcher m(grammar);
        for (size_t j = 0; j <= doc.size(); ++j) {
            if (m.open_string()) ++num_shortcut;
            ASSERT_EQ(json_token_mask(m, vocabulary), brute_force_mask(m, vocabulary)) << doc.substr(0, j);
            if (j < doc.size()) {
                ASSERT_TRUE(m.advance(uint8_t(doc[j]))) << doc.substr(0, j + 1);
            }
        }
        EXPECT_TRUE(m.is_complete()) << doc;
    }
    EXPECT_GT(num_shortcut, 15);
}

TEST(JsonTokenMask, SpecialTokensAreNeverInTheJsonMask) {
    const TokenVocabulary vocabulary = small_vocabulary();
    JsonMatcher m(std::make_shared<const JsonGrammar>(any_json_object_grammar()));
    const TokenBitmask mask = json_token_mask(m, vocabulary);
    EXPECT_FALSE(mask.test(vocabulary.num_tokens() - 1));
    EXPECT_FALSE(mask.test(vocabulary.num_tokens() - 2));
    EXPECT_GT(mask.count(), 0);
}

}  // namespace
}  // namespace gptoss::structured
