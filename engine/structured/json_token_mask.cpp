#include "engine/structured/json_token_mask.h"

namespace gptoss::structured {

TokenBitmask json_token_mask(const JsonMatcher& matcher, const TokenVocabulary& vocabulary) {
    TokenBitmask mask(vocabulary.num_tokens());
    const auto& ids = vocabulary.sorted_ids();
    const auto& common = vocabulary.common_prefix();
    std::vector<JsonMatcher> states;  // states[d]: after the first d bytes of the current token
    states.reserve(vocabulary.max_token_bytes() + 1);
    states.push_back(matcher);
    int32_t dead_at = -1;  // the previous token's byte that was rejected (-1: it was accepted)
    for (size_t i = 0; i < ids.size(); ++i) {
        const int32_t shared = common[i];
        if (dead_at >= 0 && shared > dead_at) continue;  // starts with the rejected prefix
        dead_at = -1;
        if (states.size() > size_t(shared) + 1) states.erase(states.begin() + shared + 1, states.end());
        const std::string_view bytes = vocabulary.bytes(ids[i]);
        bool accepted = true;
        for (size_t d = states.size() - 1; d < bytes.size(); ++d) {
            JsonMatcher next = states.back();
            if (!next.advance(static_cast<uint8_t>(bytes[d]))) {
                dead_at = static_cast<int32_t>(d);
                accepted = false;
                break;
            }
            states.push_back(std::move(next));
        }
        if (accepted) mask.set(ids[i]);
    }
    return mask;
}

}  // namespace gptoss::structured
