#include "server/structured_output.h"

#include "server/errors.h"

namespace gptoss {

structured::StructuredOutputRequest chat_structured_output_request(const nlohmann::json& body,
                                                                   bool tool_calls_allowed) {
    using Format = structured::StructuredOutputRequest::Format;
    structured::StructuredOutputRequest out;
    out.tool_calls_allowed = tool_calls_allowed;
    // Shapes were validated by parse_chat_completion_request and build_chat_prompt.
    auto format = body.find("response_format");
    if (format == body.end() || !format->is_object()) return out;
    const std::string type = format->value("type", "text");
    if (type == "json_object") {
        out.format = Format::kJsonObject;
    } else if (type == "json_schema") {
        out.format = Format::kJsonSchema;
        out.schema = format->at("json_schema").at("schema");
    }
    return out;
}

std::shared_ptr<const structured::HarmonyConstraint> make_structured_constraint(
    const structured::StructuredOutputRequest& request,
    std::shared_ptr<const structured::TokenVocabulary> vocabulary, const char* param) {
    try {
        return structured::make_harmony_constraint(request, std::move(vocabulary));
    } catch (const structured::SchemaError& e) {
        throw api_errors::invalid_request(e.what(), std::string(param));
    }
}

}  // namespace gptoss
