// DraftProposer: where draft tokens come from. The engine's default is NgramProposer (prompt lookup); a
// draft model or a benchmark's replay proposer plugs in through the Engine's constructor.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/sequence.h"

namespace gptoss {

class DraftProposer {
public:
    virtual ~DraftProposer() = default;
    // Up to max_tokens tokens that may follow the sequence's tokens (empty: no guess). Called on the engine
    // thread before each step, for the sequences allowed to speculate.
    virtual std::vector<int32_t> propose(const Sequence& seq, int max_tokens) const = 0;
};

}  // namespace gptoss
