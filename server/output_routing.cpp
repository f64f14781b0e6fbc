#include "server/output_routing.h"

#include <algorithm>

namespace gptoss {

RoutedMessage route_output_message(const harmony::MessageHeader& header,
                                   const std::vector<std::string>& tool_names, bool tool_calls_allowed,
                                   std::vector<std::string>& warnings) {
    if (header.author.role != harmony::Role::kAssistant) {
        warnings.push_back("a message from " + std::string(harmony::role_name(header.author.role)) +
                           " in the output was ignored");
        return {};
    }
    // "<|constrain|>json" lands in the recipient when a final header has no "to=": a content type.
    const std::string recipient = header.recipient.value_or("");
    const bool has_recipient =
        !recipient.empty() && !recipient.starts_with("<|") && recipient != "assistant" && recipient != "all";
    if (has_recipient && !tool_calls_allowed) {
        warnings.push_back("a call to \"" + recipient +
                           "\" although the request offers no tools (or tool_choice none) went to reasoning");
        return {OutputRoute::kReasoning};
    }
    if (has_recipient) {
        const auto offered = [&](const std::string& name) {
            return std::find(tool_names.begin(), tool_names.end(), name) != tool_names.end();
        };
        if (recipient.starts_with("functions.") && offered(recipient.substr(10))) {
            return {OutputRoute::kToolCall, recipient.substr(10)};
        }
        if (offered(recipient)) {
            warnings.push_back("a call to \"" + recipient + "\" lacked the functions. namespace");
            return {OutputRoute::kToolCall, recipient};
        }
        warnings.push_back("a call to \"" + recipient +
                           "\", which the request did not offer, went to reasoning");
        return {OutputRoute::kReasoning};
    }
    const std::string channel = header.channel.value_or("");
    if (channel == "analysis") return {OutputRoute::kReasoning};
    if (!channel.empty() && channel != "final" && channel != "commentary") {
        warnings.push_back("a message on the unknown channel \"" + channel + "\" went to content");
    }
    RoutedMessage routed{OutputRoute::kContent};
    routed.preamble = channel == "commentary";
    return routed;
}

std::string random_call_id(std::mt19937_64& rng) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
    std::string id = "call_";
    for (int i = 0; i < 24; ++i) id += kAlphabet[pick(rng)];
    return id;
}

}  // namespace gptoss
