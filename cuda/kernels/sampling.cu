// engine/sampler.h on the device: one 1024-thread block per logits row.
//
// Tokens are ordered by the 64-bit key (logit, then lower id first): key = ordered_bits(z) << 32 | ~id, so
// every set the sampler keeps (top-k, the top-p nucleus, the min-p survivors) is the set of keys >= some
// threshold. Each threshold is found by a radix descent over the key bits (12-bit digits, histograms in
// shared memory) that accumulates counts or probability mass, so no sort of the vocabulary is needed and
// heavy ties (e.g. many identical logits) resolve by id exactly as the host does.
// Legend: V vocab, B bins of the current digit.
#include <climits>
#include <stdexcept>

#include "cuda/kernels/common.cuh"
#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

constexpr int kThreads = 1024;
constexpr int kMaxBins = 4096;
constexpr int kLevels = 6;
__constant__ int kShift[kLevels] = {52, 40, 28, 16, 4, 0};
__constant__ int kWidth[kLevels] = {12, 12, 12, 12, 12, 4};

__device__ __forceinline__ uint32_t ordered_bits(float f) {
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float from_ordered_bits(uint32_t o) {
    return __uint_as_float((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
}
__device__ __forceinline__ uint64_t make_key(float z, int id) {
    return (static_cast<uint64_t>(ordered_bits(z)) << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(id));
}
__device__ __forceinline__ int key_token(uint64_t key) {
    return static_cast<int>(0xFFFFFFFFu - static_cast<uint32_t>(key));
}

struct SearchSmem {
    float mass[kMaxBins];
    uint32_t count[kMaxBins];
    float warp_mass[32];
    uint32_t warp_count[32];
    float total_mass;
    uint32_t total_count;
    int chosen_bin;
    int fallback_bin;
    float chosen_above_mass;
    uint32_t chosen_above_count;
};

// What a mass search weighs: e = exp(z / T - max(z) / T), kept only when e >= min_e.
struct MassRule {
    float temperature = 1.0f;
    float scaled_max = 0.0f;
    float min_e = 0.0f;
};

// Exclusive scan over the block in thread order, of (mass, count) pairs; returns the totals in smem.
__device__ void block_exclusive_scan(float& m, uint32_t& c, SearchSmem& sm) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float im = m;
    uint32_t ic = c;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
        const float om = __shfl_up_sync(0xffffffffu, im, offset);
        const uint32_t oc = __shfl_up_sync(0xffffffffu, ic, offset);
        if (lane >= offset) {
            im += om;
            ic += oc;
        }
    }
    if (lane == 31) {
        sm.warp_mass[warp] = im;
        sm.warp_count[warp] = ic;
    }
    __syncthreads();
    if (warp == 0) {
        float wm = sm.warp_mass[lane];
        uint32_t wc = sm.warp_count[lane];
#pragma unroll
        for (int offset = 1; offset < 32; offset <<= 1) {
            const float om = __shfl_up_sync(0xffffffffu, wm, offset);
            const uint32_t oc = __shfl_up_sync(0xffffffffu, wc, offset);
            if (lane >= offset) {
                wm += om;
                wc += oc;
            }
        }
        sm.warp_mass[lane] = wm;  // inclusive over warps
        sm.warp_count[lane] = wc;
        if (lane == 31) {
            sm.total_mass = wm;
            sm.total_count = wc;
        }
    }
    __syncthreads();
    const float before_m = warp > 0 ? sm.warp_mass[warp - 1] : 0.0f;
    const uint32_t before_c = warp > 0 ? sm.warp_count[warp - 1] : 0u;
    m = before_m + im - m;
    c = before_c + ic - c;
}

// Finds the largest key K among the tokens with key >= set_lo (and, for mass searches, e >= min_e) whose
// cumulative weight cum(K) = sum over kept keys >= K crosses the target: count searches: cum >= target;
// mass searches: target = fraction * (total kept mass), cum > target when strict else cum >= target.
// Thread t walks the contiguous slice [t * chunk, (t + 1) * chunk) so runs of one bin (ties) are summed in
// registers before touching shared memory.
template <bool MASS>
__device__ uint64_t radix_search(const float* z, int vocab, uint64_t set_lo, float target_or_fraction,
                                 bool strict, const MassRule& rule, SearchSmem& sm) {
    const int tid = threadIdx.x;
    const int chunk = (vocab + kThreads - 1) / kThreads;
    const int begin = min(vocab, tid * chunk), end = min(vocab, begin + chunk);
    uint64_t prefix = 0;
    float above_m = 0.0f, target_m = target_or_fraction;
    uint32_t above_c = 0, target_c = static_cast<uint32_t>(target_or_fraction);
    for (int level = 0; level < kLevels; ++level) {
        const int shift = kShift[level], width = kWidth[level];
        const int bins = 1 << width;
        const uint64_t high_mask = shift + width >= 64 ? 0ull : (~0ull << (shift + width));
        for (int b = tid; b < bins; b += kThreads) {
            sm.mass[b] = 0.0f;
            sm.count[b] = 0;
        }
        if (tid == 0) {
            sm.chosen_bin = -1;
            sm.fallback_bin = INT_MAX;
        }
        __syncthreads();
        int run_bin = -1;
        float run_m = 0.0f;
        uint32_t run_c = 0;
        for (int i = begin; i < end; ++i) {
            const float zi = z[i];
            const uint64_t key = make_key(zi, i);
            if (key < set_lo || (key & high_mask) != (prefix & high_mask)) continue;
            float w = 1.0f;
            if (MASS) {
                w = expf(zi / rule.temperature - rule.scaled_max);
                if (w < rule.min_e) continue;
            }
            const int bin = static_cast<int>((key >> shift) & static_cast<uint64_t>(bins - 1));
            if (bin != run_bin) {
                if (run_c > 0) {
                    if (MASS) atomicAdd(&sm.mass[run_bin], run_m);
                    atomicAdd(&sm.count[run_bin], run_c);
                }
                run_bin = bin;
                run_m = 0.0f;
                run_c = 0;
            }
            run_m += w;
            ++run_c;
        }
        if (run_c > 0) {
            if (MASS) atomicAdd(&sm.mass[run_bin], run_m);
            atomicAdd(&sm.count[run_bin], run_c);
        }
        __syncthreads();
        // Thread t owns bins (bins - 1 - t * per_thread - j), j < per_thread: descending key order.
        const int per_thread = (bins + kThreads - 1) / kThreads;
        float local_m = 0.0f;
        uint32_t local_c = 0;
        int lowest_nonempty = INT_MAX;
        for (int j = 0; j < per_thread; ++j) {
            const int b = bins - 1 - (tid * per_thread + j);
            if (b < 0) break;
            local_m += sm.mass[b];
            local_c += sm.count[b];
            if (sm.count[b] > 0) lowest_nonempty = b;
        }
        float before_m = local_m;
        uint32_t before_c = local_c;
        block_exclusive_scan(before_m, before_c, sm);
        if (MASS && level == 0) target_m = target_or_fraction * sm.total_mass;
        auto crosses = [&](float m, uint32_t c) {
            if (MASS) return strict ? above_m + m > target_m : above_m + m >= target_m;
            return above_c + c >= target_c;
        };
        if (crosses(before_m + local_m, before_c + local_c) && !crosses(before_m, before_c)) {
            float acc_m = before_m;
            uint32_t acc_c = before_c;
            for (int j = 0; j < per_thread; ++j) {
                const int b = bins - 1 - (tid * per_thread + j);
                if (b < 0) break;
                if (crosses(acc_m + sm.mass[b], acc_c + sm.count[b])) {
                    sm.chosen_bin = b;
                    sm.chosen_above_mass = above_m + acc_m;
                    sm.chosen_above_count = above_c + acc_c;
                    break;
                }
                acc_m += sm.mass[b];
                acc_c += sm.count[b];
            }
        }
        if (lowest_nonempty != INT_MAX) atomicMin(&sm.fallback_bin, lowest_nonempty);
        __syncthreads();
        int bin = sm.chosen_bin;
        if (bin < 0) {  // rounding left the target just past the total: take the last kept token
            bin = sm.fallback_bin == INT_MAX ? 0 : sm.fallback_bin;
            above_m += sm.total_mass - sm.mass[bin];
            above_c += sm.total_count - sm.count[bin];
        } else {
            above_m = sm.chosen_above_mass;
            above_c = sm.chosen_above_count;
        }
        prefix |= static_cast<uint64_t>(bin) << shift;
        __syncthreads();
    }
    return prefix;
}

__device__ uint64_t block_max_key(uint64_t key, uint64_t* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const uint64_t other = __shfl_xor_sync(0xffffffffu, key, offset);
        key = other > key ? other : key;
    }
    __syncthreads();
    if (lane == 0) scratch[warp] = key;
    __syncthreads();
    key = scratch[lane];  // kThreads / 32 == 32 warps
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const uint64_t other = __shfl_xor_sync(0xffffffffu, key, offset);
        key = other > key ? other : key;
    }
    return key;
}

