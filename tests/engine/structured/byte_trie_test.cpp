#include "engine/structured/byte_trie.h"

#include <gtest/gtest.h>

#include <set>

namespace gptoss::structured {
namespace {

// A walk that rejects some bytes visits exactly the strings none of whose bytes is rejected, each at the
// node where it ends, duplicates and the empty string included.
TEST(ByteTrie, WalkReachesExactlyTheStringsWithNoRejectedByte) {
    const std::vector<std::string_view> strings = {"ab", "a", "abc", "b", "", "ab", "ba", "bxa", "xa", "abx"};
    const ByteTrie trie(strings);
    EXPECT_EQ(trie.empty_items(), std::vector<int32_t>{4});
    for (const std::string rejected : {"", "x", "b", "ax", "abcx"}) {
        std::multiset<int32_t> reached;
        trie.walk(
            0,
            [&](int, uint8_t byte, int& to) {
                to = 0;
                return rejected.find(char(byte)) == std::string::npos;
            },
            [&](int32_t node, int) { reached.insert(trie.items_begin(node), trie.items_end(node)); });
        std::multiset<int32_t> expected;
        for (size_t i = 0; i < strings.size(); ++i) {
            if (!strings[i].empty() && strings[i].find_first_of(rejected) == std::string_view::npos)
                expected.insert(int32_t(i));
        }
        EXPECT_EQ(reached, expected) << "rejecting \"" << rejected << "\"";
    }
}

// The walk hands each node the state its parent's step produced: the states spell the path.
TEST(ByteTrie, StatesFollowThePath) {
    const std::vector<std::string_view> strings = {"abc", "abd", "b", "ac"};
    const ByteTrie trie(strings);
    std::set<std::string> spelled;
    trie.walk(
        std::string(),
        [](const std::string& from, uint8_t byte, std::string& to) {
            to = from + char(byte);
            return true;
        },
        [&](int32_t node, const std::string& state) {
            for (auto it = trie.items_begin(node); it != trie.items_end(node); ++it) {
                EXPECT_EQ(state, strings[size_t(*it)]);
                spelled.insert(state);
            }
        });
    EXPECT_EQ(spelled, (std::set<std::string>{"abc", "abd", "b", "ac"}));
    EXPECT_EQ(trie.max_depth(), 3);
}

}  // namespace
}  // namespace gptoss::structured
