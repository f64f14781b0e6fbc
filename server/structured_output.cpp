#include "server/structured_output.h"

#include <fmt/format.h>

#include "server/errors.h"

namespace gptoss {

structured::StructuredOutputRequest chat_structured_output_request(const nlohmann::json& body,
                                                                   bool tool_calls_allowed) {
    using Format = structured::StructuredOutputRequest::Format;
    using Choice = structured::StructuredOutputRequest::ToolChoice;
    structured::StructuredOutputRequest out;
    out.tool_calls_allowed = tool_calls_allowed;
    // Shapes were validated by parse_chat_completion_request and build_chat_prompt.
    auto format = body.find("response_format");
    if (format != body.end() && format->is_object()) {
        const std::string type = format->value("type", "text");
        if (type == "json_object") {
            out.format = Format::kJsonObject;
        } else if (type == "json_schema") {
            out.format = Format::kJsonSchema;
            out.schema = format->at("json_schema").at("schema");
        }
    }
    if (!tool_calls_allowed) return out;
    for (const auto& tool : body.value("tools", nlohmann::json::array())) {
        const nlohmann::json& function = tool.at("function");
        structured::StructuredOutputRequest::Tool t;
        t.name = function.at("name").get<std::string>();
        const auto strict = function.find("strict");
        t.strict = strict != function.end() && strict->is_boolean() && strict->get<bool>();
        if (auto parameters = function.find("parameters"); parameters != function.end())
            t.parameters = *parameters;
        out.tools.push_back(std::move(t));
    }
    const auto choice = body.find("tool_choice");
    if (choice != body.end() && choice->is_string() && choice->get<std::string>() == "required") {
        out.tool_choice = Choice::kRequired;
    } else if (choice != body.end() && choice->is_object()) {
        const auto function = choice->find("function");
        out.tool_choice = Choice::kNamed;
        out.named_tool = (function != choice->end() && function->is_object() ? *function : *choice)
                             .at("name")
                             .get<std::string>();
    }
    return out;
}

std::shared_ptr<const structured::HarmonyConstraint> make_structured_constraint(
    const structured::StructuredOutputRequest& request,
    std::shared_ptr<const structured::TokenVocabulary> vocabulary, const StructuredOutputParams& params) {
    try {
        return structured::make_harmony_constraint(request, std::move(vocabulary));
    } catch (const structured::ToolSchemaError& e) {
        throw api_errors::invalid_request(e.what(),
                                          fmt::format(fmt::runtime(params.tool_parameters), e.tool()));
    } catch (const structured::SchemaError& e) {
        throw api_errors::invalid_request(e.what(), params.schema);
    }
}

}  // namespace gptoss
