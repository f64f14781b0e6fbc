// NgramProposer: prompt-lookup drafts (model-free speculation). The last n tokens of a sequence are looked up
// in its own earlier tokens (prompt and output), for n from max_n down to min_n; the tokens that followed
// the most recent earlier occurrence are the draft. Wins where text repeats: code edits, answers that quote
// the context, JSON that repeats keys.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/speculative/draft_proposer.h"

namespace gptoss {

class NgramProposer : public DraftProposer {
public:
    NgramProposer(int min_n, int max_n);

    // Up to max_tokens draft tokens to follow `tokens` (empty when no n-gram matches).
    std::vector<int32_t> propose(std::span<const int32_t> tokens, int max_tokens) const;
    std::vector<int32_t> propose(const Sequence& seq, int max_tokens) const override {
        return propose(seq.token_ids, max_tokens);
    }

private:
    int min_n_, max_n_;
};

}  // namespace gptoss
