#include "engine/structured/json_matcher.h"

#include <gtest/gtest.h>

#include "tests/engine/structured/json_reference.h"
#include "tests/engine/structured/test_schemas.h"

namespace gptoss::structured {
namespace {

using Json = nlohmann::json;

JsonMatcher matcher_for(const Json& schema) {
    return JsonMatcher(std::make_shared<const JsonGrammar>(compile_json_schema(schema)));
}

// Reads `text`; returns whether the whole text was accepted and left the document complete.
bool accepts(const Json& schema, const std::string& text) {
    JsonMatcher m = matcher_for(schema);
    return m.advance(text) && m.is_complete();
}

TEST(JsonMatcher, ObjectsKeysAndRequired) {
    const Json s = Json::parse(
        R"({"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer"}},"required":["name"]})");
    EXPECT_TRUE(accepts(s, R"({"name":"x"})"));
    EXPECT_TRUE(accepts(s, R"({"n": -12, "name": "a\"b\u00e9"})"));
    EXPECT_TRUE(accepts(s, "\n{\"name\":\"\xc3\xa9\"}"));
    EXPECT_FALSE(accepts(s, R"({"n":1})"));                  // required missing
    EXPECT_FALSE(accepts(s, R"({"name":"x","name":"y"})"));  // twice
    EXPECT_FALSE(accepts(s, R"({"name":"x","other":1})"));   // no additional keys
    EXPECT_FALSE(accepts(s, R"({"name":"x"} )"));            // nothing after the document
    EXPECT_FALSE(accepts(s, R"({"name":"x")"));              // incomplete
    EXPECT_FALSE(accepts(s, R"({"n":01,"name":""})"));       // leading zero
    EXPECT_FALSE(accepts(s, R"({"name":"\ud800"})"));        // lone surrogate escape
    EXPECT_FALSE(accepts(s, "{\"name\":\"\xc0\xaf\"}"));     // overlong UTF-8
    EXPECT_FALSE(accepts(s, "{   \"name\":\"x\"}"));         // whitespace run over the limit
}

TEST(JsonMatcher, RejectionLeavesTheStateUnchanged) {
    JsonMatcher m = matcher_for(Json::parse(R"({"type":"array","items":{"type":"boolean"}})"));
    ASSERT_TRUE(m.advance("[tr"));
    const std::string before = m.state_key();
    EXPECT_FALSE(m.advance("x"));
    EXPECT_FALSE(m.advance("ue,z"));
    EXPECT_EQ(m.state_key(), before);
    EXPECT_TRUE(m.advance("ue]"));
    EXPECT_TRUE(m.is_complete());
    EXPECT_FALSE(m.can_continue());
}

TEST(JsonMatcher, IntegerBoundsPruneImpossiblePrefixes) {
    const Json s = Json::parse(R"({"type":"integer","minimum":10,"maximum":20})");
    JsonMatcher m = matcher_for(s);
    EXPECT_FALSE(JsonMatcher(m).advance("-"));
    EXPECT_FALSE(JsonMatcher(m).advance("3"));
    EXPECT_FALSE(JsonMatcher(m).advance("21"));
    EXPECT_TRUE(JsonMatcher(m).advance("2"));  // 20 is still reachable
    EXPECT_FALSE(accepts(s, "2"));
    EXPECT_TRUE(accepts(s, "20"));
    EXPECT_TRUE(accepts(s, "10"));
}

// Numbers stay inside what client parsers hold: integers in int64, doubles finite.
TEST(JsonMatcher, NumbersStayRepresentable) {
    const Json integer = Json::parse(R"({"type":"integer"})");
    EXPECT_TRUE(accepts(integer, "-999999999999999999"));
    EXPECT_FALSE(accepts(integer, "9999999999999999999"));
    const Json bounded = Json::parse(R"({"type":"integer","minimum":0})");
    EXPECT_TRUE(accepts(bounded, "999999999999999999"));
    EXPECT_FALSE(accepts(bounded, "9223372036854775807"));
    const Json number = Json::parse(R"({"type":"number"})");
    EXPECT_TRUE(accepts(number, "-12345678901234567890.5e-99"));
    EXPECT_TRUE(accepts(number, "5E+10"));
    EXPECT_FALSE(accepts(number, "5e511"));
    EXPECT_FALSE(accepts(number, "1e-100"));
}

TEST(JsonMatcher, FormatsAndLengths) {
    EXPECT_TRUE(accepts(Json::parse(R"({"type":"string","format":"date"})"), R"("2024-12-31")"));
    EXPECT_FALSE(accepts(Json::parse(R"({"type":"string","format":"date"})"), R"("2024-22-31")"));
    EXPECT_FALSE(accepts(Json::parse(R"({"type":"string","format":"date"})"), R"("2024-12-32")"));
    EXPECT_FALSE(
        accepts(Json::parse(R"({"type":"string","format":"date-time"})"), R"("2024-12-31T24:00:00Z")"));
    EXPECT_TRUE(
        accepts(Json::parse(R"({"type":"string","format":"date-time"})"), R"("2024-12-31T23:59:59.500Z")"));
    EXPECT_TRUE(accepts(Json::parse(R"({"type":"string","format":"email"})"), R"("a.b@c.io")"));
    EXPECT_FALSE(accepts(Json::parse(R"({"type":"string","format":"email"})"), R"("a.b@cio")"));
    const Json len = Json::parse(R"({"type":"string","minLength":2,"maxLength":3})");
    EXPECT_FALSE(accepts(len, R"("a")"));
    EXPECT_TRUE(accepts(len, "\"\xe4\xb8\xad\\n\""));
    EXPECT_FALSE(accepts(len, R"("abcd")"));
    // At the limit, a character that has only begun could never be finished within it.
    JsonMatcher full = matcher_for(len);
    ASSERT_TRUE(full.advance(R"("abc)"));
    EXPECT_FALSE(JsonMatcher(full).advance("\xc3"));
    EXPECT_FALSE(JsonMatcher(full).advance("\\"));
    EXPECT_TRUE(JsonMatcher(full).advance("\""));
    // A code point outside the BMP is two UTF-16 units, as zod and ajv count maxLength.
    EXPECT_TRUE(accepts(len, "\"a\xf0\x9f\x98\x80\""));
    EXPECT_FALSE(accepts(len, "\"ab\xf0\x9f\x98\x80\""));
    EXPECT_TRUE(accepts(len, "\"\xf0\x9f\x98\x80\""));
    JsonMatcher two = matcher_for(len);
    ASSERT_TRUE(two.advance(R"("ab)"));
    EXPECT_FALSE(JsonMatcher(two).advance("\xf0"));  // would need units 3 and 4
    EXPECT_TRUE(JsonMatcher(two).advance("\xc3"));
}

TEST(JsonMatcher, TuplesWithoutItemsAreClosed) {
    const Json s = Json::parse(R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}]})");
    EXPECT_TRUE(accepts(s, R"([1,"a"])"));
    EXPECT_FALSE(accepts(s, R"([1,"a",2])"));
    EXPECT_FALSE(accepts(s, R"([1])"));
    const Json open =
        Json::parse(R"({"type":"array","prefixItems":[{"type":"integer"}],"items":{"type":"null"}})");
    EXPECT_TRUE(accepts(open, R"([1,null,null])"));
}

TEST(JsonMatcher, EnumLiteralsThatExtendEachOther) {
    const Json s = Json::parse(R"({"type":"array","items":{"enum":[1,12,"x"]}})");
    EXPECT_TRUE(accepts(s, "[1,12,\"x\",1]"));
    EXPECT_FALSE(accepts(s, "[123]"));
    EXPECT_FALSE(accepts(s, "[2]"));
}

// Every prefix of a generated valid document is accepted and the whole is complete (no false rejections);
// every document the matcher completes from a random accepted prefix validates (no false acceptance).
TEST(JsonMatcher, AgreesWithTheReferenceValidatorOnGeneratedDocuments) {
    int num_documents = 0;
    for (const Json& schema : testing::test_schemas()) {
        testing::DocumentGenerator generator(schema, 7);
        std::mt19937 rng(11);
        for (int i = 0; i < 40; ++i) {
            const std::string doc = generator.generate();
            ASSERT_TRUE(testing::document_validates(doc, schema))
                << "generator bug: " << doc << " for " << schema;
            JsonMatcher m = matcher_for(schema);
            const size_t cut = std::uniform_int_distribution<size_t>(0, doc.size())(rng);
            for (size_t j = 0; j < doc.size(); ++j) {
                ASSERT_TRUE(m.advance(uint8_t(doc[j])))
                    << "rejected byte " << j << " of " << doc << " for " << schema;
                if (j + 1 == cut) {
                    auto rest = testing::complete_document(m);
                    ASSERT_TRUE(rest.has_value()) << doc.substr(0, cut);
                    EXPECT_TRUE(testing::document_validates(doc.substr(0, cut) + *rest, schema))
                        << doc.substr(0, cut) + *rest << " for " << schema;
                }
            }
            EXPECT_TRUE(m.is_complete()) << doc;
            ++num_documents;
        }
    }
    EXPECT_EQ(num_documents, 40 * int(testing::test_schemas().size()));
}

// Mutated documents: whatever the matcher accepts as complete, the validator accepts too.
TEST(JsonMatcher, AcceptsNoInvalidMutation) {
    const std::string alphabet = "{}[]\":,0123456789-.eatrufnl \\x";
    std::mt19937 rng(3);
    int num_accepted = 0;
    for (const Json& schema : testing::test_schemas()) {
        testing::DocumentGenerator generator(schema, 5);
        for (int i = 0; i < 200; ++i) {
            std::string doc = generator.generate();
            const size_t at = std::uniform_int_distribution<size_t>(0, doc.size() - 1)(rng);
            doc[at] = alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
            if (accepts(schema, doc)) {
                ++num_accepted;
                EXPECT_TRUE(testing::document_validates(doc, schema)) << doc << " for " << schema;
            }
        }
    }
    EXPECT_GT(num_accepted, 0);  // some mutations keep the document valid; the check above then ran
}

}  // namespace
}  // namespace gptoss::structured
