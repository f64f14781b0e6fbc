// The kernel algorithms of kernels.h, written once over an 8-lane float vector type.
//
// Included by kernels_avx2.cpp and kernels_generic.cpp, each inside its own namespace after defining:
//   V                                   8 float lanes
//   V vzero(); V vload(const float*); void vstore(float*, V); V vset1(float)
//   V vfma(V a, V b, V acc)             acc + a * b per lane
//   float vhsum(V)                      ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7))
//   void vhsum8(const V in[8], float out[8])   eight vhsum at once, same order
//   V vload_bf16(const uint16_t*)       8 bf16 -> 8 floats (exact)
//   void vdecode_mxfp4(const uint8_t* codes, float half_scale, V out[4])   one 32-element block (exact)
//   float sfma(float a, float b, float acc)
// It includes nothing (its includer does), so the AVX2 translation unit shares no inline code with the rest
// of the program.
// Legend: R rows (output features), C columns (input features), T tokens, G = C / 32 MXFP4 blocks per row.

constexpr int kRowBlock = 4;         // rows per micro-kernel call
constexpr int kTokenBlock = 2;       // tokens per micro-kernel call
constexpr int kDirectMaxTokens = 4;  // up to this many tokens, weights are read straight from the checkpoint
constexpr int64_t kTokenTileBytes = 256 << 10;  // x rows kept hot in cache while a tile of rows streams by

inline float bf16_bits_to_float(uint16_t bits) {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
}

// 2^(scale - 128) from the bits, exact for every byte (bytes 0 and 1 give the subnormals 2^-128 and 2^-127).
inline float e8m0_half(uint8_t scale) {
    uint32_t u = scale >= 2 ? static_cast<uint32_t>(scale - 1) << 23 : 0x00200000u << scale;
    float f;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
}

inline float scalar_fp4(const uint8_t* codes, uint8_t scale, int i) {
    static constexpr float kDoubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    uint8_t byte = codes[i / 2];
    return kDoubled[(i & 1) ? byte >> 4 : byte & 0x0F] * e8m0_half(scale);
}

// Row sources: block(r, g) gives columns [32g, 32g + 32) of row r, chunk(r, c) columns [c, c + 8),
// scalar(r, c) one column.
struct Bf16Rows {
    static constexpr bool kDecodesBlocks = false;
    const uint16_t* w;  // [R, C]
    int C;
    void block(int r, int g, V out[4]) const {
        const uint16_t* p = w + static_cast<int64_t>(r) * C + g * 32;
        for (int q = 0; q < 4; ++q) out[q] = vload_bf16(p + 8 * q);
    }
    V chunk(int r, int c) const { return vload_bf16(w + static_cast<int64_t>(r) * C + c); }
    float scalar(int r, int c) const { return bf16_bits_to_float(w[static_cast<int64_t>(r) * C + c]); }
};

struct Mxfp4Rows {
    static constexpr bool kDecodesBlocks = true;
    const uint8_t* blocks;  // [R, G, 16]
    const uint8_t* scales;  // [R, G]
    int G;
    void block(int r, int g, V out[4]) const {
        int64_t i = static_cast<int64_t>(r) * G + g;
        vdecode_mxfp4(blocks + i * 16, e8m0_half(scales[i]), out);
    }
    V chunk(int r, int c) const {
        V b[4];
        block(r, c / 32, b);
        return b[(c % 32) / 8];
    }
    float scalar(int r, int c) const {
        int64_t i = static_cast<int64_t>(r) * G + c / 32;
        return scalar_fp4(blocks + i * 16, scales[i], c % 32);
    }
};

// Rows [r0, r0 + n) already converted to float32.
struct PanelRows {
    static constexpr bool kDecodesBlocks = false;
    const float* p;  // [n, C]
    int r0;
    int C;
    const float* row(int r) const { return p + static_cast<int64_t>(r - r0) * C; }
    void block(int r, int g, V out[4]) const {
        const float* q = row(r) + g * 32;
        for (int i = 0; i < 4; ++i) out[i] = vload(q + 8 * i);
    }
    V chunk(int r, int c) const { return vload(row(r) + c); }
    float scalar(int r, int c) const { return row(r)[c]; }
};

