#include "engine/speculative/speculator.h"

#include "engine/speculative/ngram_proposer.h"

namespace gptoss {

Speculator::Speculator(const EngineConfig& config, std::shared_ptr<const DraftProposer> proposer)
    : num_tokens_(config.num_speculative_tokens),
      max_num_seqs_(config.spec_max_num_seqs),
      proposer_(proposer ? std::move(proposer)
                         : std::make_shared<NgramProposer>(config.spec_ngram_min, config.spec_ngram_max)) {}

bool Speculator::may_speculate(Sequence& seq) const {
    if (seq.num_uncomputed_tokens() != 1 || seq.sampling.uses_penalties() || seq.constraint) return false;
    SpeculationState& st = seq.speculation;
    if (seq.num_output_tokens() < st.paused_until_output) return false;
    if (st.num_drafted >= kWindow) {
        const bool poor = st.num_accepted < kMinAcceptance * st.num_drafted;
        st.num_drafted = st.num_accepted = 0;
        if (poor) {
            st.paused_until_output = seq.num_output_tokens() + kPauseTokens;
            return false;
        }
    }
    return true;
}

void Speculator::propose(const std::vector<std::shared_ptr<Sequence>>& running) const {
    if (!enabled()) return;
    const bool small_batch = static_cast<int>(running.size()) <= max_num_seqs_;
    for (const std::shared_ptr<Sequence>& seq : running) {
        seq->draft_tokens.clear();  // a sequence left out of the last step may still hold drafts
        if (small_batch && may_speculate(*seq)) seq->draft_tokens = proposer_->propose(*seq, num_tokens_);
    }
}

}  // namespace gptoss
