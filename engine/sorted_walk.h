// The last step of engine/sampler.h's rule: over candidate probabilities p (a softmax, already computed),
// in (p descending, lower id first) order, keep the shortest prefix whose mass reaches top_p, drop p <
// min_p * p_max, and pick the first token whose cumulative mass exceeds u * (the kept mass).
//
// walk_sorted is the rule written out (it sorts every candidate); walk_prefix draws the same token while
// sorting only the prefix the draw can reach, which for a peaked softmax over a 201k vocabulary is a few
// tokens. Both sum in double in the sorted order, so the cumulative masses they compare are bit-identical.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gptoss {

struct WalkParams {
    float top_p = 1.0f;  // >= 1: no nucleus
    float min_p = 0.0f;  // 0: off
    float u = 0.0f;      // the draw, in [0, 1)
};

// prob: [V] probabilities, read only at `ids`, the candidates (any order, no repeats, not empty).
int32_t walk_sorted(std::span<const float> prob, std::span<const int32_t> ids, const WalkParams& params);

struct PrefixWalk {
    int32_t token = 0;
    size_t num_sorted = 0;  // candidates it sorted: ids.size() when it fell back to walk_sorted
};

// walk_sorted's token. The kept mass (the draw's scale) may need tokens beyond the sorted prefix; their sum
// is then taken in id order, and the token is accepted only when the rounding bound of that reordering
// cannot move the target across a cumulative boundary; otherwise (rarely: the bound is ~1e-11 of the mass)
// it falls back to walk_sorted.
PrefixWalk walk_prefix(std::span<const float> prob, std::span<const int32_t> ids, const WalkParams& params);

}  // namespace gptoss
