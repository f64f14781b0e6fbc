// GET /v1/models, GET /v1/models/{id}, GET /health, GET /metrics.
#include "engine/engine.h"
#include "server/errors.h"
#include "server/routes.h"

namespace gptoss {

namespace {

nlohmann::json model_object(ServerState& state, const std::string& name) {
    nlohmann::json m = {{"id", name},
                        {"object", "model"},
                        {"created", state.start_time()},
                        {"owned_by", "gptoss"},
                        {"root", state.options().model_root},
                        {"parent", nullptr}};
    if (auto model = state.model()) m["max_model_len"] = model->engine->max_model_len();
    return m;
}

}  // namespace

void handle_models(ServerState& state, httplib::Response& res) {
    set_json(res, {{"object", "list"},
                   {"data", nlohmann::json::array({model_object(state, state.served_model_name())})}});
}

void handle_model(ServerState& state, const std::string& id, httplib::Response& res) {
    state.check_model_name(id);
    set_json(res, model_object(state, id));
}

void handle_health(ServerState& state, httplib::Response& res) {
    // Load balancers read the status; the body says why.
    if (state.draining()) {
        set_json(res, {{"status", "draining"}}, 503);
    } else if (!state.model()) {
        set_json(res, {{"status", "loading"}}, 503);
    } else {
        set_json(res, {{"status", "ok"}});
    }
}

void handle_metrics(ServerState& state, httplib::Response& res) {
    std::optional<EngineStats> stats;
    if (auto model = state.model()) stats = model->engine->stats();
    res.set_content(state.metrics().render(state.served_model_name(), stats),
                    "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace gptoss
