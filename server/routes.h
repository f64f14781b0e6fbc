// Route handlers and the helpers they share (internal to server/). A handler validates its input, throws
// ApiError for anything the client got wrong, and fills the response (JSON, or an SSE content provider).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "engine/request.h"
#include "server/chat_mapping.h"
#include "server/generation_pump.h"
#include "server/openai_schema.h"
#include "server/server_state.h"
#include "server/sse_writer.h"

namespace gptoss {

class BatchService;
class Tokenizer;

// The generation routes (POST /v1/chat/completions, /v1/completions, /v1/responses): what an HTTP request
// and a batch line (batch_call.h) run alike.
using GenerationHandler = void (*)(ServerState& state, const RequestContext& context,
                                   const nlohmann::json& body, httplib::Response& res);
// The handler of a generation route's path, or nullptr for any other path.
GenerationHandler generation_handler(std::string_view path);

void handle_chat_completions(ServerState& state, const RequestContext& context, const nlohmann::json& body,
                             httplib::Response& res);
void handle_completions(ServerState& state, const RequestContext& context, const nlohmann::json& body,
                        httplib::Response& res);
// /v1/responses (responses.cpp)
void handle_responses(ServerState& state, const RequestContext& context, const nlohmann::json& body,
                      httplib::Response& res);
void handle_get_response(ServerState& state, const std::string& id, httplib::Response& res);
void handle_delete_response(ServerState& state, const std::string& id, httplib::Response& res);
void handle_cancel_response(ServerState& state, const std::string& id, httplib::Response& res);
// The Batch API (batch_routes.cpp)
void handle_upload_file(BatchService& batches, const httplib::Request& req, httplib::Response& res);
void handle_get_file(BatchService& batches, const std::string& id, httplib::Response& res);
void handle_file_content(BatchService& batches, const std::string& id, httplib::Response& res);
void handle_delete_file(BatchService& batches, const std::string& id, httplib::Response& res);
void handle_create_batch(BatchService& batches, const nlohmann::json& body, httplib::Response& res);
void handle_get_batch(BatchService& batches, const std::string& id, httplib::Response& res);
void handle_list_batches(BatchService& batches, const httplib::Request& req, httplib::Response& res);
void handle_cancel_batch(BatchService& batches, const std::string& id, httplib::Response& res);
void handle_models(ServerState& state, httplib::Response& res);
void handle_model(ServerState& state, const std::string& id, httplib::Response& res);
void handle_health(ServerState& state, httplib::Response& res);
void handle_metrics(ServerState& state, httplib::Response& res);
void handle_tokenize(ServerState& state, const RequestContext& context, const nlohmann::json& body,
                     httplib::Response& res);
void handle_detokenize(ServerState& state, const nlohmann::json& body, httplib::Response& res);

// ---- shared helpers (generation_common.cpp)

void set_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
// "<prefix><32 random hex digits>", e.g. "chatcmpl-…".
std::string random_id(const std::string& prefix);
// The request's seed + choice index, or a fresh random seed.
uint64_t choice_seed(const GenerationParams& params, int choice);
// max_tokens for a prompt: the request's (checked against the context length), else default_max_tokens
// (0 = what is left of the context). Throws 400 naming both numbers when the prompt does not fit.
int resolve_max_tokens(int num_prompt_tokens, const GenerationParams& params, int max_model_len,
                       int default_max_tokens, const std::string& prompt_param);
// Rejects logit_bias keys and stop_token_ids outside the vocabulary.
void check_vocabulary_ids(const GenerationParams& params, const Tokenizer& tokenizer);
// The body again, as nlohmann::ordered_json: build_chat_prompt renders tool schemas in the client's key
// order, which nlohmann::json (sorted keys) has lost.
nlohmann::ordered_json ordered_body(const RequestContext& context);
// build_chat_prompt with its ChatRequestError turned into ApiError 400.
ChatPrompt render_chat_prompt(ServerState& state, const RequestContext& context, const Tokenizer& tokenizer);
// The same for a chat body built by another route (the Responses route's translation).
ChatPrompt render_chat_body(ServerState& state, const RequestContext& context,
                            const nlohmann::ordered_json& body, const Tokenizer& tokenizer);
// One token's OpenAI logprob object: {"token", "logprob", "bytes", "top_logprobs": [...]}.
nlohmann::json token_logprob_json(const Tokenizer& tokenizer, const TokenLogprob& logprob);
// The bytes of a token as a JSON string (invalid UTF-8 is replaced when serialized).
std::string token_text(const Tokenizer& tokenizer, int32_t id);

// Serves an SSE response: `run` is called once on the connection's thread with a writer; the pump is kept
// alive (and aborted when the client disconnects) by the session object the provider holds.
void start_event_stream(httplib::Response& res, std::function<void(SseWriter&)> run);
// Drives a pump for a streaming response: on_event for each event, keep-alive comments while idle, abort
// when a write fails. Returns false when the client went away.
bool pump_events(GenerationPump& pump, SseWriter& sse, std::chrono::milliseconds keep_alive,
                 const std::function<void(ChoiceEvent&)>& on_event);

}  // namespace gptoss
