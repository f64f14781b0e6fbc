// Speculator: decides, before each step, which running sequences carry draft tokens and proposes them
// (NgramProposer unless another DraftProposer is given). The step verifies them (Scheduler::update keeps the
// agreeing prefix), so output is what the model alone would give: greedy token for token, and sampled with
// the target distribution, because a row samples from the model exactly as without speculation and a draft is
// kept only if the sample equals it.
//
// A sequence speculates when it is one token behind (decoding), has no penalties or structured-output
// constraint (their inputs depend on the tokens before each row, which the runner reads from the known
// tokens only), and its drafts have been accepted often enough: below kMinAcceptance over a window the
// sequence pauses for a while. No drafts at all in a step with more than spec_max_num_seqs running
// sequences: there the step is compute-bound and verification costs throughput.
#pragma once

#include <memory>
#include <vector>

#include "config/engine_config.h"
#include "engine/sequence.h"
#include "engine/speculative/draft_proposer.h"

namespace gptoss {

class Speculator {
public:
    // proposer: null = prompt lookup with the config's n-gram range.
    Speculator(const EngineConfig& config, std::shared_ptr<const DraftProposer> proposer);

    bool enabled() const { return num_tokens_ > 0; }
    // Sets draft_tokens on the running sequences that will speculate in the next step.
    void propose(const std::vector<std::shared_ptr<Sequence>>& running) const;

    // A sequence whose drafts were accepted less often than this over kWindow drafted tokens pauses for
    // kPauseTokens output tokens.
    static constexpr double kMinAcceptance = 0.1;
    static constexpr int kWindow = 64;
    static constexpr int kPauseTokens = 128;

private:
    bool may_speculate(Sequence& seq) const;

    int num_tokens_;
    int max_num_seqs_;
    std::shared_ptr<const DraftProposer> proposer_;
};

}  // namespace gptoss
