#include "tokenizer/harmony/json_schema_typescript.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace gptoss::harmony {

namespace {

using Json = nlohmann::ordered_json;

// serde_json's Value::get: the member `key` of an object, nullptr for a missing key or a non-object.
const Json* member(const Json& value, std::string_view key) {
    if (!value.is_object()) return nullptr;
    auto it = value.find(key);
    return it == value.end() ? nullptr : &*it;
}

const std::string* member_string(const Json& value, std::string_view key) {
    const Json* m = member(value, key);
    return m != nullptr && m->is_string() ? m->get_ptr<const std::string*>() : nullptr;
}

const Json* member_array(const Json& value, std::string_view key) {
    const Json* m = member(value, key);
    return m != nullptr && m->is_array() ? m : nullptr;
}

bool member_true(const Json& value, std::string_view key) {
    const Json* m = member(value, key);
    return m != nullptr && m->is_boolean() && m->get<bool>();
}

// `"text"` without escaping, as harmony's format!("\"{s}\"") (built by appending: GCC 12's -Wrestrict
// misfires on "\"" + s + "\"").
std::string quoted(const std::string& text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    out += text;
    out += '"';
    return out;
}

bool is_enum(const Json& schema) {
    const Json* values = member_array(schema, "enum");
    return values != nullptr && !values->empty();
}

// " | null" for a nullable schema whose type text does not already mention null.
void append_nullable(const Json& schema, std::string& type_text) {
    if (member_true(schema, "nullable") && type_text.find("null") == std::string::npos)
        type_text += " | null";
}

// The "default: ..." comment text. A string default on a non-enum schema is quoted without escaping;
// `unquoted_enum_strings` selects the property-level form, where an enum's string default is bare
// (the top-level oneOf code of harmony prints it as JSON instead).
std::string default_comment(const Json& schema, const Json& value, bool unquoted_enum_strings) {
    if (value.is_string() && !is_enum(schema)) return "default: " + quoted(value.get<std::string>());
    if (value.is_string() && unquoted_enum_strings) return "default: " + value.get<std::string>();
    return "default: " + to_compact_json(value);
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += separator;
        out += parts[i];
    }
    return out;
}

// A schema with a oneOf array: each variant on its own line as " | T", with trailing comments.
std::string render_one_of(const Json& variants, const std::string& indent) {
    std::string out;
    for (const Json& variant : variants) {
        out += "\n" + indent + " | ";
        std::string type_text = json_schema_to_typescript(variant, indent + "   ");
        append_nullable(variant, type_text);
        out += type_text;
        std::vector<std::string> comments;
        if (const std::string* description = member_string(variant, "description"))
            comments.push_back(*description);
        if (const Json* value = member(variant, "default"))
            comments.push_back(default_comment(variant, *value, false));
        if (!comments.empty()) out += " // " + join(comments, " ");
    }
    return out;
}

// A property whose schema has a oneOf array: comments above the name, then one line per variant.
void render_one_of_property(const std::string& key, const Json& property, const Json& variants, bool required,
                            const std::string& indent, std::string& out) {
    const std::string* property_description = member_string(property, "description");
    bool skip_property_description = false;
    if (property_description != nullptr && !variants.empty()) {
        const std::string* first = member_string(variants.front(), "description");
        skip_property_description = first != nullptr && *first == *property_description;
    }
    bool description_above = false;
    if (!skip_property_description && property_description != nullptr) {
        out += indent + "// " + *property_description + "\n";
        description_above = true;
    }
    if (const Json* value = member(property, "default")) {
        out += indent + "// " + default_comment(property, *value, true) + "\n";
    }
    out += indent + key + (required ? "" : "?") + ":\n";
    for (size_t i = 0; i < variants.size(); ++i) {
        const Json& variant = variants[i];
        std::string type_text = json_schema_to_typescript(variant, indent + "   ");
        append_nullable(variant, type_text);
        out += indent + " | " + type_text;
        std::vector<std::string> comments;
        if (!(i == 0 && description_above)) {
            const std::string* description = member_string(variant, "description");
            if (description != nullptr &&
                (property_description == nullptr || *description != *property_description)) {
                comments.push_back(*description);
            }
        }
        if (const Json* value = member(variant, "default"))
            comments.push_back(default_comment(variant, *value, true));
        if (!comments.empty()) out += " // " + join(comments, " ");
        out += "\n";
    }
    out += indent + ",\n";
}

