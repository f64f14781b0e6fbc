// MXFP4 (OCP microscaling FP4) as stored in the gpt-oss checkpoint: 32-element blocks along a weight row's
// input axis, 16 bytes of E2M1 codes (low nibble = the earlier element) plus one E8M0 scale byte.
// Value of element i of a block: kFp4Values[code_i] * 2^(scale - 127).
// Decoding computes (2 * kFp4Values[code]) * 2^(scale - 128): the same number, exact in float32 for every
// scale byte (all values have at most two significant bits), and without the intermediate 2^128 = inf that
// byte 255 (NaN in the OCP spec, never seen in real weights) would produce.
#pragma once

#include <cstdint>

namespace gptoss {

inline constexpr int kMxfp4BlockElements = 32;
inline constexpr int kMxfp4BlockBytes = 16;

// E2M1 code -> value. Bit 3 is the sign; code 8 is -0.
inline constexpr float kFp4Values[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                         -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
// Twice the values, as small integers (what a byte-shuffle lookup produces).
inline constexpr int8_t kFp4Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(scale - 127).
float e8m0_to_float(uint8_t scale);
// 2^(scale - 128): the factor that goes with kFp4Doubled.
float e8m0_half_to_float(uint8_t scale);

// One block: 16 code bytes + scale -> 32 floats.
void decode_mxfp4_block(const uint8_t* codes, uint8_t scale, float* out);

// One row of `num_blocks` blocks: codes [num_blocks, 16], scales [num_blocks] -> out [num_blocks * 32].
void decode_mxfp4_row(const uint8_t* codes, const uint8_t* scales, int num_blocks, float* out);

}  // namespace gptoss
