// Schemas the structured-output tests share: nested objects, arrays, enums, optional fields, formats,
// bounds, anyOf, $ref recursion.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace gptoss::structured::testing {

inline std::vector<nlohmann::json> test_schemas() {
    return {
        nlohmann::json::parse(
            R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150}},"required":["name","age"]})"),
        nlohmann::json::parse(
            R"({"type":"object","properties":{"location":{"type":"string","minLength":1,"maxLength":12},"unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"array","items":{"type":"integer","minimum":1,"maximum":7},"maxItems":3}},"required":["location","unit"]})"),
        nlohmann::json::parse(
            R"({"type":"array","items":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},"when":{"type":"string","format":"date-time"},"on":{"type":"string","format":"date"},"mail":{"type":"string","format":"email"}},"required":["id"]},"minItems":1,"maxItems":2})"),
        nlohmann::json::parse(
            R"({"anyOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number"}},"required":["kind","r"]},{"type":"object","properties":{"kind":{"const":"rect"},"w":{"type":"number"},"h":{"type":"number"}},"required":["kind","w","h"]}]})"),
        nlohmann::json::parse(
            R"({"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["value"]}},"$ref":"#/$defs/node"})"),
        nlohmann::json::parse(
            R"({"type":"object","properties":{"tags":{"type":"array","prefixItems":[{"type":"boolean"},{"type":"null"}],"items":{"type":["string","integer"]}},"extra":{"type":["string","null"]},"n":{"type":"integer","minimum":-20,"maximum":-3}},"required":["tags","n"],"additionalProperties":{"type":"number"}})"),
        nlohmann::json::parse(
            R"({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"object","properties":{"c":{"enum":[1,12,"x",null,true]}},"required":["c"]}},"required":["b"]}},"required":["a"]})"),
        nlohmann::json::parse(R"({"type":"integer","minimum":10,"maximum":20})"),
    };
}

}  // namespace gptoss::structured::testing
