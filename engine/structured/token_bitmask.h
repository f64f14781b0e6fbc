// TokenBitmask: one bit per vocabulary id, set for the tokens a constraint allows at this step.
#pragma once

#include <cstdint>
#include <vector>

namespace gptoss::structured {

class TokenBitmask {
public:
    explicit TokenBitmask(int32_t num_tokens)
        : num_tokens_(num_tokens), words_((size_t(num_tokens) + 63) / 64) {}

    int32_t num_tokens() const { return num_tokens_; }
    bool test(int32_t id) const {
        return id >= 0 && id < num_tokens_ && (words_[size_t(id) >> 6] >> (id & 63) & 1);
    }
    void set(int32_t id) { words_[size_t(id) >> 6] |= uint64_t(1) << (id & 63); }
    void reset(int32_t id) { words_[size_t(id) >> 6] &= ~(uint64_t(1) << (id & 63)); }
    void set_all() {
        for (int32_t id = 0; id < num_tokens_; ++id) set(id);
    }
    int32_t count() const {
        int32_t n = 0;
        for (uint64_t w : words_) n += __builtin_popcountll(w);
        return n;
    }
    bool operator==(const TokenBitmask&) const = default;

private:
    int32_t num_tokens_;
    std::vector<uint64_t> words_;  // [ceil(V / 64)]
};

}  // namespace gptoss::structured
