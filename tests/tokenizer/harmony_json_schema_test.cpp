// JSON Schema -> TypeScript-like text (tokenizer/harmony/json_schema_typescript.cpp), rule by rule as in
// openai/harmony's json_schema_to_typescript (harmony.md 5.1); the peer render cases cover the whole path.
#include "tokenizer/harmony/json_schema_typescript.h"

#include <gtest/gtest.h>

namespace gptoss::harmony {
namespace {

using Json = nlohmann::ordered_json;

std::string ts(const char* schema) {
    return json_schema_to_typescript(Json::parse(schema));
}

TEST(HarmonyJsonSchema, ScalarTypes) {
    EXPECT_EQ(ts(R"({"type":"string"})"), "string");
    EXPECT_EQ(ts(R"({"type":"integer"})"), "number");
    EXPECT_EQ(ts(R"({"type":"number"})"), "number");
    EXPECT_EQ(ts(R"({"type":"boolean"})"), "boolean");
    EXPECT_EQ(ts(R"({"type":"null"})"), "any");
    EXPECT_EQ(ts(R"({})"), "any");
    EXPECT_EQ(ts(R"(true)"), "any");
}

TEST(HarmonyJsonSchema, TypeArraysMapIntegerToNumber) {
    EXPECT_EQ(ts(R"({"type":["integer","string","null"]})"), "number | string | null");
    // No string in the array: harmony falls through to "any".
    EXPECT_EQ(ts(R"({"type":[1,2]})"), "any");
}

TEST(HarmonyJsonSchema, StringEnumsAreQuotedNumericEnumsIgnored) {
    EXPECT_EQ(ts(R"({"type":"string","enum":["a","b"]})"), R"("a" | "b")");
    EXPECT_EQ(ts(R"({"type":"string","enum":[]})"), "string");
    EXPECT_EQ(ts(R"({"type":"integer","enum":[1,2,3]})"), "number");
}

TEST(HarmonyJsonSchema, Arrays) {
    EXPECT_EQ(ts(R"({"type":"array","items":{"type":"string"}})"), "string[]");
    EXPECT_EQ(ts(R"({"type":"array","items":{"type":"array","items":{"type":"number"}}})"), "number[][]");
    EXPECT_EQ(ts(R"({"type":"array"})"), "Array<any>");
}

TEST(HarmonyJsonSchema, AnyOfIsNotUnderstoodByHarmony) {
    // harmony only knows oneOf; an anyOf schema without "type" renders as any (byte-exact with harmony).
    EXPECT_EQ(ts(R"({"anyOf":[{"type":"string"},{"type":"null"}]})"), "any");
}

TEST(HarmonyJsonSchema, ObjectPropertiesKeepDocumentOrder) {
    EXPECT_EQ(ts(R"({"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"number"}},
                     "required":["alpha"]})"),
              "{\nzeta?: string,\nalpha: number,\n}");
}

TEST(HarmonyJsonSchema, PropertyComments) {
    EXPECT_EQ(ts(R"({"type":"object","properties":{"p":{"type":"string","title":"T","description":"D",
                     "examples":["x",1,"y"]}}})"),
              "{\n// T\n//\n// D\n// Examples:\n// - \"x\"\n// - \"y\"\np?: string,\n}");
}

TEST(HarmonyJsonSchema, Defaults) {
    EXPECT_EQ(ts(R"({"type":"object","properties":{
                     "s":{"type":"string","default":"a \"q\""},
                     "e":{"type":"string","enum":["x","y"],"default":"x"},
                     "n":{"type":"integer","default":-1},
                     "f":{"type":"number","default":0.5},
                     "w":{"type":"number","default":2.0},
                     "b":{"type":"boolean","default":false},
                     "o":{"type":"object","default":{"z":1,"a":[1,"t"]}},
                     "u":{"type":"string","nullable":true,"default":null}}})"),
              "{\n"
              "s?: string, // default: \"a \"q\"\"\n"
              "e?: \"x\" | \"y\", // default: x\n"
              "n?: number, // default: -1\n"
              "f?: number, // default: 0.5\n"
              "w?: number, // default: 2.0\n"
              "b?: boolean, // default: false\n"
              "o?: {\n    }, // default: {\"z\":1,\"a\":[1,\"t\"]}\n"
              "u?: string | null, // default: null\n"
              "}");
}

