#include "engine/speculative/ngram_proposer.h"

#include <algorithm>
#include <stdexcept>

namespace gptoss {

NgramProposer::NgramProposer(int min_n, int max_n) : min_n_(min_n), max_n_(max_n) {
    if (min_n < 1 || max_n < min_n) throw std::invalid_argument("NgramProposer: need 1 <= min_n <= max_n");
}

std::vector<int32_t> NgramProposer::propose(std::span<const int32_t> tokens, int max_tokens) const {
    const int L = static_cast<int>(tokens.size());
    if (max_tokens <= 0) return {};
    // The longest n that matches wins (the most specific context); among its matches the most recent.
    for (int n = std::min(max_n_, L - 1); n >= min_n_; --n) {
        const std::span<const int32_t> suffix = tokens.subspan(size_t(L - n));
        for (int start = L - n - 1; start >= 0; --start) {
            if (tokens[size_t(start)] != suffix[0] ||
                !std::equal(suffix.begin(), suffix.end(), tokens.begin() + start)) {
                continue;
            }
            const int from = start + n, to = std::min(L, from + max_tokens);
            return {tokens.begin() + from, tokens.begin() + to};
        }
    }
    return {};
}

}  // namespace gptoss
