#include "tests/server/scripted_runner.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "tokenizer/tokenizer.h"

namespace gptoss {

namespace {

// The text between `open` and "]]" at the marker's last occurrence, or "".
std::string last_marker(const std::string& text, const std::string& open) {
    size_t at = text.rfind(open);
    if (at == std::string::npos) return "";
    size_t start = at + open.size();
    size_t end = text.find("]]", start);
    return end == std::string::npos ? "" : text.substr(start, end - start);
}

class ScriptedRunner : public ModelRunner {
public:
    ScriptedRunner(ModelConfig config, std::shared_ptr<const Tokenizer> tokenizer,
                   const std::map<std::string, std::string>& scripts)
        : config_(std::move(config)), tokenizer_(std::move(tokenizer)) {
        for (const auto& [name, text] : scripts) {
            scripts_[name] = tokenizer_->encode(text, SpecialTokenPolicy::all());
        }
        std::vector<int32_t> filler = tokenizer_->encode_ordinary(".");
        if (filler.size() != 1) throw std::runtime_error("scripted runner: '.' is not one token");
        filler_ = filler[0];
    }

    const ModelConfig& config() const override { return config_; }
    std::string_view backend_name() const override { return "scripted"; }
    size_t kv_bytes_per_token_per_layer() const override {
        return 2 * static_cast<size_t>(config_.kv_dim()) * 2;  // K and V in bf16, as a real runner
    }
    int64_t default_kv_cache_bytes(const EngineConfig&) const override { return int64_t{64} << 20; }
    void allocate_kv_cache(const KvCacheLayout&) override {}

    StepOutput execute(const BatchInputs& inputs) override {
        StepOutput out;
        const int R = inputs.num_sampled_rows();
        out.sampled_tokens.assign(R, -1);
        bool any_logprobs = false;
        int delay_ms = 0;
        for (int s = 0; s < inputs.num_seqs; ++s) {
            const SequenceSampling& sampling = inputs.sampling[s];
            std::string prompt = tokenizer_->decode(sampling.prompt_tokens);
            std::string delay = last_marker(prompt, "[[delay_ms:");
            if (!delay.empty()) delay_ms = std::max(delay_ms, std::stoi(delay));
            std::string name = last_marker(prompt, "[[script:");
            auto it = scripts_.find(name.empty() ? "default" : name);
            for (int j = 0; j < inputs.num_sampled(s); ++j) {
                const int r = inputs.sample_start[s] + j;
                const int32_t index = inputs.row_output_index(r);
                int32_t token = filler_;
                if (it != scripts_.end() && index < static_cast<int32_t>(it->second.size()))
                    token = it->second[index];
                out.sampled_tokens[r] = token;
                any_logprobs = any_logprobs || (sampling.params && sampling.params->logprobs);
            }
        }
        if (any_logprobs) {
            out.logprobs.resize(R);
            for (int r = 0; r < R; ++r) {
                const SamplingParams* params = inputs.sampling[inputs.sample_seq[r]].params;
                if (!params || !params->logprobs) continue;
                TokenLogprob& lp = out.logprobs[r];
                lp.token = out.sampled_tokens[r];
                lp.logprob = -0.25f;
                // Made-up alternatives, most likely first, as a real sampler reports them.
                for (int k = 0; k < params->top_logprobs; ++k) {
                    int32_t alt = k == 0 ? lp.token : (lp.token + k) % tokenizer_->vocab_size();
                    lp.top.push_back({alt, -0.25f - static_cast<float>(k)});
                }
            }
        }
        if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        return out;
    }

private:
    ModelConfig config_;
    std::shared_ptr<const Tokenizer> tokenizer_;
    std::map<std::string, std::vector<int32_t>> scripts_;
    int32_t filler_ = 0;
};

}  // namespace

std::unique_ptr<ModelRunner> make_scripted_runner(const ModelConfig& config,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  const std::map<std::string, std::string>& scripts) {
    return std::make_unique<ScriptedRunner>(config, std::move(tokenizer), scripts);
}

}  // namespace gptoss