// Tail of a micro-kernel: columns past the blocks in chunks of 8, then single columns, then the reduction.
template <int RB, int TB, class Rows>
inline void finish_rows(const Rows& rows, int r0, const float* x, int C, int c, V (&acc)[RB][TB],
                        float out[kRowBlock][kTokenBlock]) {
    for (; c + 8 <= C; c += 8) {
        for (int r = 0; r < RB; ++r) {
            V w = rows.chunk(r0 + r, c);
            for (int t = 0; t < TB; ++t)
                acc[r][t] = vfma(w, vload(x + static_cast<int64_t>(t) * C + c), acc[r][t]);
        }
    }
    for (int r = 0; r < RB; ++r) {
        for (int t = 0; t < TB; ++t) {
            float tail = 0.0f;
            for (int cc = c; cc < C; ++cc) {
                tail = sfma(rows.scalar(r0 + r, cc), x[static_cast<int64_t>(t) * C + cc], tail);
            }
            out[r][t] = vhsum(acc[r][t]) + tail;
        }
    }
}

// out[r][t] = dot(row r0 + r, x[t]) for RB rows and TB tokens, x [TB, C]. Two loop orders with the same
// per-(row, token) arithmetic: rows that decode a 32-column block at a time (MXFP4) go block by block and row
// by row; rows that load any 8 columns cheaply go chunk by chunk, each x chunk loaded once for all rows.
template <int RB, int TB, class Rows>
inline void micro_kernel(const Rows& rows, int r0, const float* x, int C, float out[kRowBlock][kTokenBlock]) {
    V acc[RB][TB];
#pragma GCC unroll 4
    for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
        for (int t = 0; t < TB; ++t) acc[r][t] = vzero();
    int c = 0;
    if constexpr (Rows::kDecodesBlocks) {
        const int G = C / 32;
        for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
            for (int r = 0; r < RB; ++r) {
                V w[4];
                rows.block(r0 + r, g, w);
#pragma GCC unroll 4
                for (int t = 0; t < TB; ++t) {
                    const float* xt = x + static_cast<int64_t>(t) * C + g * 32;
#pragma GCC unroll 4
                    for (int q = 0; q < 4; ++q) acc[r][t] = vfma(w[q], vload(xt + 8 * q), acc[r][t]);
                }
            }
        }
        c = G * 32;
    } else {
        for (; c + 8 <= C; c += 8) {
            V xv[TB];
#pragma GCC unroll 4
            for (int t = 0; t < TB; ++t) xv[t] = vload(x + static_cast<int64_t>(t) * C + c);
#pragma GCC unroll 4
            for (int r = 0; r < RB; ++r) {
                const V w = rows.chunk(r0 + r, c);
#pragma GCC unroll 4
                for (int t = 0; t < TB; ++t) acc[r][t] = vfma(w, xv[t], acc[r][t]);
            }
        }
    }
    finish_rows<RB, TB>(rows, r0, x, C, c, acc, out);
}

template <int RB, class Rows>
inline void micro_rows(const Rows& rows, int r0, const float* x, int tb, int C,
                       float out[kRowBlock][kTokenBlock]) {
    static_assert(kTokenBlock == 2);
    if (tb == 2) {
        micro_kernel<RB, 2>(rows, r0, x, C, out);
    } else {
        micro_kernel<RB, 1>(rows, r0, x, C, out);
    }
}

// Runs rows [r0, r0 + rn) against tokens [0, T) of x, writing y.
template <class Rows>
inline void run_row_block(const Rows& rows, int r0, int rn, const float* x, int T, int C,
                          const uint16_t* bias, float* y, int64_t y_stride) {
    float out[kRowBlock][kTokenBlock];
    for (int t0 = 0; t0 < T; t0 += kTokenBlock) {
        const int tb = T - t0 < kTokenBlock ? T - t0 : kTokenBlock;
        const float* xt = x + static_cast<int64_t>(t0) * C;
        switch (rn) {
            case 4:
                micro_rows<4>(rows, r0, xt, tb, C, out);
                break;
            case 3:
                micro_rows<3>(rows, r0, xt, tb, C, out);
                break;
            case 2:
                micro_rows<2>(rows, r0, xt, tb, C, out);
                break;
            default:
                micro_rows<1>(rows, r0, xt, tb, C, out);
                break;
        }
        for (int r = 0; r < rn; ++r) {
            const float b = bias ? bf16_bits_to_float(bias[r0 + r]) : 0.0f;
            for (int t = 0; t < tb; ++t) {
                float v = out[r][t];
                y[static_cast<int64_t>(t0 + t) * y_stride + r0 + r] = bias ? v + b : v;
            }
        }
    }
}