std::string render_object(const Json& schema, const std::string& indent) {
    std::string out;
    if (const std::string* description = member_string(schema, "description")) {
        out += indent + "// " + *description + "\n";
    }
    out += "{\n";
    const Json* properties = member(schema, "properties");
    if (properties != nullptr && properties->is_object()) {
        std::unordered_set<std::string> required;
        if (const Json* names = member_array(schema, "required")) {
            for (const Json& name : *names) {
                if (name.is_string()) required.insert(name.get<std::string>());
            }
        }
        for (const auto& [key, property] : properties->items()) {
            const bool is_required = required.count(key) > 0;
            if (const std::string* title = member_string(property, "title")) {
                out += indent + "// " + *title + "\n" + indent + "//\n";
            }
            const Json* one_of = member(property, "oneOf");
            if (one_of == nullptr) {
                if (const std::string* description = member_string(property, "description")) {
                    out += indent + "// " + *description + "\n";
                }
            }
            if (const Json* examples = member_array(property, "examples");
                examples != nullptr && !examples->empty()) {
                out += indent + "// Examples:\n";
                for (const Json& example : *examples) {
                    if (example.is_string())
                        out += indent + "// - " + quoted(example.get<std::string>()) + "\n";
                }
            }
            if (one_of != nullptr && one_of->is_array()) {
                render_one_of_property(key, property, *one_of, is_required, indent, out);
                continue;
            }
            out += indent + key + (is_required ? "" : "?") + ": ";
            std::string type_text = json_schema_to_typescript(property, indent + "    ");
            append_nullable(property, type_text);
            out += type_text + ",";
            if (one_of == nullptr) {
                if (const Json* value = member(property, "default")) {
                    out += " // " + default_comment(property, *value, true);
                }
            }
            out += "\n";
        }
    }
    out += indent + "}";
    return out;
}

std::string render_string(const Json& schema) {
    if (const Json* values = member_array(schema, "enum")) {
        std::vector<std::string> names;
        for (const Json& value : *values) {
            if (value.is_string()) names.push_back(quoted(value.get<std::string>()));
        }
        if (!names.empty()) return join(names, " | ");
    }
    return "string";
}

// ryu's shortest float text as serde_json prints it: integral values keep ".0", exponents lose the "+".
std::string float_text(double value) {
    if (!std::isfinite(value)) return "null";
    if (value == 0.0) return std::signbit(value) ? "-0.0" : "0.0";
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
    std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
    std::string out;
    if (text.front() == '-') {
        out += '-';
        text.remove_prefix(1);
    }
    const size_t e_pos = text.find('e');
    std::string digits;
    for (char c : text.substr(0, e_pos)) {
        if (c != '.') digits += c;
    }
    const int exponent = std::atoi(std::string(text.substr(e_pos + 1)).c_str());
    const int length = static_cast<int>(digits.size());
    const int kk = exponent + 1;  // 10^(kk-1) <= |value| < 10^kk
    const int k = kk - length;    // value = digits * 10^k
    if (k >= 0 && kk <= 16) {
        out += digits + std::string(static_cast<size_t>(k), '0') + ".0";
    } else if (kk > 0 && kk <= 16) {
        out += digits.substr(0, static_cast<size_t>(kk)) + "." + digits.substr(static_cast<size_t>(kk));
    } else if (kk > -5 && kk <= 0) {
        out += "0." + std::string(static_cast<size_t>(-kk), '0') + digits;
    } else if (length == 1) {
        out += digits + "e" + std::to_string(kk - 1);
    } else {
        out += digits.substr(0, 1) + "." + digits.substr(1) + "e" + std::to_string(kk - 1);
    }
    return out;
}

void append_compact_json(const Json& value, std::string& out) {
    switch (value.type()) {
        case Json::value_t::number_float:
            out += float_text(value.get<double>());
            return;
        case Json::value_t::array: {
            out += '[';
            bool first = true;
            for (const Json& item : value) {
                if (!first) out += ',';
                first = false;
                append_compact_json(item, out);
            }
            out += ']';
            return;
        }
        case Json::value_t::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, item] : value.items()) {
                if (!first) out += ',';
                first = false;
                out += Json(key).dump(-1, ' ', false, Json::error_handler_t::replace);
                out += ':';
                append_compact_json(item, out);
            }
            out += '}';
            return;
        }
        default:
            // null, booleans, integers and strings print the same in nlohmann and serde_json.
            out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
            return;
    }
}

}  // namespace

std::string to_compact_json(const nlohmann::ordered_json& value) {
    std::string out;
    append_compact_json(value, out);
    return out;
}

std::string json_schema_to_typescript(const nlohmann::ordered_json& schema, const std::string& indent) {
    if (const Json* one_of = member_array(schema, "oneOf")) return render_one_of(*one_of, indent);

    if (const Json* types = member_array(schema, "type")) {
        std::vector<std::string> names;
        for (const Json& type : *types) {
            if (!type.is_string()) continue;
            const auto& name = type.get_ref<const std::string&>();
            names.push_back(name == "integer" ? "number" : name);
        }
        if (!names.empty()) return join(names, " | ");
    }

    const std::string* type = member_string(schema, "type");
    if (type == nullptr) return "any";
    if (*type == "object") return render_object(schema, indent);
    if (*type == "string") return render_string(schema);
    if (*type == "number" || *type == "integer") return "number";
    if (*type == "boolean") return "boolean";
    if (*type == "array") {
        const Json* items = member(schema, "items");
        return items != nullptr ? json_schema_to_typescript(*items, indent) + "[]" : "Array<any>";
    }
    return "any";
}

}  // namespace gptoss::harmony
