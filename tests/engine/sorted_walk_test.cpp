// walk_prefix draws exactly walk_sorted's token (the rule of engine/sampler.h, written with a full sort) on
// vocabulary-sized softmaxes of every shape, and sorts only a small prefix when the softmax is peaked.
#include "engine/sorted_walk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace gptoss {
namespace {

constexpr int kVocab = 201088;

// float(float(exp(z - max)) / sum), the sampler's rounding steps.
std::vector<float> softmax(const std::vector<float>& z) {
    float m = z[0];
    for (float v : z) m = std::max(m, v);
    std::vector<float> p(z.size());
    double sum = 0.0;
    for (size_t i = 0; i < z.size(); ++i) {
        const double e = std::exp(static_cast<double>(z[i]) - m);
        p[i] = static_cast<float>(e);
        sum += e;
    }
    for (float& v : p) v = static_cast<float>(v / sum);
    return p;
}

// Logits of one shape: `scale` sets how peaked (large: a few tokens hold the mass), `levels` > 0 quantizes
// them so that many tokens tie.
std::vector<float> logits(std::mt19937& rng, float scale, int levels, int vocab = kVocab) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> z(vocab);
    for (float& v : z) {
        v = scale * normal(rng);
        if (levels > 0) v = std::round(v * levels / scale) * scale / levels;
    }
    return z;
}

std::vector<int32_t> all_ids(int vocab = kVocab) {
    std::vector<int32_t> ids(vocab);
    std::iota(ids.begin(), ids.end(), 0);
    return ids;
}

struct Shape {
    float scale;
    int levels;
};

TEST(SortedWalk, PrefixDrawsTheSortedWalksTokenOnEveryShape) {
    constexpr int kSmallVocab =
        1 << 15;  // above walk_prefix's full-sort size, small enough to sort 200 times
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    const std::vector<int32_t> ids = all_ids(kSmallVocab);
    const Shape shapes[] = {{0.5f, 0}, {2.0f, 0}, {4.0f, 0}, {8.0f, 0}, {3.0f, 4}, {0.0f, 0}};
    const WalkParams settings[] = {{1.0f, 0.0f}, {0.9f, 0.0f}, {0.5f, 0.0f}, {1.0f, 0.05f}, {0.95f, 0.01f}};
    int draws = 0;
    for (const Shape& shape : shapes) {
        const std::vector<float> prob = softmax(logits(rng, shape.scale, shape.levels, kSmallVocab));
        for (WalkParams params : settings) {
            for (float u : {0.0f, 0.5f, 0.999f, 1.0f - 0x1p-24f, uniform(rng), uniform(rng), uniform(rng)}) {
                params.u = u;
                ASSERT_EQ(walk_prefix(prob, ids, params).token, walk_sorted(prob, ids, params))
                    << "scale " << shape.scale << " levels " << shape.levels << " top_p " << params.top_p
                    << " min_p " << params.min_p << " u " << u;
                ++draws;
            }
        }
    }
    EXPECT_EQ(draws, 6 * 5 * 7);
}

TEST(SortedWalk, CandidateSubsetsAndTiesKeepTheLowerId) {
    // top_k's candidates in nth_element's order; every p equal, so the order is by id alone.
    std::vector<float> prob(kVocab, 0.0f);
    std::vector<int32_t> ids;
    for (int32_t t = kVocab - 1; t >= 0; t -= 7) ids.push_back(t);
    for (int32_t t : ids) prob[t] = 1.0f / static_cast<float>(ids.size());
    const int32_t lowest = ids.back();
    EXPECT_EQ(walk_prefix(prob, ids, {.u = 0.0f}).token, lowest);
    for (float u : {0.25f, 0.5f, 0.75f, 0.9999f}) {
        const WalkParams params{.u = u};
        EXPECT_EQ(walk_prefix(prob, ids, params).token, walk_sorted(prob, ids, params)) << u;
    }
}

TEST(SortedWalk, PeakedSoftmaxSortsOnlyAFewTokens) {
    std::mt19937 rng(11);
    const std::vector<int32_t> ids = all_ids();
    std::vector<float> z = logits(rng, 1.0f, 0);
    for (int t = 0; t < 10; ++t) z[1000 * t] += 14.0f;  // ten likely tokens hold ~99.9% of the mass
    const std::vector<float> prob = softmax(z);
    for (float u : {0.1f, 0.5f, 0.9f}) {
        const WalkParams params{.u = u};
        const PrefixWalk walk = walk_prefix(prob, ids, params);
        EXPECT_EQ(walk.token, walk_sorted(prob, ids, params));
        EXPECT_LT(walk.num_sorted, 100u) << u;
    }
    const PrefixWalk nucleus = walk_prefix(prob, ids, {.top_p = 0.9f, .u = 0.7f});
    EXPECT_EQ(nucleus.token, walk_sorted(prob, ids, {.top_p = 0.9f, .u = 0.7f}));
    EXPECT_LT(nucleus.num_sorted, 100u);
}

}  // namespace
}  // namespace gptoss
