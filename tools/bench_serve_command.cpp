// gptoss bench serve: vLLM's `bench serve` for any OpenAI-compatible server. Streams requests from a dataset
// (random token ids or ShareGPT) at a request rate and concurrency (each a sweep), and reports TTFT, TPOT,
// ITL and E2E latency, throughput and failures per run (tools/serve_bench/). Either against --base-url, or
// against a `gptoss serve --model DIR` child it starts, waits for and stops.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "config/cli_flags.h"
#include "tools/commands.h"
#include "tools/serve_bench/bench_dataset.h"
#include "tools/serve_bench/child_server.h"
#include "tools/serve_bench/load_generator.h"
#include "tools/serve_bench/plots.h"

namespace gptoss::cli {
namespace {

using json = nlohmann::json;
using namespace serve_bench;

struct Options {
    std::string base_url, model, backend, served_name, api_key;
    std::string endpoint = "completions", dataset = "random", dataset_path;
    int num_prompts = 1000, input_len = 1024, output_len = 128;
    double range_ratio = 0.0;
    std::optional<int> sharegpt_output_len;
    std::string max_concurrency, request_rate = "inf";
    bool ignore_eos = false;
    std::optional<double> temperature;
    int64_t seed = 0;
    std::string result_json, plot_dir, server_log;
    int server_timeout_s = 900, request_timeout_s = 600;
    std::vector<std::string> serve_args;  // after "--"
};

template <class T>
std::vector<T> parse_list(const std::string& text, const std::string& flag, T (*parse)(const std::string&)) {
    std::vector<T> values;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            values.push_back(parse(item));
        } catch (const std::exception&) {
            throw CliError(fmt::format("--{}: cannot read '{}'", flag, item));
        }
    }
    return values;
}
int parse_concurrency(const std::string& s) {
    const int v = std::stoi(s);
    if (v < 1) throw std::invalid_argument("not positive");
    return v;
}
double parse_rate(const std::string& s) {
    if (s == "inf") return std::numeric_limits<double>::infinity();
    const double v = std::stod(s);
    if (!(v > 0)) throw std::invalid_argument("not positive");
    return v;
}

// "http://host:port[/v1]" -> (host, port).
std::pair<std::string, int> parse_base_url(std::string url) {
    if (!url.starts_with("http://")) throw CliError("--base-url must start with http://");
    url = url.substr(7);
    if (const size_t slash = url.find('/'); slash != std::string::npos) url.resize(slash);
    const size_t colon = url.rfind(':');
    if (colon == std::string::npos) return {url, 80};
    try {
        return {url.substr(0, colon), std::stoi(url.substr(colon + 1))};
    } catch (const std::exception&) {
        throw CliError("--base-url has a malformed port: " + url);
    }
}

// The small API calls around the benchmark: the served model's name, /tokenize, /detokenize.
class ServerApi {
public:
    ServerApi(const std::string& host, int port, std::string api_key)
        : client_(host, port), api_key_(std::move(api_key)) {
        client_.set_read_timeout(60);
    }
    json post(const std::string& path, const json& body) {
        httplib::Headers headers;
        if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
        auto r = client_.Post(path, headers, body.dump(), "application/json");
        if (!r || r->status != 200) {
            throw std::runtime_error(fmt::format(
                "POST {} failed: {}", path,
                r ? fmt::format("HTTP {} {:.300}", r->status, r->body) : httplib::to_string(r.error())));
        }
        return json::parse(r->body);
    }
    std::string model_name() {
        httplib::Headers headers;
        if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
        auto r = client_.Get("/v1/models", headers);
        if (!r || r->status != 200)
            throw std::runtime_error("GET /v1/models failed; pass --served-model-name");
        return json::parse(r->body).at("data").at(0).at("id").get<std::string>();
    }
    int count_tokens(const std::string& text) {
        return post("/tokenize", {{"prompt", text}}).at("count").get<int>();
    }
    std::string detokenize(const std::vector<int32_t>& ids) {
        return post("/detokenize", {{"tokens", ids}}).at("prompt").get<std::string>();
    }

private:
    httplib::Client client_;
    std::string api_key_;
};

