// Test references for the structured-output engine, independent of JsonMatcher: a JSON Schema validator for
// the supported subset (over values nlohmann parsed), a random document generator per schema, and a
// brute-force "complete this prefix" search used to check that every accepted prefix can still become a
// document the validator accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/structured/json_matcher.h"

namespace gptoss::structured::testing {

using Json = nlohmann::json;

inline const Json& resolve_ref(const Json& root, const std::string& ref) {
    if (ref == "#") return root;
    const std::string section = ref.rfind("#/$defs/", 0) == 0 ? "$defs" : "definitions";
    return root[section][ref.substr(section.size() + 3)];
}

// A string's length as JSON Schema validators in JavaScript count it: UTF-16 code units (a code point
// outside the BMP, four UTF-8 bytes, is two).
inline size_t utf16_length(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += ((c & 0xC0) != 0x80) + (c >= 0xF0);
    return n;
}

// nlohmann calls 1 and 1.0 equal; an enum or const literal is matched as written, so a float is not an
// integer here. Signed and unsigned are one kind: a parsed 0 is unsigned, a schema's 0 may be signed.
inline bool same_kind(const Json& a, const Json& b) {
    return a.type() == b.type() || (a.is_number_integer() && b.is_number_integer());
}

// Does `v` validate against `schema` (the subset json_grammar.h compiles, with its strict default of
// additionalProperties: false)?
inline bool validates(const Json& v, const Json& schema, const Json& root) {
    if (schema.is_boolean()) return schema.get<bool>();
    if (schema.contains("$ref")) return validates(v, resolve_ref(root, schema["$ref"]), root);
    for (const char* key : {"anyOf", "oneOf", "allOf"}) {
        if (!schema.contains(key)) continue;
        for (const auto& alt : schema[key]) {
            if (validates(v, alt, root)) return true;
        }
        return false;
    }
    if (schema.contains("const")) return v == schema["const"] && same_kind(v, schema["const"]);
    if (schema.contains("enum")) {
        for (const auto& e : schema["enum"]) {
            if (v == e && same_kind(v, e)) return true;
        }
        return false;
    }
    if (schema.contains("type") && schema["type"].is_array()) {
        for (const auto& t : schema["type"]) {
            Json one = schema;
            one["type"] = t;
            if (validates(v, one, root)) return true;
        }
        return false;
    }
    std::string type = schema.value("type", "");
    if (type.empty() && (schema.contains("properties") || schema.contains("required"))) type = "object";
    if (type.empty() && schema.contains("items")) type = "array";
    if (type == "object") {
        if (!v.is_object()) return false;
        const Json props = schema.value("properties", Json::object());
        for (const auto& r : schema.value("required", Json::array())) {
            if (!v.contains(r.get<std::string>())) return false;
        }
        for (const auto& [k, sub] : v.items()) {
            if (props.contains(k)) {
                if (!validates(sub, props[k], root)) return false;
            } else if (!schema.contains("additionalProperties") ||
                       !validates(sub, schema["additionalProperties"], root)) {
                return false;
            }
        }
        return true;
    }
    if (type == "array") {
        if (!v.is_array()) return false;
        const Json prefix = schema.value("prefixItems", Json::array());
        for (size_t i = 0; i < v.size(); ++i) {
            // A tuple without items is closed (json_grammar.h).
            const Json item = i < prefix.size() ? prefix[i] : schema.value("items", Json(prefix.empty()));
            if (!validates(v[i], item, root)) return false;
        }
        if (v.size() < schema.value("minItems", prefix.size())) return false;  // tuples are exact
        if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return false;
        return true;
    }
    if (type == "string") {
        if (!v.is_string()) return false;
        const std::string s = v.get<std::string>();
        if (utf16_length(s) < schema.value("minLength", size_t(0))) return false;
        if (schema.contains("maxLength") && utf16_length(s) > schema["maxLength"].get<size_t>()) return false;
        const std::string format = schema.value("format", "");
        static const std::regex date("[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])");
        static const std::regex date_time(
            "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
            "(\\.[0-9]{3}|\\.[0-9]{6})?Z");
        static const std::regex uuid(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}");
        static const std::regex email("[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+");
        if (format == "date") return std::regex_match(s, date);
        if (format == "date-time") return std::regex_match(s, date_time);
        if (format == "uuid") return std::regex_match(s, uuid);
        if (format == "email") return std::regex_match(s, email);
        return true;
    }
    if (type == "integer") {
        if (!v.is_number_integer()) return false;
        const int64_t x = v.get<int64_t>();
        if (schema.contains("minimum") && x < schema["minimum"].get<int64_t>()) return false;
        if (schema.contains("maximum") && x > schema["maximum"].get<int64_t>()) return false;
        return true;
    }
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    return true;  // no type: any value
}

// Parses `text` strictly (no trailing bytes) and validates it.
inline bool document_validates(const std::string& text, const Json& schema) {
    Json v = Json::parse(text, nullptr, false);
    if (v.is_discarded()) return false;
    return validates(v, schema, schema);
}

// Every printable ASCII byte, newline, and one continuation byte of each UTF-8 range the matcher tracks.
inline const std::string& completion_bytes() {
    static const std::string bytes = [] {
        std::string out = "\n\x80\x90\xA0";
        for (int c = 0x20; c < 0x7f; ++c) out.push_back(char(c));
        return out;
    }();
    return bytes;
}

// A shortest byte string that makes `matcher` complete, found by breadth-first search over its states;
// nullopt when none is found within `budget` states.
inline std::optional<std::string> complete_document(const JsonMatcher& matcher, int budget = 20000) {
    struct Node {
        JsonMatcher m;
        std::string suffix;
    };
    std::vector<Node> frontier{{matcher, ""}};
    std::set<std::string> seen{matcher.state_key()};
    for (size_t i = 0; i < frontier.size() && int(i) < budget; ++i) {
        if (frontier[i].m.is_complete()) return frontier[i].suffix;
        // A few bytes stand for every class the grammars distinguish.
        for (unsigned char c : completion_bytes()) {
            JsonMatcher next = frontier[i].m;
            if (!next.advance(c)) continue;
            if (!seen.insert(next.state_key()).second) continue;
            frontier.push_back({std::move(next), frontier[i].suffix + char(c)});
        }
    }
    return std::nullopt;
}

// A random document that validates against `schema`, serialized compactly with random single spaces after
// ':' and ',' (the grammar's whitespace allowance).
class DocumentGenerator {
public:
    DocumentGenerator(const Json& root, uint64_t seed) : root_(root), rng_(seed) {}

