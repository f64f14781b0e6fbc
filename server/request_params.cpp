#include "server/request_params.h"

#include <cmath>

#include <fmt/format.h>

#include "server/errors.h"

namespace gptoss {

namespace {

ApiError out_of_range(const std::string& param, const std::string& range, const nlohmann::json& got) {
    return api_errors::invalid_request(
        fmt::format("Invalid '{}': expected {}, but got {} instead.", param, range, got.dump()), param,
        "invalid_value");
}

}  // namespace

const nlohmann::json* RequestParams::get(std::string_view key) const {
    if (!value_.is_object()) return nullptr;
    auto it = value_.find(key);
    if (it == value_.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<double> RequestParams::number(std::string_view key, double low, double high,
                                            bool low_open) const {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) throw api_errors::invalid_type(name(key), "a number", *v);
    double x = v->get<double>();
    bool above_low = low_open ? x > low : x >= low;
    if (!std::isfinite(x) || !above_low || x > high) {
        throw out_of_range(name(key),
                           fmt::format("a number {} {} and <= {}", low_open ? ">" : ">=", low, high), *v);
    }
    return x;
}

int64_t RequestParams::checked_integer(const nlohmann::json& v, const std::string& param, int64_t low,
                                       int64_t high) const {
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(high)) {
            throw out_of_range(param, fmt::format("an integer between {} and {}", low, high), v);
        }
        int64_t x = v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>()) : v.get<int64_t>();
        if (x < low || x > high)
            throw out_of_range(param, fmt::format("an integer between {} and {}", low, high), v);
        return x;
    }
    if (v.is_number_float()) {
        double x = v.get<double>();
        if (std::isfinite(x) && x == std::floor(x)) {
            if (x < static_cast<double>(low) || x > static_cast<double>(high)) {
                throw out_of_range(param, fmt::format("an integer between {} and {}", low, high), v);
            }
            return static_cast<int64_t>(x);
        }
    }
    throw api_errors::invalid_type(param, "an integer", v);
}

std::optional<int64_t> RequestParams::integer(std::string_view key, int64_t low, int64_t high) const {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    return checked_integer(*v, name(key), low, high);
}

int64_t RequestParams::integer_at(size_t index, int64_t low, int64_t high) const {
    return checked_integer(value_.at(index), fmt::format("{}[{}]", prefix_, index), low, high);
}

std::optional<bool> RequestParams::boolean(std::string_view key) const {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) throw api_errors::invalid_type(name(key), "a boolean", *v);
    return v->get<bool>();
}

std::optional<std::string> RequestParams::string(std::string_view key) const {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw api_errors::invalid_type(name(key), "a string", *v);
    return v->get<std::string>();
}

const nlohmann::json* RequestParams::array(std::string_view key) const {
    const nlohmann::json* v = get(key);
    if (v && !v->is_array()) throw api_errors::invalid_type(name(key), "an array", *v);
    return v;
}

const nlohmann::json* RequestParams::object(std::string_view key) const {
    const nlohmann::json* v = get(key);
    if (v && !v->is_object()) throw api_errors::invalid_type(name(key), "an object", *v);
    return v;
}

}  // namespace gptoss
