// engine/sampler.h on the device.
//
// Greedy and untruncated rows (step 5's Gumbel-max draw; the OpenAI defaults) are an argmax over the
// vocabulary: draw_partial_kernel spreads each row over blocks of 4096 tokens (one 1024-thread block took
// ~0.9 ms per row for a 201k vocabulary, run 7), draw_final_kernel takes the best of the row's blocks.
// Truncated rows (top-k / top-p / min-p) and logprobs take sample_kernel, one 1024-thread block per row:
//
// Tokens are ordered by a 64-bit key (value, then lower id first): key = ordered_bits(value) << 32 | ~id, so
// every set the sampler keeps (top-k, the top-p nucleus, the min-p survivors) is the set of keys >= some
// threshold. Each threshold is found by a radix descent over the key bits (12-bit digits, double-precision
// histograms in shared memory) that accumulates counts or probability mass, so no sort of the vocabulary is
// needed and heavy ties (e.g. many identical logits) resolve by id exactly as the host does. Probabilities
// are rounded exactly as the host rounds them and summed in double, so the sampled token matches the host's
// except when u lands within double rounding of a boundary.
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
    double weight[kMaxBins];
    double warp_sum[32];
    double total;
    int chosen_bin;
    int fallback_bin;
    double chosen_above;
};

// Exclusive scan over the block in thread order; the block total lands in sm.total.
__device__ double block_exclusive_scan(double v, SearchSmem& sm) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    double inclusive = v;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
        const double other = __shfl_up_sync(0xffffffffu, inclusive, offset);
        if (lane >= offset) inclusive += other;
    }
    if (lane == 31) sm.warp_sum[warp] = inclusive;
    __syncthreads();
    if (warp == 0) {
        double w = sm.warp_sum[lane];
#pragma unroll
        for (int offset = 1; offset < 32; offset <<= 1) {
            const double other = __shfl_up_sync(0xffffffffu, w, offset);
            if (lane >= offset) w += other;
        }
        sm.warp_sum[lane] = w;  // inclusive over warps
        if (lane == 31) sm.total = w;
    }
    __syncthreads();
    return (warp > 0 ? sm.warp_sum[warp - 1] : 0.0) + inclusive - v;
}

