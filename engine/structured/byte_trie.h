// ByteTrie: a set of byte strings as a trie laid out in depth-first order, for walks that prune whole
// subtrees.
//
// Node n's children follow it directly; subtree_end(n) is the first node after its subtree. A walk that
// rejects node n's byte jumps to subtree_end(n), so a mask costs the accepted nodes plus the rejected
// frontier, not a pass over the whole vocabulary. Each string is an item (its index in the input); the items
// that end at a node are a contiguous range of items_by_node().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptoss::structured {

class ByteTrie {
public:
    ByteTrie() = default;
    explicit ByteTrie(const std::vector<std::string_view>& strings);

    int32_t num_nodes() const { return static_cast<int32_t>(byte_.size()); }
    uint8_t byte(int32_t node) const { return byte_[size_t(node)]; }
    int32_t depth(int32_t node) const { return depth_[size_t(node)]; }  // 1 for the first byte
    int32_t subtree_end(int32_t node) const { return end_[size_t(node)]; }
    // Items (input indices) whose string ends at `node`.
    const int32_t* items_begin(int32_t node) const { return items_.data() + item_start_[size_t(node)]; }
    const int32_t* items_end(int32_t node) const { return items_.data() + item_start_[size_t(node) + 1]; }
    // Items that are the empty string (they end at the root, which has no node).
    const std::vector<int32_t>& empty_items() const { return empty_items_; }
    int32_t max_depth() const { return max_depth_; }

    // Depth-first walk from `root`: step(from, byte, to) -> false rejects the byte (and the subtree);
    // visit(node, state) is called for every accepted node. `State` is copy-assignable; the walk keeps one
    // per depth and reuses them, so a state that owns buffers keeps their capacity.
    template <typename State, typename Step, typename Visit>
    void walk(const State& root, Step&& step, Visit&& visit) const {
        std::vector<State> states(size_t(max_depth_) + 1, root);
        states[0] = root;
        for (int32_t n = 0; n < num_nodes();) {
            const int32_t d = depth_[size_t(n)];
            if (!step(states[size_t(d) - 1], byte_[size_t(n)], states[size_t(d)])) {
                n = end_[size_t(n)];
                continue;
            }
            visit(n, states[size_t(d)]);
            ++n;
        }
    }

private:
    std::vector<uint8_t> byte_;         // [nodes]
    std::vector<uint16_t> depth_;       // [nodes]
    std::vector<int32_t> end_;          // [nodes]
    std::vector<int32_t> item_start_;   // [nodes + 1]
    std::vector<int32_t> items_;        // [non-empty strings], grouped by node
    std::vector<int32_t> empty_items_;  // items whose string is empty
    int32_t max_depth_ = 0;
};

}  // namespace gptoss::structured
