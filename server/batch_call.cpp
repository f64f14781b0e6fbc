#include "server/batch_call.h"

#include <spdlog/spdlog.h>

#include "server/errors.h"
#include "server/routes.h"

namespace gptoss {

BatchReply call_batch_line(ServerState& state, const BatchLine& line, const std::string& request_id,
                           std::shared_ptr<const std::atomic<bool>> cancel) {
    RequestContext context{request_id, std::chrono::steady_clock::now(), line.body_text, std::move(cancel),
                           kBatchPriority};
    try {
        // A batch line's answer is one JSON body; there is nobody to stream it to.
        auto stream = line.body.find("stream");
        if (stream != line.body.end() && stream->is_boolean() && stream->get<bool>()) {
            throw api_errors::invalid_request("Streaming is not available in a batch; leave 'stream' unset.",
                                              "stream");
        }
        GenerationHandler handler = generation_handler(line.url);
        if (!handler) throw api_errors::route_not_found("POST", line.url);
        httplib::Response res;
        handler(state, context, line.body, res);
        return {res.status, nlohmann::json::parse(res.body)};
    } catch (const ApiError& e) {
        if (e.status() == 500) spdlog::error("batch request failed id={} error={}", request_id, e.what());
        return {e.status(), e.to_json()};
    } catch (const std::exception& e) {
        spdlog::error("batch request failed id={} error={}", request_id, e.what());
        return {500, api_errors::internal(e.what()).to_json()};
    }
}

}  // namespace gptoss