// Converts rows [r0, r0 + rn) to float32 in panel [rn, C].
inline void fill_panel(const kernels::WeightMatrix& w, int r0, int rn, float* panel) {
    const int C = w.cols;
    for (int r = 0; r < rn; ++r) {
        float* dst = panel + static_cast<int64_t>(r) * C;
        if (w.format == kernels::WeightMatrix::Format::kBF16) {
            const uint16_t* src = w.bf16 + static_cast<int64_t>(r0 + r) * C;
            int c = 0;
            for (; c + 8 <= C; c += 8) vstore(dst + c, vload_bf16(src + c));
            for (; c < C; ++c) dst[c] = bf16_bits_to_float(src[c]);
        } else {
            Mxfp4Rows rows{w.blocks, w.scales, C / 32};
            for (int g = 0; g < C / 32; ++g) {
                V b[4];
                rows.block(r0 + r, g, b);
                for (int q = 0; q < 4; ++q) vstore(dst + g * 32 + 8 * q, b[q]);
            }
        }
    }
}

inline void matmul_rows_impl(const float* x, int T, const kernels::WeightMatrix& w, const uint16_t* bias,
                             int r_begin, int r_end, float* y, int64_t y_stride, float* panel) {
    const int C = w.cols;
    if (T <= kDirectMaxTokens) {
        for (int r0 = r_begin; r0 < r_end; r0 += kRowBlock) {
            const int rn = r_end - r0 < kRowBlock ? r_end - r0 : kRowBlock;
            if (w.format == kernels::WeightMatrix::Format::kBF16) {
                run_row_block(Bf16Rows{w.bf16, C}, r0, rn, x, T, C, bias, y, y_stride);
            } else {
                run_row_block(Mxfp4Rows{w.blocks, w.scales, C / 32}, r0, rn, x, T, C, bias, y, y_stride);
            }
        }
        return;
    }
    int64_t tile = kTokenTileBytes / (static_cast<int64_t>(C) * 4);
    const int token_tile = tile < kTokenBlock ? kTokenBlock : static_cast<int>(tile);
    for (int t0 = 0; t0 < T; t0 += token_tile) {
        const int tn = T - t0 < token_tile ? T - t0 : token_tile;
        const float* xt = x + static_cast<int64_t>(t0) * C;
        float* yt = y + static_cast<int64_t>(t0) * y_stride;
        for (int r0 = r_begin; r0 < r_end; r0 += kRowBlock) {
            const int rn = r_end - r0 < kRowBlock ? r_end - r0 : kRowBlock;
            fill_panel(w, r0, rn, panel);
            run_row_block(PanelRows{panel, r0, C}, r0, rn, xt, tn, C, bias, yt, y_stride);
        }
    }
}

// Eight dot products at once, so their horizontal sums share one reduction tree: dot m pairs query row
// m % HG with key m / HG (HG rows by 8 / HG keys).
template <int HG>
inline void score_group(const float* const* q_rows, int D, const float* k, int64_t key_stride, int j0,
                        int nkeys, float scale, float* scores, int64_t score_stride) {
    constexpr int KG = 8 / HG;  // keys per group
    const int D8 = D / 8 * 8;
    const float* kp[KG];
    for (int j = 0; j < KG; ++j) kp[j] = k + (j0 + (j < nkeys ? j : nkeys - 1)) * key_stride;
    V acc[8];
    for (int m = 0; m < 8; ++m) acc[m] = vzero();
    for (int c = 0; c < D8; c += 8) {
        for (int j = 0; j < KG; ++j) {
            V kv = vload(kp[j] + c);
            for (int h = 0; h < HG; ++h) acc[j * HG + h] = vfma(vload(q_rows[h] + c), kv, acc[j * HG + h]);
        }
    }
    float sums[8];
    vhsum8(acc, sums);
    for (int j = 0; j < KG && j < nkeys; ++j) {
        for (int h = 0; h < HG; ++h) {
            float tail = 0.0f;
            for (int c = D8; c < D; ++c) tail = sfma(q_rows[h][c], kp[j][c], tail);
            scores[h * score_stride + j0 + j] = (sums[j * HG + h] + tail) * scale;
        }
    }
}

