#include "engine/structured/json_grammar.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace gptoss::structured {

namespace {

using Json = nlohmann::json;

// Keywords that only describe (they never change which values validate).
const std::set<std::string> kAnnotations = {"title",    "description", "default",  "examples",
                                            "$schema",  "$id",         "$comment", "deprecated",
                                            "readOnly", "writeOnly",   "strict"};
// Keywords this compiler enforces; everything else is rejected rather than silently ignored.
const std::set<std::string> kSupported = {"type",      "properties",  "required", "additionalProperties",
                                          "items",     "prefixItems", "enum",     "const",
                                          "anyOf",     "oneOf",       "allOf",    "$ref",
                                          "$defs",     "definitions", "format",   "minLength",
                                          "maxLength", "minimum",     "maximum",  "minItems",
                                          "maxItems"};

std::string escape_pointer(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

class Compiler {
public:
    explicit Compiler(const Json& root) : root_(root) {}

    JsonGrammar compile() {
        grammar_.root = node(root_, "");
        return std::move(grammar_);
    }

private:
    [[noreturn]] void fail(const std::string& message, const std::string& path) {
        throw SchemaError(fmt::format("JSON schema at '{}': {}", path.empty() ? "/" : path, message), path);
    }

    int32_t add(GrammarNode n) {
        grammar_.nodes.push_back(std::move(n));
        return static_cast<int32_t>(grammar_.nodes.size() - 1);
    }

    int32_t literals(std::vector<std::string> values) {
        GrammarNode n;
        n.kind = NodeKind::kLiterals;
        n.literals = std::move(values);
        return add(std::move(n));
    }

    int32_t any_value() {
        if (any_ >= 0) return any_;
        // Reserve the slot first: objects and arrays of any values refer back to it.
        any_ = add(GrammarNode{});
        GrammarNode object;
        object.kind = NodeKind::kObject;
        object.additional = any_;
        GrammarNode array;
        array.kind = NodeKind::kArray;
        array.items = any_;
        GrammarNode string;
        string.kind = NodeKind::kString;
        GrammarNode number;
        number.kind = NodeKind::kNumber;
        std::vector<int32_t> alts = {add(std::move(object)), add(std::move(array)), add(std::move(string)),
                                     add(std::move(number)), literals({"true", "false", "null"})};
        grammar_.nodes[size_t(any_)].alternatives = std::move(alts);
        return any_;
    }

    int64_t integer_of(const Json& v, const std::string& path) {
        if (v.is_number_integer()) return v.get<int64_t>();
        if (v.is_number_float()) {
            const double d = v.get<double>();
            if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
        }
        fail("must be an integer", path);
    }
    int32_t count_of(const Json& schema, const char* key, const std::string& path) {
        const Json& v = schema[key];
        const int64_t n = integer_of(v, path + "/" + key);
        if (n < 0 || n > (1 << 20)) fail("must be between 0 and 1048576", path + "/" + key);
        return static_cast<int32_t>(n);
    }

    const Json& resolve(const std::string& ref, const std::string& path) {
        for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
            const std::string p = prefix;
            if (ref.rfind(p, 0) != 0) continue;
            const std::string section = p.substr(2, p.size() - 3);
            const std::string name = ref.substr(p.size());
            if (root_.contains(section) && root_[section].is_object() && root_[section].contains(name))
                return root_[section][name];
            break;
        }
        if (ref == "#") return root_;
        fail("$ref \"" + ref + "\" does not name an entry of #/$defs or #/definitions", path);
    }

    int32_t node(const Json& schema, const std::string& path) {
        if (schema.is_boolean()) {
            if (schema.get<bool>()) return any_value();
            fail("the schema `false` accepts no value", path);
        }
        if (!schema.is_object()) fail("must be a JSON Schema object", path);
        std::vector<std::string> unsupported;
        for (const auto& [key, value] : schema.items()) {
            // zod writes a format's own regex beside it ("format": "email", "pattern": ...): the format is
            // what gets enforced.
            if (key == "pattern" && schema.contains("format")) continue;
            if (!kSupported.contains(key) && !kAnnotations.contains(key)) unsupported.push_back(key);
        }
        if (!unsupported.empty()) {
            std::string names;
            for (const auto& k : unsupported) names += (names.empty() ? "'" : ", '") + k + "'";
            fail(fmt::format("unsupported keyword{} {} (structured outputs support: type, properties, "
                             "required, additionalProperties, items, prefixItems, enum, const, anyOf, oneOf, "
                             "$ref/$defs, format date/date-time/uuid/email, minLength, maxLength, integer "
                             "minimum/maximum, minItems, maxItems)",
                             unsupported.size() > 1 ? "s" : "", names),
                 path);
        }
        if (schema.contains("$ref")) {
            if (!schema["$ref"].is_string()) fail("$ref must be a string", path + "/$ref");
            if (has_other_than(schema, {"$ref", "$defs", "definitions"}))
                fail("$ref beside other keywords is not supported", path);
            const std::string ref = schema["$ref"].get<std::string>();
            if (auto it = refs_.find(ref); it != refs_.end()) return it->second;
            // Reserve the node before compiling the target so that a recursive schema refers back to it.
            const int32_t id = add(GrammarNode{});
            refs_[ref] = id;
            const int32_t target = node(resolve(ref, path), ref.substr(1));
            GrammarNode alias;
            alias.kind = NodeKind::kAnyOf;
            alias.alternatives = {target};
            grammar_.nodes[size_t(id)] = std::move(alias);
            return id;
        }
        for (const char* key : {"anyOf", "oneOf", "allOf"}) {
            if (!schema.contains(key)) continue;
            const Json& list = schema[key];
            const std::string where = path + "/" + key;
            if (!list.is_array() || list.empty()) fail("must be a non-empty array", where);
            if (std::string(key) == "allOf" && list.size() != 1)
                fail("allOf with more than one schema is not supported", where);
            GrammarNode n;
            n.kind = NodeKind::kAnyOf;
            for (size_t i = 0; i < list.size(); ++i)
                n.alternatives.push_back(node(list[i], fmt::format("{}/{}", where, i)));
            if (schema.size() > 1 + count_annotations(schema) + (schema.contains("$defs") ? 1 : 0) +
                                    (schema.contains("definitions") ? 1 : 0))
                fail(std::string(key) + " beside other validation keywords is not supported", path);
            return add(std::move(n));
        }
        if (schema.contains("const")) return literals({schema["const"].dump()});
        if (schema.contains("enum")) {
            const Json& values = schema["enum"];
            if (!values.is_array() || values.empty()) fail("must be a non-empty array", path + "/enum");
            if (values.size() > size_t(kMaxLiterals))
                fail(fmt::format("more than {} values are not supported", kMaxLiterals), path + "/enum");
            std::vector<std::string> out;
            for (const auto& v : values) {
                // A typed enum keeps only values of that type (OpenAI clients send both).
                if (schema.contains("type") && !matches_type(v, schema["type"])) continue;
                std::string text = v.dump();
                if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
            }
            if (out.empty()) fail("no enum value has the schema's type", path + "/enum");
            return literals(std::move(out));
        }
        if (!schema.contains("type")) {
            // No type: infer it from the keywords that only apply to one, else any value.
            if (schema.contains("properties") || schema.contains("additionalProperties") ||
                schema.contains("required"))
                return typed(schema, "object", path);
            if (schema.contains("items") || schema.contains("prefixItems"))
                return typed(schema, "array", path);
            if (has_other_than(schema, {"$defs", "definitions"}))
                fail("a schema with keywords needs a type", path);
            return any_value();
        }
        const Json& type = schema["type"];
        if (type.is_string()) return typed(schema, type.get<std::string>(), path);
        if (!type.is_array() || type.empty())
            fail("type must be a string or a non-empty array", path + "/type");
        GrammarNode n;
        n.kind = NodeKind::kAnyOf;
        for (const auto& t : type) {
            if (!t.is_string()) fail("type must be a string or a non-empty array", path + "/type");
            n.alternatives.push_back(typed(schema, t.get<std::string>(), path));
        }
        return add(std::move(n));
    }

    static size_t count_annotations(const Json& schema) {
        size_t n = 0;
        for (const auto& [key, value] : schema.items()) n += kAnnotations.contains(key) ? 1 : 0;
        return n;
    }
    static bool has_other_than(const Json& schema, const std::set<std::string>& allowed) {
        for (const auto& [key, value] : schema.items()) {
            if (!kAnnotations.contains(key) && !allowed.contains(key)) return true;
        }
        return false;
    }
    static bool matches_type(const Json& v, const Json& type) {
        auto one = [&](const std::string& t) {
            return (t == "string" && v.is_string()) || (t == "integer" && v.is_number_integer()) ||
                   (t == "number" && v.is_number()) || (t == "boolean" && v.is_boolean()) ||
                   (t == "null" && v.is_null()) || (t == "object" && v.is_object()) ||
                   (t == "array" && v.is_array());
        };
        if (type.is_string()) return one(type.get<std::string>());
        if (type.is_array()) {
            for (const auto& t : type) {
                if (t.is_string() && one(t.get<std::string>())) return true;
            }
        }
        return false;
    }

    void only_for(const Json& schema, const std::string& type, std::initializer_list<const char*> keys,
                  const std::string& path) {
        for (const char* key : keys) {
            if (schema.contains(key))
                fail(fmt::format("'{}' does not apply to type \"{}\"", key, type), path + "/" + key);
        }
    }

    int32_t typed(const Json& schema, const std::string& type, const std::string& path) {
        if (type == "object") return object(schema, path);
        if (type == "array") return array(schema, path);
        if (type == "string") return string(schema, path);
        only_for(schema, type, {"minLength", "maxLength", "format"}, path);
        if (type == "integer") {
            GrammarNode n;
            n.kind = NodeKind::kInteger;
            if (schema.contains("minimum")) n.minimum = integer_of(schema["minimum"], path + "/minimum");
            if (schema.contains("maximum")) n.maximum = integer_of(schema["maximum"], path + "/maximum");
            if (n.minimum && n.maximum && *n.minimum > *n.maximum)
                fail("minimum is greater than maximum", path);
            return add(std::move(n));
        }
        if (type == "number") {
            if (schema.contains("minimum") || schema.contains("maximum"))
                fail("minimum / maximum are supported on integers only", path);
            GrammarNode n;
            n.kind = NodeKind::kNumber;
            return add(std::move(n));
        }
        only_for(schema, type, {"minimum", "maximum"}, path);
        if (type == "boolean") return literals({"true", "false"});
        if (type == "null") return literals({"null"});
        fail("unknown type \"" + type + "\"", path + "/type");
    }

    int32_t object(const Json& schema, const std::string& path) {
        GrammarNode n;
        n.kind = NodeKind::kObject;
        std::set<std::string> required;
        if (schema.contains("required")) {
            const Json& list = schema["required"];
            if (!list.is_array()) fail("must be an array of property names", path + "/required");
            for (const auto& name : list) {
                if (!name.is_string()) fail("must be an array of property names", path + "/required");
                required.insert(name.get<std::string>());
            }
        }
        if (schema.contains("properties")) {
            const Json& props = schema["properties"];
            if (!props.is_object()) fail("must be an object", path + "/properties");
            if (props.size() > size_t(kMaxProperties))
                fail(fmt::format("more than {} properties are not supported", kMaxProperties),
                     path + "/properties");
            for (const auto& [key, sub] : props.items()) {
                PropertyRule rule;
                const std::string quoted = Json(key).dump();
                rule.key = quoted.substr(1, quoted.size() - 2);
                rule.required = required.erase(key) > 0;
                rule.node = node(sub, path + "/properties/" + escape_pointer(key));
                n.properties.push_back(std::move(rule));
            }
        }
        if (!required.empty())
            fail("required names '" + *required.begin() + "', which is not among the properties",
                 path + "/required");
        if (schema.contains("additionalProperties")) {
            const Json& extra = schema["additionalProperties"];
            if (!(extra.is_boolean() && !extra.get<bool>()))
                n.additional = node(extra, path + "/additionalProperties");
        }
        only_for(schema, "object",
                 {"items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "format",
                  "minimum", "maximum"},
                 path);
        return add(std::move(n));
    }

    int32_t array(const Json& schema, const std::string& path) {
        GrammarNode n;
        n.kind = NodeKind::kArray;
        if (schema.contains("prefixItems")) {
            const Json& list = schema["prefixItems"];
            if (!list.is_array()) fail("must be an array of schemas", path + "/prefixItems");
            for (size_t i = 0; i < list.size(); ++i)
                n.prefix_items.push_back(node(list[i], fmt::format("{}/prefixItems/{}", path, i)));
            // A tuple's items are all expected unless minItems says otherwise (zod and Pydantic tuples
            // are exact): stricter than JSON Schema, never looser.
            n.min_items = static_cast<int32_t>(n.prefix_items.size());
        }
        if (schema.contains("items") && schema["items"].is_array()) {
            // Draft-07 tuples (what zod-to-json-schema writes): items is the list, additionalItems the rest
            // (closed when absent, as objects are).
            const Json& list = schema["items"];
            for (size_t i = 0; i < list.size(); ++i)
                n.prefix_items.push_back(node(list[i], fmt::format("{}/items/{}", path, i)));
            const Json extra = schema.value("additionalItems", Json(false));
            n.items = extra.is_boolean() && !extra.get<bool>() ? -1 : node(extra, path + "/additionalItems");
            // Every listed item is expected (zod's tuples are read that way).
            n.min_items = static_cast<int32_t>(n.prefix_items.size());
        } else if (schema.contains("items")) {
            const Json& items = schema["items"];
            if (items.is_boolean() && !items.get<bool>())
                n.items = -1;
            else
                n.items = node(items, path + "/items");
        } else if (!n.prefix_items.empty()) {
            // A 2020-12 tuple without items is closed, as draft-07 tuples and objects are: open, nothing
            // would end a tuple the model keeps extending until max_tokens.
            n.items = -1;
        } else {
            n.items = any_value();
        }
        if (schema.contains("minItems")) n.min_items = count_of(schema, "minItems", path);
        if (schema.contains("maxItems")) n.max_items = count_of(schema, "maxItems", path);
        if (n.max_items >= 0 && n.min_items > n.max_items) fail("minItems is greater than maxItems", path);
        if (n.items < 0 && n.min_items > static_cast<int32_t>(n.prefix_items.size()))
            fail("minItems asks for more items than prefixItems allows", path);
        only_for(schema, "array",
                 {"properties", "required", "additionalProperties", "minLength", "maxLength", "format",
                  "minimum", "maximum"},
                 path);
        return add(std::move(n));
    }

    int32_t string(const Json& schema, const std::string& path) {
        GrammarNode n;
        n.kind = NodeKind::kString;
        if (schema.contains("minLength")) n.min_length = count_of(schema, "minLength", path);
        if (schema.contains("maxLength")) n.max_length = count_of(schema, "maxLength", path);
        if (n.max_length >= 0 && n.min_length > n.max_length)
            fail("minLength is greater than maxLength", path);
        if (schema.contains("format")) {
            static const std::map<std::string, StringFormat> kFormats = {
                {"date", StringFormat::kDate},
                {"date-time", StringFormat::kDateTime},
                {"uuid", StringFormat::kUuid},
                {"email", StringFormat::kEmail}};
            const Json& f = schema["format"];
            auto it = f.is_string() ? kFormats.find(f.get<std::string>()) : kFormats.end();
            if (it == kFormats.end())
                fail("unsupported format " + f.dump() + " (supported: date, date-time, uuid, email)",
                     path + "/format");
            if (n.min_length > 0 || n.max_length >= 0)
                fail("minLength / maxLength beside a format are not supported", path);
            n.format = it->second;
        }
        only_for(schema, "string",
                 {"properties", "required", "additionalProperties", "items", "prefixItems", "minItems",
                  "maxItems", "minimum", "maximum"},
                 path);
        return add(std::move(n));
    }

    const Json& root_;
    JsonGrammar grammar_;
    std::map<std::string, int32_t> refs_;
    int32_t any_ = -1;
};

}  // namespace

JsonGrammar compile_json_schema(const nlohmann::json& schema) {
    return Compiler(schema).compile();
}

JsonGrammar any_json_object_grammar() {
    return compile_json_schema(Json{{"type", "object"}, {"additionalProperties", true}});
}

}  // namespace gptoss::structured
