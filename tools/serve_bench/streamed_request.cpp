#include "tools/serve_bench/streamed_request.h"

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/serve_bench/sse_parser.h"

namespace gptoss::serve_bench {

namespace {

double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Tokens of output in one chunk: completions carry token_ids (return_token_ids), chat chunks one token per
// non-empty delta.
int chunk_tokens(const nlohmann::json& chunk, EndpointKind kind) {
    const auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty()) return 0;
    const nlohmann::json& choice = (*choices)[0];
    if (kind == EndpointKind::kCompletions) {
        if (auto ids = choice.find("token_ids"); ids != choice.end() && ids->is_array()) {
            return static_cast<int>(ids->size());
        }
        auto text = choice.find("text");
        return text != choice.end() && text->is_string() && !text->get<std::string>().empty() ? 1 : 0;
    }
    auto delta = choice.find("delta");
    if (delta == choice.end() || !delta->is_object()) return 0;
    for (const char* field : {"content", "reasoning_content", "reasoning"}) {
        auto v = delta->find(field);
        if (v != delta->end() && v->is_string() && !v->get<std::string>().empty()) return 1;
    }
    return delta->contains("tool_calls") ? 1 : 0;
}

}  // namespace

RequestSample send_streamed(httplib::Client& client, EndpointKind kind, const std::string& api_key,
                            const BenchRequest& request, Clock::time_point run_start) {
    RequestSample sample;
    sample.prompt_tokens = request.prompt_tokens;
    sample.expected_output_tokens = request.expected_output_tokens;
    int streamed_tokens = 0;
    std::optional<int> usage_output, usage_prompt;
    std::string stream_error;
    std::string body_head;  // the start of the body, for a failure's message
    Clock::time_point last_chunk;
    const Clock::time_point sent = Clock::now();

    SseParser parser([&](std::string_view data) {
        const Clock::time_point now = Clock::now();
        if (data == "[DONE]") return;
        nlohmann::json chunk = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
        if (chunk.is_discarded()) {
            if (stream_error.empty()) stream_error = fmt::format("unparsable event: {:.200}", data);
            return;
        }
        if (chunk.contains("error")) {
            if (stream_error.empty()) stream_error = chunk["error"].dump();
            return;
        }
        if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
            usage_output = usage->value("completion_tokens", 0);
            usage_prompt = usage->value("prompt_tokens", 0);
        }
        const int tokens = chunk_tokens(chunk, kind);
        if (tokens == 0) return;
        if (streamed_tokens == 0) {
            sample.ttft_s = seconds(sent, now);
        } else {
            sample.itl_s.push_back(seconds(last_chunk, now));
        }
        last_chunk = now;
        streamed_tokens += tokens;
    });

    httplib::Request req;
    req.method = "POST";
    req.path = kind == EndpointKind::kChat ? "/v1/chat/completions" : "/v1/completions";
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
    if (!api_key.empty()) req.headers.emplace("Authorization", "Bearer " + api_key);
    req.body = request.body;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        if (body_head.size() < 512) body_head.append(data, std::min<size_t>(n, 512 - body_head.size()));
        parser.feed({data, n});
        return true;
    };
    const httplib::Result result = client.send(req);
    const Clock::time_point done = Clock::now();
    sample.start_s = seconds(run_start, sent);
    sample.latency_s = seconds(sent, done);
    if (!result) {
        sample.error = "HTTP request failed: " + httplib::to_string(result.error());
    } else if (result->status != 200) {
        sample.error = fmt::format("HTTP {}: {}", result->status, body_head);
    } else if (!stream_error.empty()) {
        sample.error = "stream error: " + stream_error;
    } else if (streamed_tokens == 0) {
        sample.error = "the stream carried no output tokens";
    } else {
        sample.success = true;
    }
    sample.output_tokens = usage_output.value_or(streamed_tokens);
    if (usage_prompt) sample.prompt_tokens = *usage_prompt;
    return sample;
}

}  // namespace gptoss::serve_bench
