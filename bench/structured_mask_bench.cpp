// Structured outputs: the host cost of one token mask over the full o200k_harmony vocabulary.
//
// Walks a nested-schema document the way a constrained reply does (tokenized with the real tokenizer), and
// for each token times the mask the sampler asks for: served from HarmonyConstraint's per-state cache as in
// serving (a state seen before in this reply costs a lookup) and computed fresh (json_token_mask: the
// string-body index or the vocabulary trie walk). Prints p50 / p99 / max in microseconds.
//   build/cpu/bench/structured_mask_bench TOKENIZER_JSON
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/structured/harmony_constraint.h"
#include "engine/structured/json_token_mask.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace gptoss;
using Clock = std::chrono::steady_clock;

constexpr int kRequests = 5;

const char* kSchema = R"({"type":"object","properties":{
  "city":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]},
  "forecast":{"type":"array","items":{"type":"object","properties":{
     "day":{"type":"string","format":"date"},"high":{"type":"integer","minimum":-90,"maximum":60},
     "summary":{"type":"string","maxLength":80},"alerts":{"type":"array","items":{"type":"string"}}},
     "required":["day","high","summary"]}}},
  "required":["city","unit","forecast"]})";

const char* kDocument =
    R"({"city": "Boston", "unit": "celsius", "forecast": [{"day": "2026-12-07", "high": 4, "summary": )"
    R"("Cold and clear, light wind from the north-west.", "alerts": []}, {"day": "2026-12-08", "high": -2, )"
    R"("summary": "Snow showers in the afternoon.", "alerts": ["winter storm watch"]}, {"day": "2026-12-09", )"
    R"("high": 1, "summary": "Cloudy.", "alerts": []}]})";

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: structured_mask_bench TOKENIZER_JSON\n");
        return 2;
    }
    auto tokenizer = Tokenizer::from_file(argv[1]);
    const auto t0 = Clock::now();
    auto vocabulary = structured::TokenVocabulary::from_tokenizer(*tokenizer);
    const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();

    structured::StructuredOutputRequest request;
    request.format = structured::StructuredOutputRequest::Format::kJsonSchema;
    request.schema = nlohmann::json::parse(kSchema);
    request.tool_calls_allowed = false;
    const std::vector<int32_t> tokens = tokenizer->encode_ordinary(kDocument);

    // Several requests, each with its own constraint (the cache is per request), so that the p99 rests on
    // a few hundred samples rather than on one unlucky preemption of a loaded machine.
    std::vector<double> cached_us, fresh_us;
    for (int r = 0; r < kRequests; ++r) {
        auto constraint = structured::make_harmony_constraint(request, vocabulary);
        structured::JsonMatcher matcher(constraint->final_grammar());
        for (int32_t token : tokens) {
            auto a = Clock::now();
            auto mask = constraint->json_mask(matcher, 0, -1);
            auto b = Clock::now();
            const structured::TokenBitmask fresh = structured::json_token_mask(matcher, *vocabulary);
            auto c = Clock::now();
            if (!mask->test(token) || !fresh.test(token)) {
                std::fprintf(stderr, "token %d masked out: the document does not fit the schema\n", token);
                return 1;
            }
            cached_us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
            fresh_us.push_back(std::chrono::duration<double, std::micro>(c - b).count());
            matcher.advance(vocabulary->bytes(token));
        }
    }
    fmt::print("vocabulary: {} ids, index built in {:.1f} ms; document: {} tokens, {} requests\n",
               vocabulary->num_tokens(), load_ms, tokens.size(), kRequests);
    fmt::print("mask per token, as served (per-state cache): p50 {:.1f} us  p99 {:.1f} us  max {:.1f} us\n",
               percentile(cached_us, 0.5), percentile(cached_us, 0.99), percentile(cached_us, 1.0));
    fmt::print("mask per token, computed fresh:              p50 {:.1f} us  p99 {:.1f} us  max {:.1f} us\n",
               percentile(fresh_us, 0.5), percentile(fresh_us, 0.99), percentile(fresh_us, 1.0));
    return 0;
}
