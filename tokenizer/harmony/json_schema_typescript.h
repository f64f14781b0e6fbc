// JSON Schema -> the TypeScript-like type text harmony puts in a tools section (harmony.md 5.1), with every
// quirk of openai/harmony's json_schema_to_typescript (nested descriptions printed twice, numeric enums
// ignored, oneOf variants on their own lines, defaults as comments), and serde_json's compact JSON text.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace gptoss::harmony {

// The type text of `schema`; `indent` prefixes the lines of nested objects (the top level uses "").
std::string json_schema_to_typescript(const nlohmann::ordered_json& schema, const std::string& indent = "");

// Compact JSON exactly as serde_json writes it (keys in the stored order, floats in ryu's shortest form:
// 1.0, 0.1, 1e-7, 1e21), which is how harmony prints defaults and schemas.
std::string to_compact_json(const nlohmann::ordered_json& value);

}  // namespace gptoss::harmony