__global__ void __launch_bounds__(kThreads) sample_kernel(SamplingArgs a) {
    __shared__ SearchSmem sm;
    __shared__ uint64_t key_scratch[32];
    __shared__ float float_scratch[32];
    __shared__ uint64_t top_keys[kMaxTopLogprobs];
    __shared__ int num_top;
    const int r = blockIdx.x, tid = threadIdx.x;
    const SamplingRowParams p = a.params[r];
    const float* z = a.logits + static_cast<int64_t>(r) * a.vocab;
    const int chunk = (a.vocab + kThreads - 1) / kThreads;
    const int begin = min(a.vocab, tid * chunk), end = min(a.vocab, begin + chunk);

    uint64_t best = 0;
    for (int i = begin; i < end; ++i) {
        const uint64_t key = make_key(z[i], i);
        best = key > best ? key : best;
    }
    const uint64_t max_key = block_max_key(best, key_scratch);
    const float z_max = from_ordered_bits(static_cast<uint32_t>(max_key >> 32));

    float lse = 0.0f;
    if (p.num_top_logprobs >= 0) {
        float sum = 0.0f;
        for (int i = begin; i < end; ++i) sum += expf(z[i] - z_max);
        lse = z_max + logf(block_sum(sum, float_scratch));
        const int n = min(p.num_top_logprobs, a.vocab);
        if (n > 0) {
            const uint64_t threshold =
                radix_search<false>(z, a.vocab, 0, static_cast<float>(n), false, MassRule{}, sm);
            if (tid == 0) num_top = 0;
            __syncthreads();
            for (int i = begin; i < end; ++i) {
                const uint64_t key = make_key(z[i], i);
                if (key >= threshold) {
                    const int slot = atomicAdd(&num_top, 1);
                    if (slot < kMaxTopLogprobs) top_keys[slot] = key;
                }
            }
            __syncthreads();
            if (tid == 0) {
                const int count = min(num_top, n);
                for (int i = 1; i < count; ++i)  // insertion sort, descending
                    for (int j = i; j > 0 && top_keys[j] > top_keys[j - 1]; --j) {
                        const uint64_t t = top_keys[j];
                        top_keys[j] = top_keys[j - 1];
                        top_keys[j - 1] = t;
                    }
                for (int i = 0; i < kMaxTopLogprobs; ++i) {
                    const int64_t out = static_cast<int64_t>(r) * kMaxTopLogprobs + i;
                    const int token = i < count ? key_token(top_keys[i]) : -1;
                    a.top_tokens[out] = token;
                    a.top_logprobs[out] = i < count ? z[token] - lse : 0.0f;
                }
            }
        }
    }

    int token;
    if (p.greedy) {
        token = key_token(max_key);
    } else {
        MassRule rule;
        rule.temperature = p.temperature;
        rule.scaled_max = z_max / p.temperature;
        uint64_t set_lo = 0;
        if (p.top_k > 0 && p.top_k < a.vocab)
            set_lo = radix_search<false>(z, a.vocab, 0, static_cast<float>(p.top_k), false, rule, sm);
        if (p.top_p < 1.0f) set_lo = radix_search<true>(z, a.vocab, set_lo, p.top_p, false, rule, sm);
        rule.min_e = p.min_p > 0.0f ? p.min_p : 0.0f;
        token = key_token(radix_search<true>(z, a.vocab, set_lo, p.uniform, true, rule, sm));
    }
    if (tid == 0) {
        a.tokens[r] = token;
        if (a.token_logprobs) a.token_logprobs[r] = p.num_top_logprobs >= 0 ? z[token] - lse : 0.0f;
    }
}

}  // namespace

void sample(const SamplingArgs& args, cudaStream_t stream) {
    if (args.num_rows == 0) return;
    if (args.vocab <= 0) throw std::invalid_argument("sample: vocab must be positive");
    sample_kernel<<<args.num_rows, kThreads, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