    std::string generate() { return text(value(root_, 0)); }

private:
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool coin() { return pick(2) == 0; }

    Json value(const Json& schema, int depth) {
        if (schema.is_boolean()) return pick_any(depth);
        if (schema.contains("$ref")) return value(resolve_ref(root_, schema["$ref"]), depth);
        for (const char* key : {"anyOf", "oneOf", "allOf"}) {
            if (schema.contains(key)) return value(schema[key][size_t(pick(int(schema[key].size())))], depth);
        }
        if (schema.contains("const")) return schema["const"];
        if (schema.contains("enum")) return schema["enum"][size_t(pick(int(schema["enum"].size())))];
        Json s = schema;
        if (s.contains("type") && s["type"].is_array())
            s["type"] = s["type"][size_t(pick(int(s["type"].size())))];
        std::string type = s.value("type", "");
        if (type.empty() && (s.contains("properties") || s.contains("required"))) type = "object";
        if (type.empty() && s.contains("items")) type = "array";
        if (type == "object") {
            Json out = Json::object();
            const Json req = s.value("required", Json::array());
            const Json props = s.value("properties", Json::object());
            for (const auto& [k, sub] : props.items()) {
                const bool required = std::find(req.begin(), req.end(), Json(k)) != req.end();
                if (required || (depth < 3 && coin())) out[k] = value(sub, depth + 1);
            }
            if (s.contains("additionalProperties") &&
                !(s["additionalProperties"].is_boolean() && !s["additionalProperties"].get<bool>())) {
                if (depth < 3 && coin())
                    out["extra_" + std::to_string(pick(9))] = value(s["additionalProperties"], depth + 1);
            }
            return out;
        }
        if (type == "array") {
            const Json prefix = s.value("prefixItems", Json::array());
            const bool more =
                s.contains("items") ? !(s["items"].is_boolean() && !s["items"].get<bool>()) : prefix.empty();
            const int low = s.value("minItems", int(prefix.size()));  // tuples are exact (json_grammar.h)
            int high = low + (depth < 3 ? 3 : 0);
            if (s.contains("maxItems")) high = std::min(high, s["maxItems"].get<int>());
            if (!more) high = std::min(high, int(prefix.size()));
            const int n = low + pick(high - low + 1);
            Json out = Json::array();
            for (int i = 0; i < n; ++i)
                out.push_back(value(
                    size_t(i) < prefix.size() ? prefix[size_t(i)] : s.value("items", Json(true)), depth + 1));
            return out;
        }
        if (type == "string") {
            const std::string format = s.value("format", "");
            if (format == "date") return "2024-02-29";
            if (format == "date-time") return coin() ? "2024-02-29T13:45:00Z" : "2024-02-29T13:45:00.123Z";
            if (format == "uuid") return "123e4567-e89b-12d3-a456-426614174000";
            if (format == "email") return "ada.lovelace@example.co.uk";
            static const std::vector<std::string> pieces = {
                "a", "Z", " ", "\"", "\\", "\n", "\u00e9", "\u4e2d", "\U0001f600", "/", "\t"};
            const int low = s.value("minLength", 0);
            const int high = s.contains("maxLength") ? s["maxLength"].get<int>() : low + 6;
            const int n = low + pick(high - low + 1);
            std::string out;  // n UTF-16 units
            for (int units = 0; units < n;) {
                const std::string& piece = pieces[size_t(pick(int(pieces.size())))];
                const int width = int(utf16_length(piece));
                if (units + width > n) continue;
                out += piece;
                units += width;
            }
            return out;
        }
        if (type == "integer") {
            const int64_t low = s.value("minimum", int64_t(-1000));
            const int64_t high = s.value("maximum", low + 2000);
            return low + int64_t(std::uniform_int_distribution<int64_t>(0, high - low)(rng_));
        }
        if (type == "number") return coin() ? Json(pick(100) - 50) : Json(double(pick(10000)) / 64.0 - 7.0);
        if (type == "boolean") return coin();
        if (type == "null") return nullptr;
        return pick_any(depth);
    }

    Json pick_any(int depth) {
        switch (pick(depth < 3 ? 6 : 4)) {
            case 0:
                return pick(1000) - 500;
            case 1:
                return "any";
            case 2:
                return coin();
            case 3:
                return nullptr;
            case 4:
                return Json::array({pick_any(depth + 1)});
            default:
                return Json::object({{"k", pick_any(depth + 1)}});
        }
    }

    std::string space() { return coin() ? " " : ""; }
    std::string text(const Json& v) {
        if (v.is_object()) {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, sub] : v.items()) {
                if (!first) out += "," + space();
                first = false;
                out += Json(k).dump() + ":" + space() + text(sub);
            }
            return out + "}";
        }
        if (v.is_array()) {
            std::string out = "[";
            for (size_t i = 0; i < v.size(); ++i) out += (i ? "," + space() : "") + text(v[i]);
            return out + "]";
        }
        return v.dump();
    }

    const Json& root_;
    std::mt19937_64 rng_;
};

}  // namespace gptoss::structured::testing
