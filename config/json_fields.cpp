#include "config/json_fields.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace gptoss::json_fields {

using nlohmann::json;

std::string describe_type(const json& value) {
    switch (value.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "a boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return "an integer";
        case json::value_t::number_float:
            return "a number";
        case json::value_t::string:
            return "a string";
        case json::value_t::array:
            return "an array";
        case json::value_t::object:
            return "an object";
        default:
            return "an unsupported value";
    }
}

json parse_object(std::string_view text, std::string_view source) {
    json doc;
    try {
        doc = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        throw ConfigError(fmt::format("{}: not valid JSON (byte {}): {}", source, e.byte, e.what()));
    }
    if (!doc.is_object()) {
        throw ConfigError(
            fmt::format("{}: expected a JSON object at the top level, got {}", source, describe_type(doc)));
    }
    return doc;
}

bool Reader::has(std::string_view key) const {
    return find(key) != nullptr;
}

const json* Reader::find(std::string_view key) const {
    auto it = object_.find(std::string(key));
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string Reader::field_name(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : fmt::format("{}.{}", prefix_, key);
}

void Reader::fail(std::string_view key, const std::string& problem) const {
    throw ConfigError(fmt::format("{}: field '{}' {}", source_, field_name(key), problem));
}

std::optional<int> Reader::optional_int(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_number_integer() || v->is_number_unsigned()) {
        if (v->is_number_unsigned() &&
            v->get<unsigned long long>() > static_cast<unsigned long long>(std::numeric_limits<int>::max())) {
            fail(key, "is too large");
        }
        long long x = v->get<long long>();
        if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
            fail(key, "is out of range");
        return static_cast<int>(x);
    }
    // 4096.0 is an integer written as a float: accept it, as Python's json would round-trip it.
    if (v->is_number_float()) {
        double d = v->get<double>();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= std::numeric_limits<int>::max()) {
            return static_cast<int>(d);
        }
    }
    fail(key, fmt::format("must be an integer, got {}", describe_type(*v)));
}

std::optional<double> Reader::optional_number(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail(key, fmt::format("must be a number, got {}", describe_type(*v)));
    double d = v->get<double>();
    if (!std::isfinite(d)) fail(key, "must be finite");
    return d;
}

std::optional<bool> Reader::optional_bool(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail(key, fmt::format("must be true or false, got {}", describe_type(*v)));
    return v->get<bool>();
}

std::optional<std::string> Reader::optional_string(std::string_view key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(key, fmt::format("must be a string, got {}", describe_type(*v)));
    return v->get<std::string>();
}

int Reader::required_int(std::string_view key) const {
    auto v = optional_int(key);
    if (!v) throw ConfigError(fmt::format("{}: missing required field '{}'", source_, field_name(key)));
    return *v;
}

std::optional<int> Reader::optional_int_alias(std::initializer_list<std::string_view> keys) const {
    for (auto key : keys) {
        if (auto v = optional_int(key)) return v;
    }
    return std::nullopt;
}

}  // namespace gptoss::json_fields
