#include "cuda/workspace.h"

#include <algorithm>

#include "cuda/kernels/kernels.h"

namespace gptoss::cuda {
namespace {

// Split-KV partial results: enough for every decode of a 256-sequence step split 16 ways at gpt-oss-20b
// width (64 MiB); the runner lowers the split count when a step would not fit.
constexpr size_t kSplitFloats = size_t{16} << 20;

struct Sizes {
    size_t t, h, q, kv, e, p, i, r, v, tiles, heads;
};

Sizes sizes(const ModelConfig& c, int tokens, int rows) {
    Sizes s{};
    s.t = static_cast<size_t>(tokens);
    s.h = c.hidden_size;
    s.q = c.q_dim();
    s.kv = c.kv_dim();
    s.e = c.num_local_experts;
    s.p = s.t * c.num_experts_per_tok;
    s.i = c.intermediate_size;
    s.r = static_cast<size_t>(rows);
    s.v = c.vocab_size;
    s.tiles = moe_max_tiles(static_cast<int>(s.p), c.num_local_experts, 8);  // the smallest tiles
    s.heads = c.num_attention_heads;
    return s;
}

}  // namespace

size_t Workspace::required_bytes(const ModelConfig& config, int tokens, int rows) {
    const Sizes s = sizes(config, tokens, rows);
    // x, o (2T), qkv (2T), router logits (2T), routing weights, y, split-KV partials, logits, probs, logprobs
    const size_t floats = s.t * s.h + 2 * s.t * s.h + 2 * s.t * (s.q + 2 * s.kv) + 2 * s.t * s.e + s.p +
                          s.p * s.h + kSplitFloats + 2 * kSplitFloats / config.head_dim + 2 * s.r * s.v +
                          s.r * (1 + kMaxTopLogprobs);
    const size_t halves = 2 * (s.t * s.h + s.t * s.q + s.p * s.i) + s.r * s.h;
    const size_t ints = s.p * 2 + s.e + 1 + 2 * s.tiles + 1 + s.r * (1 + kMaxTopLogprobs);
    return 4 * floats + 2 * halves + 4 * ints;
}

bool Workspace::ensure(const ModelConfig& config, int tokens, int rows) {
    bool grew = false;
    if (tokens > token_capacity) {
        const Sizes s = sizes(config, tokens, rows);
        x.resize(s.t * s.h);
        h.resize(2 * s.t * s.h);
        qkv.resize(2 * s.t * (s.q + 2 * s.kv));
        attn.resize(2 * s.t * s.q);
        o.resize(2 * s.t * s.h);
        router_logits.resize(2 * s.t * s.e);
        experts.resize(s.p);
        routing_weights.resize(s.p);
        sorted_pairs.resize(s.p);
        expert_offsets.resize(s.e + 1);
        tile_expert.resize(s.tiles);
        tile_row_start.resize(s.tiles);
        num_tiles.resize(1);
        act.resize(2 * s.p * s.i);
        y.resize(s.p * s.h);
        token_capacity = tokens;
        grew = true;
    }
    if (split_capacity == 0) {
        split_out.resize(kSplitFloats);
        split_max.resize(kSplitFloats / config.head_dim);
        split_sum.resize(kSplitFloats / config.head_dim);
        split_capacity = kSplitFloats;
        grew = true;
    }
    if (rows > row_capacity) {
        const Sizes s = sizes(config, tokens, rows);
        final_h.resize(s.r * s.h);
        logits.resize(s.r * s.v);
        probs.resize(s.r * s.v);
        sampled_tokens.resize(s.r);
        token_logprobs.resize(s.r);
        top_tokens.resize(s.r * kMaxTopLogprobs);
        top_logprobs.resize(s.r * kMaxTopLogprobs);
        row_capacity = rows;
        grew = true;
    }
    return grew;
}

size_t Workspace::bytes() const {
    return x.bytes() + h.bytes() + qkv.bytes() + attn.bytes() + o.bytes() + router_logits.bytes() +
           experts.bytes() + routing_weights.bytes() + sorted_pairs.bytes() + expert_offsets.bytes() +
           tile_expert.bytes() + tile_row_start.bytes() + num_tiles.bytes() + act.bytes() + y.bytes() +
           split_out.bytes() + split_max.bytes() + split_sum.bytes() + final_h.bytes() + logits.bytes() +
           sampled_tokens.bytes() + token_logprobs.bytes() + top_tokens.bytes() + top_logprobs.bytes();
}

}  // namespace gptoss::cuda