std::vector<BenchRequest> make_requests(const Options& o, const std::string& model,
                                        std::vector<DatasetPrompt> prompts, ServerApi& api) {
    const bool chat = o.endpoint == "chat";
    std::vector<BenchRequest> requests;
    for (DatasetPrompt& p : prompts) {
        json body = {{"model", model}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
        if (chat) {
            if (p.text.empty())
                p.text = api.detokenize(p.token_ids);  // chat takes text; its length is approximate
            body["messages"] = json::array({{{"role", "user"}, {"content", p.text}}});
            body["max_completion_tokens"] = p.output_tokens;
        } else {
            body["prompt"] = p.token_ids.empty() ? json(p.text) : json(p.token_ids);
            body["max_tokens"] = p.output_tokens;
            body["return_token_ids"] = true;  // every token then streams as its own chunk, text or not
        }
        if (o.ignore_eos) {
            body["ignore_eos"] = true;
            body["min_tokens"] = p.output_tokens;  // vLLM's name; servers without it ignore it
        }
        if (o.temperature) body["temperature"] = *o.temperature;
        requests.push_back({body.dump(), p.prompt_tokens, p.output_tokens});
    }
    return requests;
}

int run(const Options& o) {
    std::unique_ptr<ChildServer> child;
    std::string host;
    int port = 0;
    if (!o.model.empty()) {
        std::vector<std::string> serve_args = {"--model", o.model};
        if (!o.backend.empty()) serve_args.insert(serve_args.end(), {"--backend", o.backend});
        if (!o.api_key.empty()) serve_args.insert(serve_args.end(), {"--api-key", o.api_key});
        serve_args.insert(serve_args.end(), o.serve_args.begin(), o.serve_args.end());
        const std::string log =
            o.server_log.empty() ? fmt::format("/tmp/gptoss-bench-serve-{}.log", getpid()) : o.server_log;
        child = std::make_unique<ChildServer>(serve_args, log);
        child->wait_until_healthy(std::chrono::seconds(o.server_timeout_s));
        host = "127.0.0.1";
        port = child->port();
    } else {
        std::tie(host, port) = parse_base_url(o.base_url);
    }
    ServerApi api(host, port, o.api_key);
    const std::string model = o.served_name.empty() ? api.model_name() : o.served_name;

    std::vector<DatasetPrompt> prompts;
    if (o.dataset == "random") {
        prompts = random_dataset({.num_prompts = o.num_prompts,
                                  .input_len = o.input_len,
                                  .output_len = o.output_len,
                                  .range_ratio = o.range_ratio,
                                  .seed = static_cast<uint64_t>(o.seed)});
    } else {
        if (o.dataset_path.empty()) throw CliError("--dataset sharegpt needs --dataset-path FILE");
        prompts = sharegpt_dataset(o.dataset_path, o.num_prompts, o.sharegpt_output_len,
                                   static_cast<uint64_t>(o.seed),
                                   [&](const std::string& text) { return api.count_tokens(text); });
    }
    const std::vector<BenchRequest> requests = make_requests(o, model, std::move(prompts), api);

    const std::vector<int> concurrencies =
        o.max_concurrency.empty() ? std::vector<int>{0}
                                  : parse_list(o.max_concurrency, "max-concurrency", parse_concurrency);
    const std::vector<double> rates = parse_list(o.request_rate, "request-rate", parse_rate);
    fmt::print("== bench serve: {} at {}:{} /v1/{}, dataset {}, {} prompts\n", model, host, port, o.endpoint,
               o.dataset, requests.size());
    std::vector<PlottedRun> runs;
    for (double rate : rates) {
        for (int concurrency : concurrencies) {
            LoadOptions load{
                .host = host,
                .port = port,
                .api_key = o.api_key,
                .endpoint = o.endpoint == "chat" ? EndpointKind::kChat : EndpointKind::kCompletions,
                .max_concurrency = concurrency,
                .request_rate = rate,
                .seed = static_cast<uint64_t>(o.seed),
                .timeout_s = static_cast<double>(o.request_timeout_s)};
            LoadResult result = run_load(requests, load);
            RunMetrics m = summarize(result.samples, result.duration_s, o.ignore_eos);
            m.max_concurrency = concurrency;
            m.request_rate = rate;
            m.client_cpu_ms_per_request = 1e3 * result.client_cpu_s / std::max<size_t>(1, requests.size());
            fmt::print("{}", format_summary(m));
            if (m.output_length_mismatches > 0) {
                spdlog::warn(
                    "bench serve: {} requests did not return --output-len tokens despite --ignore-eos",
                    m.output_length_mismatches);
            }
            runs.push_back({std::move(m), std::move(result.samples)});
        }
    }

    if (!o.result_json.empty()) {
        json out = {{"date", std::time(nullptr)},
                    {"host", host},
                    {"port", port},
                    {"model", model},
                    {"endpoint", o.endpoint},
                    {"dataset", o.dataset},
                    {"num_prompts", requests.size()},
                    {"ignore_eos", o.ignore_eos},
                    {"seed", o.seed},
                    {"runs", json::array()}};
        if (o.dataset == "random") {
            out["input_len"] = o.input_len;
            out["output_len"] = o.output_len;
            out["range_ratio"] = o.range_ratio;
        } else {
            out["dataset_path"] = o.dataset_path;
        }
        if (o.temperature) out["temperature"] = *o.temperature;
        for (const PlottedRun& r : runs) {
            json run = to_json(r.metrics);
            run["samples"] = json::array();
            for (const RequestSample& s : r.samples) run["samples"].push_back(to_json(s));
            out["runs"].push_back(std::move(run));
        }
        std::ofstream(o.result_json) << out.dump(2) << "\n";
    }
    if (!o.plot_dir.empty()) write_plots(o.plot_dir, runs);
    if (child) {
        const int status = child->stop();
        if (status != 0) spdlog::warn("bench serve: the gptoss serve child exited with status {}", status);
    }
    int failed = 0;
    for (const PlottedRun& r : runs) failed += r.metrics.failed;
    return failed > 0 ? 1 : 0;
}

}  // namespace

