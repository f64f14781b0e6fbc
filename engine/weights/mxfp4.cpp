#include "engine/weights/mxfp4.h"

#include <cmath>

namespace gptoss {

float e8m0_to_float(uint8_t scale) {
    return std::ldexp(1.0f, static_cast<int>(scale) - 127);
}

float e8m0_half_to_float(uint8_t scale) {
    return std::ldexp(1.0f, static_cast<int>(scale) - 128);
}

void decode_mxfp4_block(const uint8_t* codes, uint8_t scale, float* out) {
    const float half = e8m0_half_to_float(scale);
    for (int j = 0; j < kMxfp4BlockBytes; ++j) {
        out[2 * j] = static_cast<float>(kFp4Doubled[codes[j] & 0x0F]) * half;
        out[2 * j + 1] = static_cast<float>(kFp4Doubled[codes[j] >> 4]) * half;
    }
}

void decode_mxfp4_row(const uint8_t* codes, const uint8_t* scales, int num_blocks, float* out) {
    for (int g = 0; g < num_blocks; ++g) {
        decode_mxfp4_block(codes + g * kMxfp4BlockBytes, scales[g], out + g * kMxfp4BlockElements);
    }
}

}  // namespace gptoss