TEST(HarmonyJsonSchema, NestedObjectsRepeatTheirDescriptionAndIndentByFour) {
    EXPECT_EQ(ts(R"({"type":"object","properties":{
                     "location":{"type":"object","description":"Where","properties":{
                         "city":{"type":"string","description":"City"},"zip":{"type":"integer"}},"required":["city"]},
                     "tags":{"type":"array","items":{"type":"object","properties":{"k":{"type":"string"}}}},
                     "level":{"type":"number","enum":[1,2,3]}},
                     "required":["location"]})"),
              "{\n"
              "// Where\n"
              "location:     // Where\n"
              "{\n"
              "    // City\n"
              "    city: string,\n"
              "    zip?: number,\n"
              "    },\n"
              "tags?: {\n"
              "    k?: string,\n"
              "    }[],\n"
              "level?: number,\n"
              "}");
}

TEST(HarmonyJsonSchema, TopLevelDescriptionPrecedesTheBrace) {
    EXPECT_EQ(ts(R"({"type":"object","description":"params","properties":{}})"), "// params\n{\n}");
}

TEST(HarmonyJsonSchema, NullableNotAddedTwice) {
    EXPECT_EQ(ts(R"({"type":"object","properties":{"a":{"type":["string","null"],"nullable":true}},
                     "required":["a"]})"),
              "{\na: string | null,\n}");
}

TEST(HarmonyJsonSchema, OneOfProperty) {
    // Property description above (suppressed for the first variant), property default above the name,
    // variant descriptions and defaults as trailing comments, a lone "," line at the end.
    EXPECT_EQ(ts(R"({"type":"object","properties":{"v":{"description":"a oneof","default":20,"oneOf":[
                     {"type":"string","default":"d","description":"first"},
                     {"type":"number","description":"numbers","nullable":true},
                     {"type":"string","enum":["x"],"default":"x","description":"a oneof"}]}}})"),
              "{\n"
              "// a oneof\n"
              "// default: 20\n"
              "v?:\n"
              " | string // default: \"d\"\n"
              " | number | null // numbers\n"
              " | \"x\" // default: x\n"
              ",\n"
              "}");
}

TEST(HarmonyJsonSchema, OneOfPropertyDescriptionEqualToFirstVariantIsPrintedOnce) {
    EXPECT_EQ(ts(R"({"type":"object","properties":{"v":{"description":"same","oneOf":[
                     {"type":"string","description":"same"},{"type":"number","description":"other"}]}},
                     "required":["v"]})"),
              "{\n"
              "v:\n"
              " | string\n"
              " | number // other\n"
              ",\n"
              "}");
}

TEST(HarmonyJsonSchema, TopLevelOneOf) {
    // At the top level a string default of an enum variant is printed as JSON (quoted), unlike in properties.
    EXPECT_EQ(ts(R"({"oneOf":[{"type":"string","enum":["a"],"default":"a"},{"type":"object","properties":{
                     "k":{"type":"string"}},"description":"obj"}]})"),
              "\n | \"a\" // default: \"a\"\n |    // obj\n{\n   k?: string,\n   } // obj");
}

TEST(HarmonyJsonSchema, CompactJsonMatchesSerde) {
    EXPECT_EQ(to_compact_json(Json::parse(R"({"b":[1,2.5,"x\n"],"a":{"c":null,"d":true}})")),
              R"({"b":[1,2.5,"x\n"],"a":{"c":null,"d":true}})");
    EXPECT_EQ(to_compact_json(Json(1.0)), "1.0");
    EXPECT_EQ(to_compact_json(Json(-0.0)), "-0.0");
    EXPECT_EQ(to_compact_json(Json(0.1)), "0.1");
    EXPECT_EQ(to_compact_json(Json(123.456)), "123.456");
    EXPECT_EQ(to_compact_json(Json(0.000123)), "0.000123");
    EXPECT_EQ(to_compact_json(Json(1e-7)), "1e-7");
    EXPECT_EQ(to_compact_json(Json(1.5e-9)), "1.5e-9");
    EXPECT_EQ(to_compact_json(Json(1e15)), "1000000000000000.0");
    EXPECT_EQ(to_compact_json(Json(1e16)), "1e16");
    EXPECT_EQ(to_compact_json(Json(1e17)), "1e17");
    EXPECT_EQ(to_compact_json(Json(1.25e20)), "1.25e20");
    EXPECT_EQ(to_compact_json(Json(-3)), "-3");
    EXPECT_EQ(to_compact_json(Json(18446744073709551615ull)), "18446744073709551615");
    EXPECT_EQ(to_compact_json(Json("é\u0001")), "\"é\\u0001\"");
}

}  // namespace
}  // namespace gptoss::harmony
