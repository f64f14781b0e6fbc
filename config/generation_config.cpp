#include "config/generation_config.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/json_fields.h"

namespace gptoss {

GenerationConfig GenerationConfig::from_json_text(std::string_view text, std::string_view source) {
    nlohmann::json doc = json_fields::parse_object(text, source);
    json_fields::Reader r(doc, source);
    GenerationConfig g;
    if (const auto* eos = r.find("eos_token_id")) {
        if (eos->is_array()) {
            for (const auto& id : *eos) {
                if (!id.is_number_integer() || id.get<long long>() < 0) {
                    r.fail("eos_token_id", "must hold non-negative integer token ids");
                }
                g.eos_token_ids.push_back(id.get<int>());
            }
        } else {
            int id = *r.optional_int("eos_token_id");
            if (id < 0) r.fail("eos_token_id", "must be a non-negative token id");
            g.eos_token_ids.push_back(id);
        }
    }
    g.bos_token_id = r.optional_int("bos_token_id");
    g.pad_token_id = r.optional_int("pad_token_id");
    g.do_sample = r.optional_bool("do_sample");
    g.temperature = r.optional_number("temperature");
    g.top_p = r.optional_number("top_p");
    g.top_k = r.optional_int("top_k");
    g.min_p = r.optional_number("min_p");
    g.repetition_penalty = r.optional_number("repetition_penalty");
    if (g.temperature && *g.temperature < 0) r.fail("temperature", "must not be negative");
    if (g.top_p && (*g.top_p <= 0 || *g.top_p > 1)) r.fail("top_p", "must be in (0, 1]");
    if (g.top_k && *g.top_k < 0) r.fail("top_k", "must not be negative");
    if (g.min_p && (*g.min_p < 0 || *g.min_p > 1)) r.fail("min_p", "must be in [0, 1]");
    if (g.repetition_penalty && *g.repetition_penalty <= 0) r.fail("repetition_penalty", "must be positive");
    return g;
}

GenerationConfig GenerationConfig::from_model_dir(const std::filesystem::path& dir) {
    std::filesystem::path file = dir / "generation_config.json";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return {};
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot open the file", file.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    return from_json_text(buffer.str(), file.string());
}

}  // namespace gptoss
