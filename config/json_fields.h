// Typed reads of JSON fields with errors that name the source and the field. Internal to config/.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "config/model_config.h"

namespace gptoss::json_fields {

class Reader {
public:
    Reader(const nlohmann::json& object, std::string_view source, std::string_view prefix = "")
        : object_(object), source_(source), prefix_(prefix) {}

    bool has(std::string_view key) const;
    std::optional<int> optional_int(std::string_view key) const;
    std::optional<double> optional_number(std::string_view key) const;
    std::optional<bool> optional_bool(std::string_view key) const;
    std::optional<std::string> optional_string(std::string_view key) const;
    int required_int(std::string_view key) const;
    // The first of `keys` that is present (aliases), or nullopt.
    std::optional<int> optional_int_alias(std::initializer_list<std::string_view> keys) const;

    [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
    std::string field_name(std::string_view key) const;
    const nlohmann::json* find(std::string_view key) const;
    std::string_view source() const { return source_; }

private:
    const nlohmann::json& object_;
    std::string source_;
    std::string prefix_;
};

// "an integer", "a string", ... for error messages.
std::string describe_type(const nlohmann::json& value);

// Parses text as a JSON object or throws ConfigError naming the source and the parse position.
nlohmann::json parse_object(std::string_view text, std::string_view source);

}  // namespace gptoss::json_fields