template <int HG>
inline void score_rows(const float* const* q_rows, int D, const float* k, int64_t key_stride, int num_keys,
                       float scale, float* scores, int64_t score_stride) {
    constexpr int KG = 8 / HG;
    for (int j = 0; j < num_keys; j += KG) {
        const int n = num_keys - j < KG ? num_keys - j : KG;
        score_group<HG>(q_rows, D, k, key_stride, j, n, scale, scores, score_stride);
    }
}

inline void attention_scores_impl(const float* const* q_rows, int R, int D, const float* k,
                                  int64_t key_stride, int num_keys, float scale, float* scores,
                                  int64_t score_stride) {
    // Groups of 8 rows by 1 key while they last (a key row is loaded once for 8 dots), then 4, 2, 1 rows.
    int r = 0;
    for (; r + 8 <= R; r += 8) {
        for (int j = 0; j < num_keys; ++j) {
            score_group<8>(q_rows + r, D, k, key_stride, j, 1, scale, scores + r * score_stride,
                           score_stride);
        }
    }
    if (r + 4 <= R) {
        score_rows<4>(q_rows + r, D, k, key_stride, num_keys, scale, scores + r * score_stride, score_stride);
        r += 4;
    }
    if (r + 2 <= R) {
        score_rows<2>(q_rows + r, D, k, key_stride, num_keys, scale, scores + r * score_stride, score_stride);
        r += 2;
    }
    if (r < R)
        score_rows<1>(q_rows + r, D, k, key_stride, num_keys, scale, scores + r * score_stride, score_stride);
}

// out[d0 .. d0 + 8 NC) += p[j] * v[j, d0 ..] for j in [begin, end), one multiply-add per key.
template <int NC>
inline void value_slab(const float* p, const float* v, int64_t key_stride, int begin, int end, int d0,
                       float* out) {
    V acc[NC];
    for (int c = 0; c < NC; ++c) acc[c] = vload(out + d0 + 8 * c);
    for (int j = begin; j < end; ++j) {
        const float* vj = v + j * key_stride + d0;
        const V w = vset1(p[j]);
        for (int c = 0; c < NC; ++c) acc[c] = vfma(w, vload(vj + 8 * c), acc[c]);
    }
    for (int c = 0; c < NC; ++c) vstore(out + d0 + 8 * c, acc[c]);
}

inline void attention_values_impl(const float* const* p_rows, float* const* out_rows, const int* begin,
                                  const int* end, int R, const float* v, int64_t key_stride, int D) {
    const int D8 = D / 8 * 8;
    for (int r = 0; r < R; ++r) {
        if (begin[r] >= end[r]) continue;
        const float* p = p_rows[r];
        float* out = out_rows[r];
        int d0 = 0;
        for (; d0 + 64 <= D8; d0 += 64) value_slab<8>(p, v, key_stride, begin[r], end[r], d0, out);
        switch ((D8 - d0) / 8) {
            case 7:
                value_slab<7>(p, v, key_stride, begin[r], end[r], d0, out);
                break;
            case 6:
                value_slab<6>(p, v, key_stride, begin[r], end[r], d0, out);
                break;
            case 5:
                value_slab<5>(p, v, key_stride, begin[r], end[r], d0, out);
                break;
            case 4:
                value_slab<4>(p, v, key_stride, begin[r], end[r], d0, out);
                break;
            case 3:
                value_slab<3>(p, v, key_stride, begin[r], end[r], d0, out);
                break;
            case 2:
                value_slab<2>(p, v, key_stride, begin[r], end[r], d0, out);
                break;
            case 1:
                value_slab<1>(p, v, key_stride, begin[r], end[r], d0, out);
                break;
            default:
                break;
        }
        for (int d = D8; d < D; ++d) {
            for (int j = begin[r]; j < end[r]; ++j) out[d] = sfma(p[j], v[j * key_stride + d], out[d]);
        }
    }
}
