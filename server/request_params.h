// RequestParams: typed reads of one JSON object's (or array's) fields with OpenAI-style 400 errors that name
// the parameter ("stream_options.include_usage", "prompt[3]"). A missing field and `null` both read as
// absent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gptoss {

class RequestParams {
public:
    // prefix: prepended to field names in errors ("messages[2]." for a message, "prompt" for an array).
    explicit RequestParams(const nlohmann::json& value, std::string prefix = "")
        : value_(value), prefix_(std::move(prefix)) {}

    // The field, or nullptr when missing or null.
    const nlohmann::json* get(std::string_view key) const;
    // A number in [low, high] (or (low, high] with low_open); integers count as numbers, booleans do not.
    std::optional<double> number(std::string_view key, double low, double high, bool low_open = false) const;
    // An integer in [low, high]; a decimal with an integral value (2.0) is accepted.
    std::optional<int64_t> integer(std::string_view key, int64_t low, int64_t high) const;
    std::optional<bool> boolean(std::string_view key) const;
    std::optional<std::string> string(std::string_view key) const;
    const nlohmann::json* array(std::string_view key) const;
    const nlohmann::json* object(std::string_view key) const;
    // Element i of the array this reader wraps, as an integer in [low, high].
    int64_t integer_at(size_t index, int64_t low, int64_t high) const;

    std::string name(std::string_view key) const { return prefix_ + std::string(key); }

private:
    int64_t checked_integer(const nlohmann::json& v, const std::string& param, int64_t low,
                            int64_t high) const;

    const nlohmann::json& value_;
    std::string prefix_;
};

}  // namespace gptoss
