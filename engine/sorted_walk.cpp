#include "engine/sorted_walk.h"

#include <algorithm>
#include <bit>
#include <vector>

namespace gptoss {

namespace {

// Below this many candidates a full sort costs less than the histogram.
constexpr size_t kSortAllBelow = 4096;

// "a ranks before b": larger p first, lower id on ties. A strict total order, so the sorted order is unique.
struct ByProbThenId {
    std::span<const float> prob;
    bool operator()(int32_t a, int32_t b) const { return prob[a] != prob[b] ? prob[a] > prob[b] : a < b; }
};

// Buckets of p by the top bits of its float pattern (p >= 0, so bit patterns order as values do): sign and
// exponent plus 5 mantissa bits, so a bucket spans at most 1/32 of its values' magnitude.
constexpr int kBucketShift = 18;
constexpr uint32_t kNumBuckets = (std::bit_cast<uint32_t>(1.0f) >> kBucketShift) + 1;
uint32_t bucket_of(float p) {
    return std::min(std::bit_cast<uint32_t>(p) >> kBucketShift, kNumBuckets - 1);
}

// The pick over `sorted`, a prefix of the full sorted order that holds every kept token: the kept length
// (nucleus, then min-p), the kept mass, and the first cumulative mass above u * that mass.
int32_t pick_in_sorted(std::span<const float> prob, std::span<const int32_t> sorted,
                       const WalkParams& params) {
    size_t keep = sorted.size();
    if (params.top_p < 1.0f) {
        double mass = 0.0;
        for (size_t i = 0; i < sorted.size(); ++i) {
            mass += prob[sorted[i]];
            if (mass >= params.top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    if (params.min_p >
        0.0f) {  // p >= threshold is a prefix of the sorted order; the first token always stays
        const float threshold = params.min_p * prob[sorted.front()];
        size_t kept = 1;
        while (kept < keep && prob[sorted[kept]] >= threshold) ++kept;
        keep = kept;
    }
    sorted = sorted.first(keep);
    double total = 0.0;
    for (int32_t t : sorted) total += prob[t];
    const double target = static_cast<double>(params.u) * total;
    double cumulative = 0.0;
    for (int32_t t : sorted) {
        cumulative += prob[t];
        if (cumulative > target) return t;
    }
    return sorted.back();  // rounding left the target at the very end
}

}  // namespace

int32_t walk_sorted(std::span<const float> prob, std::span<const int32_t> ids, const WalkParams& params) {
    std::vector<int32_t> sorted(ids.begin(), ids.end());
    std::sort(sorted.begin(), sorted.end(), ByProbThenId{prob});
    return pick_in_sorted(prob, sorted, params);
}

PrefixWalk walk_prefix(std::span<const float> prob, std::span<const int32_t> ids, const WalkParams& params) {
    const size_t n = ids.size();
    auto fall_back = [&] { return PrefixWalk{walk_sorted(prob, ids, params), n}; };
    if (n < kSortAllBelow) return fall_back();

    float p_max = 0.0f;
    for (int32_t t : ids) p_max = std::max(p_max, prob[t]);
    const float min_prob = params.min_p > 0.0f ? params.min_p * p_max : 0.0f;  // pick_in_sorted's threshold
    std::vector<double> bucket_mass(kNumBuckets, 0.0);
    for (int32_t t : ids) bucket_mass[bucket_of(prob[t])] += prob[t];
    double all = 0.0;
    for (double m : bucket_mass) all += m;

    // The prefix: whole buckets from the top until their mass passes what the walk must reach (the nucleus
    // mass, else the draw's target; the margin covers the order of these sums), or down to min-p's bucket.
    const double need = (params.top_p < 1.0f ? params.top_p : params.u * all) * (1.0 + 1e-6);
    const uint32_t min_bucket = bucket_of(min_prob);
    uint32_t lowest = kNumBuckets - 1;
    double reached = bucket_mass[lowest];
    while (lowest > min_bucket && !(reached > need)) reached += bucket_mass[--lowest];

    // The prefix in sorted order, sorted as packed keys (~bits(p) << 32 | id ascending: p descending, lower
    // id first, the same order as ByProbThenId for p >= 0) because integers sort several times faster than an
    // indirect comparison.
    std::vector<uint64_t> keys;
    double rest_mass = 0.0;  // kept tokens below the prefix, summed in id order
    size_t rest_count = 0;
    for (int32_t t : ids) {
        if (bucket_of(prob[t]) >= lowest) {
            keys.push_back(static_cast<uint64_t>(~std::bit_cast<uint32_t>(prob[t])) << 32 |
                           static_cast<uint32_t>(t));
        } else if (prob[t] >= min_prob) {
            rest_mass += prob[t];
            ++rest_count;
        }
    }
    std::sort(keys.begin(), keys.end());
    std::vector<int32_t> prefix(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) prefix[i] = static_cast<int32_t>(keys[i] & 0xFFFFFFFFu);
    if (rest_count == 0) return {pick_in_sorted(prob, prefix, params), prefix.size()};  // all kept tokens

    // Tokens beyond the prefix are kept, so the nucleus did not end inside it.
    double mass = 0.0;
    for (int32_t t : prefix) {
        mass += prob[t];
        if (params.top_p < 1.0f && mass >= params.top_p)
            return {pick_in_sorted(prob, prefix, params), prefix.size()};
    }
    if (params.top_p < 1.0f) return fall_back();  // the nucleus reaches beyond the prefix

    // The kept mass is the sorted-order sum over prefix + rest; ours adds the rest in id order. Two
    // summations of the same L nonnegative terms each differ from the exact sum by at most (L-1) * 2^-53 *
    // sum, so the target u * mass lies in [lo, hi] (doubled for the rounding of these bounds themselves).
    const double kept_mass = mass + rest_mass;
    const double num_terms = static_cast<double>(prefix.size() + rest_count);
    const double slack = (4.0 * num_terms + 4.0) * 0x1p-53 * kept_mass;
    const double lo = static_cast<double>(params.u) * (kept_mass - slack);
    const double hi = static_cast<double>(params.u) * (kept_mass + slack);
    double cumulative = 0.0;
    for (int32_t t : prefix) {
        const double before = cumulative;
        cumulative += prob[t];
        if (cumulative > hi) return before <= lo ? PrefixWalk{t, prefix.size()} : fall_back();
    }
    return fall_back();  // the target may lie beyond the prefix
}

}  // namespace gptoss
