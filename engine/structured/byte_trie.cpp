#include "engine/structured/byte_trie.h"

#include <algorithm>
#include <numeric>

namespace gptoss::structured {

ByteTrie::ByteTrie(const std::vector<std::string_view>& strings) {
    std::vector<int32_t> order(strings.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return strings[size_t(a)] != strings[size_t(b)] ? strings[size_t(a)] < strings[size_t(b)] : a < b;
    });
    // In sorted order a string shares a prefix with the one before it and adds one node per further byte:
    // nodes come out depth-first. open[d]: the node at depth d + 1 on the current path, closed when a later
    // string leaves it.
    std::vector<int32_t> open;
    std::vector<int32_t> node_of_item(strings.size(), -1);
    std::string_view previous;
    auto close_to = [&](size_t depth) {
        while (open.size() > depth) {
            end_[size_t(open.back())] = num_nodes();
            open.pop_back();
        }
    };
    for (int32_t item : order) {
        const std::string_view s = strings[size_t(item)];
        if (s.empty()) {
            empty_items_.push_back(item);
            continue;
        }
        size_t shared = 0;
        while (shared < s.size() && shared < previous.size() && s[shared] == previous[shared]) ++shared;
        close_to(shared);
        for (size_t d = shared; d < s.size(); ++d) {
            open.push_back(num_nodes());
            byte_.push_back(static_cast<uint8_t>(s[d]));
            depth_.push_back(static_cast<uint16_t>(d + 1));
            end_.push_back(-1);
        }
        node_of_item[size_t(item)] = open.back();
        max_depth_ = std::max(max_depth_, static_cast<int32_t>(s.size()));
        previous = s;
    }
    close_to(0);
    // Items grouped by node: counting sort on the node ids.
    item_start_.assign(size_t(num_nodes()) + 1, 0);
    for (int32_t node : node_of_item) {
        if (node >= 0) ++item_start_[size_t(node) + 1];
    }
    std::partial_sum(item_start_.begin(), item_start_.end(), item_start_.begin());
    items_.resize(size_t(item_start_.back()));
    std::vector<int32_t> fill(item_start_.begin(), item_start_.end() - 1);
    for (int32_t item : order) {
        const int32_t node = node_of_item[size_t(item)];
        if (node >= 0) items_[size_t(fill[size_t(node)]++)] = item;
    }
}

}  // namespace gptoss::structured
