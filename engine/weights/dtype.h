// Element types of checkpoint tensors and the bf16 <-> float conversions every module shares.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace gptoss {

enum class DType { kBF16, kF16, kF32, kU8, kI8, kI32, kI64, kF64, kBool };

std::string_view dtype_name(DType dtype);  // safetensors spelling: "BF16", "U8", ...
size_t dtype_size(DType dtype);

// bf16 is the top half of an IEEE float32.
inline float bf16_to_float(uint16_t bits) {
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

// Round to nearest even, as PyTorch does; NaN stays NaN.
inline uint16_t float_to_bf16(float value) {
    uint32_t u = std::bit_cast<uint32_t>(value);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

}  // namespace gptoss