int bench_serve_command(const Args& all_args) {
    Options o;
    Args args = all_args;
    if (auto dashes = std::find(args.begin(), args.end(), "--"); dashes != args.end()) {
        o.serve_args.assign(dashes + 1, args.end());
        args.erase(dashes, args.end());
    }
    std::string log_level = "info";
    FlagSet flags(
        "bench serve",
        "(--base-url http://HOST:PORT | --model DIR [--backend B] [-- SERVE FLAGS]) "
        "[--dataset random|sharegpt] [--max-concurrency 1,16,64] [--request-rate inf] [--result-json F]",
        "Measure a server's serving throughput and latency (TTFT, TPOT, ITL, E2E) with streamed requests, "
        "as vLLM's bench serve does. With --model it starts `gptoss serve` itself (flags after -- go to "
        "serve) and stops it at the end.");
    flags.add_string("base-url", &o.base_url, "a running server, e.g. http://127.0.0.1:8000");
    flags.add_string("model", &o.model, "start `gptoss serve --model DIR` for the run instead");
    flags.add_string("backend", &o.backend, "the started server's --backend (default: serve's)");
    flags.add_string("served-model-name", &o.served_name, "the model name to send (default: GET /v1/models)");
    flags.add_string("api-key", &o.api_key, "bearer token (also given to a started server)");
    flags.add_choice("endpoint", &o.endpoint, {"completions", "chat"},
                     "/v1/completions or /v1/chat/completions");
    flags.add_choice("dataset", &o.dataset, {"random", "sharegpt"}, "where the prompts come from");
    flags.add_string("dataset-path", &o.dataset_path, "the ShareGPT JSON file");
    flags.add_int("num-prompts", &o.num_prompts, "requests per run");
    flags.add_int("input-len", &o.input_len, "random: prompt tokens");
    flags.add_int("output-len", &o.output_len, "random: output tokens (max_tokens)");
    flags.add_double("range-ratio", &o.range_ratio, "random: lengths uniform in len * [1 - r, 1 + r]");
    flags.add_optional_int("sharegpt-output-len", &o.sharegpt_output_len,
                           "sharegpt: output tokens of every request");
    flags.add_string("max-concurrency", &o.max_concurrency,
                     "requests in flight, a comma list to sweep (default: no limit)");
    flags.add_string("request-rate", &o.request_rate,
                     "Poisson arrivals per second, a comma list; inf: all at once");
    flags.add_bool("ignore-eos", &o.ignore_eos,
                   "send ignore_eos and min_tokens: every request yields output-len tokens");
    flags.add_optional_double("temperature", &o.temperature,
                              "sampling temperature to send (default: none sent)");
    flags.add_int64("seed", &o.seed, "seed of the dataset and the arrival times");
    flags.add_string("result-json", &o.result_json, "write every metric and per-request sample here");
    flags.add_string("plot-dir", &o.plot_dir, "write PNG plots here (needs gnuplot)");
    flags.add_string("server-log", &o.server_log,
                     "the started server's output (default /tmp/gptoss-bench-serve-PID.log)");
    flags.add_int("server-timeout", &o.server_timeout_s, "seconds to wait for the started server's /health");
    flags.add_int("request-timeout", &o.request_timeout_s, "seconds a request may wait for its next bytes");
    flags.add_choice("log-level", &log_level, {"debug", "info", "warn", "error"}, "progress lines are info");
    if (!flags.parse(args)) {
        fmt::print("{}", flags.help());
        return 0;
    }
    spdlog::set_level(spdlog::level::from_str(log_level));
    if (o.base_url.empty() == o.model.empty()) throw CliError("give exactly one of --base-url and --model");
    if (!o.serve_args.empty() && o.model.empty())
        throw CliError("flags after -- need --model (they go to gptoss serve)");
    if (o.num_prompts < 1 || o.input_len < 1 || o.output_len < 1) {
        throw CliError("--num-prompts, --input-len and --output-len must be positive");
    }
    if (o.range_ratio < 0.0 || o.range_ratio >= 1.0) throw CliError("--range-ratio must be in [0, 1)");
    return run(o);
}

}  // namespace gptoss::cli
