#include "engine/structured/json_grammar.h"

#include <gtest/gtest.h>

#include "tests/engine/structured/test_schemas.h"

namespace gptoss::structured {
namespace {

using Json = nlohmann::json;

std::string error_of(const Json& schema) {
    try {
        compile_json_schema(schema);
    } catch (const SchemaError& e) {
        return e.what();
    }
    return "";
}

TEST(JsonGrammar, CompilesEverySupportedKeyword) {
    for (const Json& schema : testing::test_schemas()) EXPECT_NO_THROW(compile_json_schema(schema)) << schema;
}

TEST(JsonGrammar, UnsupportedKeywordsAreNamedWithTheirPath) {
    const std::string e = error_of(Json::parse(
        R"({"type":"object","properties":{"code":{"type":"string","pattern":"^a+$","patternProperties":{}}}})"));
    EXPECT_NE(e.find("'pattern'"), std::string::npos) << e;
    EXPECT_NE(e.find("'patternProperties'"), std::string::npos) << e;
    EXPECT_NE(e.find("/properties/code"), std::string::npos) << e;
}

TEST(JsonGrammar, BadSchemasAreRejected) {
    EXPECT_NE(error_of(Json::parse(R"({"$ref":"#/$defs/missing"})")).find("missing"), std::string::npos);
    EXPECT_NE(error_of(Json::parse(R"({"type":"object","required":["x"]})")).find("'x'"), std::string::npos);
    EXPECT_NE(error_of(Json::parse(R"({"type":"number","minimum":0})")).find("integers"), std::string::npos);
    EXPECT_NE(error_of(Json::parse(R"({"type":"string","format":"hostname"})")).find("hostname"),
              std::string::npos);
    EXPECT_NE(error_of(Json::parse(R"({"type":"integer","minimum":5,"maximum":1})")).find("greater"),
              std::string::npos);
    EXPECT_NE(error_of(Json::parse(R"({"type":"whatever"})")).find("whatever"), std::string::npos);
    EXPECT_NE(error_of(Json(false)), "");
}

TEST(JsonGrammar, MissingAdditionalPropertiesMeansNoOtherKeys) {
    const JsonGrammar g =
        compile_json_schema(Json::parse(R"({"type":"object","properties":{"a":{"type":"null"}}})"));
    const GrammarNode& root = g.nodes[size_t(g.root)];
    ASSERT_EQ(root.kind, NodeKind::kObject);
    EXPECT_EQ(root.additional, -1);
    ASSERT_EQ(root.properties.size(), 1u);
    EXPECT_FALSE(root.properties[0].required);
}

TEST(JsonGrammar, TypedEnumKeepsValuesOfItsType) {
    const JsonGrammar g = compile_json_schema(Json::parse(R"({"type":"string","enum":["a",1,"b"]})"));
    EXPECT_EQ(g.nodes[size_t(g.root)].literals, (std::vector<std::string>{"\"a\"", "\"b\""}));
}

}  // namespace
}  // namespace gptoss::structured
