// call_batch_line: one batch line answered in-process by its generation route's handler, exactly as the
// HTTP route would answer the same body (non-streaming): the status code and the JSON body, an OpenAI error
// object for 4xx/5xx.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "server/batch_line.h"
#include "server/server_state.h"

namespace gptoss {

// `cancel` is read as the request's client_gone: set, the route aborts its engine requests. Runs at
// kBatchPriority.
BatchReply call_batch_line(ServerState& state, const BatchLine& line, const std::string& request_id,
                           std::shared_ptr<const std::atomic<bool>> cancel);

}  // namespace gptoss
