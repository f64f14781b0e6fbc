// JsonGrammar: a JSON Schema compiled into a small graph of value nodes that JsonMatcher walks byte by byte.
//
// The grammar engine is written here rather than taken from a library because no JSON-Schema grammar engine
// (xgrammar, outlines-core, llguidance) is packaged for Debian 12.
//
// The language of a node is the compact JSON form of the values the schema accepts, plus bounded whitespace:
// at most kMaxWhitespaceRun of " \t\n\r" before and after each value, key, ':' and ','  (none after the
// top-level value, so that the document ends exactly where the value does). Object keys may come in any
// order; each at most once. Strings may not hold \u escapes of surrogates (D800-DFFF): raw UTF-8 reaches
// every character, and a lone surrogate is not valid Unicode text. Enum / const values match their compact
// serialization (nlohmann dump()). Tuples (prefixItems, or draft-07 item lists) expect every listed item
// unless minItems says otherwise, as zod's and Pydantic's tuples do.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gptoss::structured {

inline constexpr int kMaxWhitespaceRun =
    2;  // ": ", ",\n": room for compact or one-line JSON, no runaway indentation
inline constexpr int kMaxProperties = 64;  // per object schema: the matcher tracks them in one 64-bit mask
inline constexpr int kMaxLiterals = 64;    // per enum
inline constexpr int kMaxNesting = 48;     // open values at once (bounds recursive $ref schemas)

// The schema cannot be compiled: an unsupported keyword, a bad value, an unresolvable $ref. `path` is a JSON
// pointer into the schema ("/properties/name/pattern").
class SchemaError : public std::runtime_error {
public:
    SchemaError(const std::string& message, std::string path)
        : std::runtime_error(message), path_(std::move(path)) {}
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

enum class NodeKind : uint8_t { kObject, kArray, kString, kInteger, kNumber, kLiterals, kAnyOf };
enum class StringFormat : uint8_t { kNone, kDate, kDateTime, kUuid, kEmail };

struct PropertyRule {
    std::string key;  // the key's JSON string content, escaped as dump() does, without the quotes
    int32_t node = -1;
    bool required = false;
};

struct GrammarNode {
    NodeKind kind = NodeKind::kAnyOf;
    // kObject
    std::vector<PropertyRule> properties;
    int32_t additional = -1;  // node of keys that are not properties; -1: no other keys
    // kArray: item i matches prefix_items[i], later items match `items` (-1: no more items)
    std::vector<int32_t> prefix_items;
    int32_t items = -1;
    int32_t min_items = 0;
    int32_t max_items = -1;  // -1: unbounded
    // kString (lengths in UTF-16 code units, as JavaScript validators count: an escape is one)
    int32_t min_length = 0;
    int32_t max_length = -1;
    StringFormat format = StringFormat::kNone;
    // kInteger
    std::optional<int64_t> minimum;
    std::optional<int64_t> maximum;
    // kLiterals: whole values (enum, const, true/false, null)
    std::vector<std::string> literals;
    // kAnyOf
    std::vector<int32_t> alternatives;
};

struct JsonGrammar {
    std::vector<GrammarNode> nodes;
    int32_t root = 0;
};

// Compiles a JSON Schema (draft 2020-12 subset: type, properties, required, additionalProperties, items,
// prefixItems, enum, const, anyOf, oneOf (as anyOf), allOf with one member, $ref to #/$defs/... or
// #/definitions/..., format date / date-time / uuid / email, minLength, maxLength, minimum / maximum on
// integers, minItems, maxItems; annotations like title / description / default are ignored). A missing
// additionalProperties means false, as in OpenAI's strict mode and xgrammar: the model gets exactly the
// keys the schema names. Throws SchemaError naming every unsupported keyword it finds at the first place
// that has one.
JsonGrammar compile_json_schema(const nlohmann::json& schema);

// Any JSON object (response_format json_object).
JsonGrammar any_json_object_grammar();

}  // namespace gptoss::structured
