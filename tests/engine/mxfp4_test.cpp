// MXFP4 decoding: every byte value at every relevant scale, the worked example of gpt-oss-model.md section
// 3.3, and the CPU kernels' on-the-fly decoder against the reference decoder.
#include "engine/weights/mxfp4.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/cpu/kernels.h"

namespace gptoss {
namespace {

TEST(Mxfp4, E8m0ScaleIsPowerOfTwoWithBias127) {
    EXPECT_EQ(e8m0_to_float(127), 1.0f);
    EXPECT_EQ(e8m0_to_float(128), 2.0f);
    EXPECT_EQ(e8m0_to_float(122), 1.0f / 32);
    EXPECT_EQ(e8m0_to_float(0), std::ldexp(1.0f, -127));
    for (int s = 0; s < 255; ++s) EXPECT_EQ(e8m0_to_float(s), std::ldexp(1.0, s - 127)) << s;
}

TEST(Mxfp4, EveryByteAtEveryFiniteScale) {
    const float table[16] = {0.0f, 0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                             0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    for (int scale = 0; scale < 255; ++scale) {
        const double factor = std::ldexp(1.0, scale - 127);
        for (int byte = 0; byte < 256; ++byte) {
            uint8_t codes[16] = {};
            codes[5] = static_cast<uint8_t>(byte);
            float out[32];
            decode_mxfp4_block(codes, static_cast<uint8_t>(scale), out);
            // Byte j holds elements 2j (low nibble) and 2j + 1 (high nibble); the value is exact.
            ASSERT_EQ(out[10], static_cast<float>(table[byte & 0x0F] * factor)) << byte << " @ " << scale;
            ASSERT_EQ(out[11], static_cast<float>(table[byte >> 4] * factor)) << byte << " @ " << scale;
            ASSERT_EQ(out[0], 0.0f);
            ASSERT_EQ(out[31], 0.0f);
        }
    }
}

TEST(Mxfp4, NegativeZeroDecodesToZero) {
    uint8_t codes[16] = {0x88};
    float out[32];
    decode_mxfp4_block(codes, 127, out);
    EXPECT_EQ(out[0], 0.0f);
    EXPECT_EQ(out[1], 0.0f);
}

TEST(Mxfp4, WorkedExampleOfTheModelDoc) {
    // Bytes 2F 80 71 09, scale 0x7A (122 -> 1/32).
    uint8_t codes[16] = {0x2F, 0x80, 0x71, 0x09};
    float out[32];
    decode_mxfp4_block(codes, 0x7A, out);
    const float expected[8] = {-0.1875f, 0.03125f, 0.0f, 0.0f, 0.015625f, 0.1875f, -0.015625f, 0.0f};
    for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], expected[i]) << "element " << i;
}

TEST(Mxfp4, RowDecodesBlocksInOrder) {
    std::vector<uint8_t> codes(3 * 16), scales = {126, 127, 128};
    for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i * 37 + 11);
    std::vector<float> row(96);
    decode_mxfp4_row(codes.data(), scales.data(), 3, row.data());
    for (int g = 0; g < 3; ++g) {
        float block[32];
        decode_mxfp4_block(&codes[g * 16], scales[g], block);
        for (int i = 0; i < 32; ++i) EXPECT_EQ(row[g * 32 + i], block[i]);
    }
}

// The kernels decode MXFP4 inside their multiply loop; a one-hot input reads back single decoded weights.
TEST(Mxfp4, KernelDecodeMatchesReferenceForEveryByteAndScale) {
    // Row r: every code byte = r; block scales cycle through 0..252 (above 252, 6 * 2^(s - 127) overflows
    // float32 and a one-hot product would read inf * 0).
    const int rows = 256, cols = 64;
    std::vector<uint8_t> codes(rows * (cols / 32) * 16), scales(rows * (cols / 32));
    for (int r = 0; r < rows; ++r) {
        for (int g = 0; g < cols / 32; ++g) {
            scales[r * 2 + g] = static_cast<uint8_t>((r * 7 + g * 101) % 253);
            for (int j = 0; j < 16; ++j) codes[(r * 2 + g) * 16 + j] = static_cast<uint8_t>(r);
        }
    }
    cpu::kernels::WeightMatrix w;
    w.format = cpu::kernels::WeightMatrix::Format::kMXFP4;
    w.blocks = codes.data();
    w.scales = scales.data();
    w.rows = rows;
    w.cols = cols;
    for (int c : {0, 1, 30, 33, 63}) {
        for (int num_tokens : {1, 9}) {  // read straight from the packed rows, and via a decoded panel
            std::vector<float> x(num_tokens * cols, 0.0f), y(num_tokens * rows);
            for (int t = 0; t < num_tokens; ++t) x[t * cols + c] = 1.0f;
            cpu::kernels::matmul_rows(x.data(), num_tokens, w, nullptr, 0, rows, y.data(), rows);
            for (int r = 0; r < rows; ++r) {
                float block[32];
                decode_mxfp4_block(&codes[(r * 2 + c / 32) * 16], scales[r * 2 + c / 32], block);
                for (int t = 0; t < num_tokens; ++t) {
                    ASSERT_EQ(y[t * rows + r], block[c % 32]) << "row " << r << " col " << c;
                }
            }
        }
    }
}

}  // namespace
}  // namespace gptoss