__device__ double block_sum_double(double v, double* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = scratch[lane];  // kThreads / 32 == 32 warps
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Finds the largest key K among the kept tokens whose cumulative weight cum(K) = sum of the weights of kept
// keys >= K crosses the target (cum > target when strict, else cum >= target); target = fraction * (total
// kept weight) when `fraction` is set. `token(i, &key, &weight)` says whether token i is kept and gives its
// key and weight (1 to count tokens, a probability to weigh them; sums in double, like the host). Thread t
// walks the contiguous slice [t * chunk, (t + 1) * chunk), so runs of one bin (ties) are summed in registers
// before they touch shared memory. Falls back to the last kept token when rounding leaves the target
// unreached.
template <class TokenFn>
__device__ uint64_t radix_search(int vocab, TokenFn token, double target, bool fraction, bool strict,
                                 SearchSmem& sm) {
    const int tid = threadIdx.x;
    const int chunk = (vocab + kThreads - 1) / kThreads;
    const int begin = min(vocab, tid * chunk), end = min(vocab, begin + chunk);
    uint64_t prefix = 0;
    double above = 0.0;
    for (int level = 0; level < kLevels; ++level) {
        const int shift = kShift[level], width = kWidth[level];
        const int bins = 1 << width;
        const uint64_t high_mask = shift + width >= 64 ? 0ull : (~0ull << (shift + width));
        for (int b = tid; b < bins; b += kThreads) sm.weight[b] = 0.0;
        if (tid == 0) {
            sm.chosen_bin = -1;
            sm.fallback_bin = INT_MAX;
        }
        __syncthreads();
        int run_bin = -1;
        double run = 0.0;
        for (int i = begin; i < end; ++i) {
            uint64_t key;
            double w;
            if (!token(i, &key, &w) || (key & high_mask) != (prefix & high_mask)) continue;
            const int bin = static_cast<int>((key >> shift) & static_cast<uint64_t>(bins - 1));
            if (bin != run_bin) {
                if (run_bin >= 0) atomicAdd(&sm.weight[run_bin], run);
                run_bin = bin;
                run = 0.0;
            }
            run += w;
        }
        if (run_bin >= 0) atomicAdd(&sm.weight[run_bin], run);
        __syncthreads();
        // Thread t owns bins (bins - 1 - t * per_thread - j), j < per_thread: descending key order. Empty
        // bins (no kept token) are told apart by a negative marker below, since a kept token may weigh 0.
        const int per_thread = (bins + kThreads - 1) / kThreads;
        double local = 0.0;
        for (int j = 0; j < per_thread; ++j) {
            const int b = bins - 1 - (tid * per_thread + j);
            if (b >= 0) local += sm.weight[b];
        }
        const double before = block_exclusive_scan(local, sm);
        if (level == 0 && fraction) target *= sm.total;
        auto crosses = [&](double cum) { return strict ? above + cum > target : above + cum >= target; };
        if (crosses(before + local) && !crosses(before)) {
            double acc = before;
            for (int j = 0; j < per_thread; ++j) {
                const int b = bins - 1 - (tid * per_thread + j);
                if (b < 0) break;
                if (crosses(acc + sm.weight[b])) {
                    sm.chosen_bin = b;
                    sm.chosen_above = above + acc;
                    break;
                }
                acc += sm.weight[b];
            }
        }
        __syncthreads();
        int bin = sm.chosen_bin;
        if (bin < 0) {
            // Unreached target: the lowest bin holding a kept token (found by a second pass; rare).
            for (int i = begin; i < end; ++i) {
                uint64_t key;
                double w;
                if (token(i, &key, &w) && (key & high_mask) == (prefix & high_mask))
                    atomicMin(&sm.fallback_bin,
                              static_cast<int>((key >> shift) & static_cast<uint64_t>(bins - 1)));
            }
            __syncthreads();
            bin = sm.fallback_bin == INT_MAX ? 0 : sm.fallback_bin;
            double skipped = 0.0;  // weight of the bins above the fallback one
            for (int b = bins - 1; b > bin; --b) skipped += sm.weight[b];
            above += skipped;
        } else {
            above = sm.chosen_above;
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

// ---- greedy and Gumbel-max rows ----------------------------------------------------------------------
constexpr int kDrawThreads = 256;
constexpr int kDrawChunk = 4096;  // tokens per block

__device__ __forceinline__ bool argmax_row(const SamplingRowParams& p, int vocab) {
    return p.greedy || ((p.top_k <= 0 || p.top_k >= vocab) && p.top_p >= 1.0f && p.min_p <= 0.0f);
}

// engine/sampler.h's splitmix64 and gumbel_noise.
__device__ __forceinline__ uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
__device__ __forceinline__ double gumbel_noise(uint64_t stream, int token) {
    const uint64_t r = splitmix64(stream + static_cast<uint64_t>(token));
    const double u = (static_cast<double>(r >> 11) + 0.5) * 0x1p-53;
    return -log(-log(u));
}

__device__ __forceinline__ uint64_t larger_key(uint64_t a, uint64_t b) {
    return a > b ? a : b;
}
__device__ __forceinline__ uint64_t warp_max_key(uint64_t key) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        key = larger_key(key, __shfl_xor_sync(0xffffffffu, key, offset));
    return key;
}

// The partial result of block (chunk, row): the best key of its tokens (0: none, every logit NaN), stored as
// two words at the start of the row's probs scratch (2 * chunks <= V words for V >= 2).
__global__ void __launch_bounds__(kDrawThreads) draw_partial_kernel(SamplingArgs a) {
    __shared__ uint64_t warp_best[kDrawThreads / 32];
    const int r = blockIdx.y, chunk = blockIdx.x;
    const SamplingRowParams p = a.params[r];
    if (!argmax_row(p, a.vocab)) return;
    const float* z = a.logits + static_cast<int64_t>(r) * a.vocab;
    const int end = min(a.vocab, (chunk + 1) * kDrawChunk);
    uint64_t best = 0;
    for (int i = chunk * kDrawChunk + threadIdx.x; i < end; i += kDrawThreads) {
        const float zi = z[i];
        if (isnan(zi)) continue;
        // float(z / T + noise): the host's roundings (z /= T in float, the sum in double).
        const float v =
            p.greedy
                ? zi
                : static_cast<float>(static_cast<double>(zi / p.temperature) + gumbel_noise(p.stream, i));
        best = larger_key(best, make_key(v, i));
    }
    best = warp_max_key(best);
    if ((threadIdx.x & 31) == 0) warp_best[threadIdx.x >> 5] = best;
    __syncthreads();
    if (threadIdx.x != 0) return;
    for (int w = 1; w < kDrawThreads / 32; ++w) best = larger_key(best, warp_best[w]);
    uint32_t* partial = reinterpret_cast<uint32_t*>(a.probs + static_cast<int64_t>(r) * a.vocab) + 2 * chunk;
    partial[0] = static_cast<uint32_t>(best >> 32);
    partial[1] = static_cast<uint32_t>(best);
}

// One warp per row: the best of the row's partial keys is the token (the host's V - 1 when every logit is
// NaN). sample_kernel adds the logprobs of rows that asked for them.
__global__ void draw_final_kernel(SamplingArgs a) {
    const int r = blockIdx.x;
    const SamplingRowParams p = a.params[r];
    if (!argmax_row(p, a.vocab)) return;
    const uint32_t* partial = reinterpret_cast<const uint32_t*>(a.probs + static_cast<int64_t>(r) * a.vocab);
    const int chunks = (a.vocab + kDrawChunk - 1) / kDrawChunk;
    uint64_t best = 0;
    for (int c = threadIdx.x; c < chunks && a.vocab >= 2; c += 32)
        best = larger_key(best, (static_cast<uint64_t>(partial[2 * c]) << 32) | partial[2 * c + 1]);
    if (a.vocab < 2) best = make_key(0.0f, 0);  // one token (no room for the partials): it is the draw
    best = warp_max_key(best);
    if (threadIdx.x != 0) return;
    a.tokens[r] = best != 0 ? key_token(best) : a.vocab - 1;
    if (a.token_logprobs && p.num_top_logprobs < 0) a.token_logprobs[r] = 0.0f;
}

// ---- truncated rows and logprobs ----------------------------------------------------------------------
// The host sampler's steps, one block per row:
//  logprobs: lse = max + log(sum exp(z - max)) in double; top-n by (z, lower id).
//  greedy: the largest (z, lower id).
//  sampling: zt = z / T (float); top-k by (zt, lower id); p = float(exp(zt - max) / sum) over the kept tokens
//  (double math, as the host) into `probs` (each thread only touches its own slice, so no barrier is needed);
//  nucleus and the final pick walk p in (p, lower id) order.
__global__ void __launch_bounds__(kThreads) sample_kernel(SamplingArgs a) {
    __shared__ SearchSmem sm;
    __shared__ uint64_t key_scratch[32];
    __shared__ double double_scratch[32];
    __shared__ uint64_t top_keys[kMaxTopLogprobs];
    __shared__ int num_top;
    const int r = blockIdx.x, tid = threadIdx.x;
    const SamplingRowParams p = a.params[r];
    const int vocab = a.vocab;
    const bool drawn = argmax_row(p, vocab);  // the token is draw_final_kernel's
    if (drawn && p.num_top_logprobs < 0) return;
    const float* z = a.logits + static_cast<int64_t>(r) * vocab;
    float* probs = a.probs + static_cast<int64_t>(r) * vocab;
    const int chunk = (vocab + kThreads - 1) / kThreads;
    const int begin = min(vocab, tid * chunk), end = min(vocab, begin + chunk);

    uint64_t best = 0;
    for (int i = begin; i < end; ++i) {
        const uint64_t key = make_key(z[i], i);
        best = key > best ? key : best;
    }
    const uint64_t max_key = block_max_key(best, key_scratch);
    const float z_max = from_ordered_bits(static_cast<uint32_t>(max_key >> 32));

    double lse = 0.0;
    if (p.num_top_logprobs >= 0) {
        double sum = 0.0;
        for (int i = begin; i < end; ++i) sum += exp(static_cast<double>(z[i]) - z_max);
        lse = z_max + log(block_sum_double(sum, double_scratch));
        const int n = min(p.num_top_logprobs, vocab);
        if (n > 0) {
            auto by_logit = [&](int i, uint64_t* key, double* w) {
                *key = make_key(z[i], i);
                *w = 1.0;
                return true;
            };
            const uint64_t threshold = radix_search(vocab, by_logit, n, false, false, sm);
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
                    a.top_logprobs[out] = i < count ? static_cast<float>(z[token] - lse) : 0.0f;
                }
            }
        }
    }

    int token;
    if (drawn) {
        token = a.tokens[r];
    } else {
        const float temperature = p.temperature;
        // Top-k candidates by (z / T, lower id).
        uint64_t candidate_lo = 0;
        if (p.top_k > 0 && p.top_k < vocab) {
            auto by_scaled_logit = [&](int i, uint64_t* key, double* w) {
                *key = make_key(z[i] / temperature, i);
                *w = 1.0;
                return true;
            };
            candidate_lo = radix_search(vocab, by_scaled_logit, p.top_k, false, false, sm);
        }
        const double m = static_cast<double>(z_max / temperature);
        double sum = 0.0;
        for (int i = begin; i < end; ++i)
            if (make_key(z[i] / temperature, i) >= candidate_lo)
                sum += exp(static_cast<double>(z[i] / temperature) - m);
        sum = block_sum_double(sum, double_scratch);
        // p = float(double(float(e)) / sum), the host's exact rounding steps; -1 marks non-candidates.
        for (int i = begin; i < end; ++i) {
            const float e = static_cast<float>(exp(static_cast<double>(z[i] / temperature) - m));
            probs[i] = make_key(z[i] / temperature, i) >= candidate_lo ? static_cast<float>(e / sum) : -1.0f;
        }
        // Nucleus: the shortest prefix (by p, lower id) whose mass reaches top_p.
        uint64_t nucleus_lo = 0;
        if (p.top_p < 1.0f) {
            auto by_prob = [&](int i, uint64_t* key, double* w) {
                const float pi = probs[i];
                *key = make_key(pi, i);
                *w = pi;
                return pi >= 0.0f;
            };
            nucleus_lo = radix_search(vocab, by_prob, static_cast<double>(p.top_p), false, false, sm);
        }
        // min-p: drop p < min_p * p_max; p_max = float(float(1) / sum), the top token's p.
        const float min_prob = p.min_p > 0.0f ? p.min_p * static_cast<float>(1.0 / sum) : 0.0f;
        auto kept = [&](int i, uint64_t* key, double* w) {
            const float pi = probs[i];
            *key = make_key(pi, i);
            *w = pi;
            return pi >= 0.0f && pi >= min_prob && *key >= nucleus_lo;
        };
        token = key_token(radix_search(vocab, kept, static_cast<double>(p.uniform), true, true, sm));
    }
    if (tid == 0) {
        a.tokens[r] = token;
        if (a.token_logprobs)
            a.token_logprobs[r] = p.num_top_logprobs >= 0 ? static_cast<float>(z[token] - lse) : 0.0f;
    }
}

}  // namespace

void sample(const SamplingArgs& args, cudaStream_t stream) {
    if (args.num_rows == 0) return;
    if (args.vocab <= 0) throw std::invalid_argument("sample: vocab must be positive");
    const dim3 draw_grid(ceil_div(args.vocab, kDrawChunk), args.num_rows);
    draw_partial_kernel<<<draw_grid, kDrawThreads, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
    draw_final_kernel<<<args.num_rows, 32, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
    sample_kernel<<<args.num_rows, kThreads, 0, stream>>>(args);
    GPTOSS_CUDA_CHECK_LAUNCH();
}

}  // namespace gptoss::cuda
