// libFuzzer target: the safetensors header parser on arbitrary file images. It must either accept the image
// with every invariant the loader relies on, or throw WeightsError; never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/weights/model_weights.h"
#include "engine/weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view image(reinterpret_cast<const char*>(data), size);
    try {
        uint64_t data_offset = 0;
        const auto entries = gptoss::parse_safetensors_image(image, "fuzz.safetensors", &data_offset);
        if (data_offset > size) __builtin_trap();
        const uint64_t data_bytes = size - data_offset;
        uint64_t previous_end = 0;
        for (const auto& e : entries) {  // sorted by offset, inside the data section, exact sizes, disjoint
            uint64_t numel = 1;
            for (int64_t d : e.shape) {
                if (d < 0) __builtin_trap();
                numel *= static_cast<uint64_t>(d);
            }
            if (e.begin > e.end || e.end > data_bytes) __builtin_trap();
            if (e.end - e.begin != numel * gptoss::dtype_size(e.dtype)) __builtin_trap();
            if (e.begin < previous_end && e.end > e.begin) __builtin_trap();
            if (e.end > e.begin) previous_end = e.end;
        }
    } catch (const gptoss::WeightsError&) {
    }
    return 0;
}
