#include "engine/structured/string_token_index.h"

#include <algorithm>
#include <string_view>

#include "engine/structured/json_matcher.h"
#include "engine/structured/token_vocabulary.h"

namespace gptoss::structured {

StringTokenIndex::StringTokenIndex(const TokenVocabulary& vocabulary) {
    std::vector<std::pair<int32_t, int32_t>> inside;  // (characters needed, id)
    std::vector<std::string_view> remainders;
    int32_t max_needed = 0;
    for (int32_t id = 0; id < vocabulary.num_tokens(); ++id) {
        const std::string_view bytes = vocabulary.bytes(id);
        if (vocabulary.is_special(id) || bytes.empty()) continue;
        const StringBodyRead read = read_string_body(bytes);
        if (read.kind == StringBodyRead::Kind::kInside) {
            const int32_t needed = read.characters + (read.ends_partial ? 1 : 0);
            inside.emplace_back(needed, id);
            max_needed = std::max(max_needed, needed);
        } else if (read.kind == StringBodyRead::Kind::kCloses) {
            closing_.push_back({id, read.characters});
            remainders.push_back(bytes.substr(size_t(read.close_offset) + 1));
        }
    }
    std::sort(inside.begin(), inside.end());
    inside_.assign(size_t(max_needed) + 1, TokenBitmask(vocabulary.num_tokens()));
    size_t next = 0;
    for (int32_t budget = 0; budget <= max_needed; ++budget) {
        if (budget > 0) inside_[size_t(budget)] = inside_[size_t(budget) - 1];
        for (; next < inside.size() && inside[next].first == budget; ++next)
            inside_[size_t(budget)].set(inside[next].second);
    }
    remainders_ = ByteTrie(remainders);
}

}  // namespace gptoss::structured
