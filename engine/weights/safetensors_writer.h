// Writing safetensors files: the header is laid out from the tensor list up front, then the data section is
// streamed in that order with large sequential writes (so multi-GB checkpoints write at disk speed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/weights/dtype.h"

namespace gptoss {

struct SafetensorsTensorSpec {
    std::string name;
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;
    uint64_t nbytes() const;
};

class SafetensorsWriter {
public:
    // Creates `path` and writes the header (data offsets follow the order of `tensors`; the header is padded
    // with spaces to a multiple of 8 bytes). Throws WeightsError naming the file on I/O errors.
    // direct_io: bypass the page cache (O_DIRECT, staged through an aligned buffer) for multi-GB files, where
    // copying into the cache costs more CPU than the disk takes; falls back to buffered writes where the file
    // system refuses it.
    SafetensorsWriter(const std::filesystem::path& path, std::vector<SafetensorsTensorSpec> tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}},
                      bool direct_io = false);
    ~SafetensorsWriter();  // closes the file; an unfinished file is left truncated (finish() was not called)
    SafetensorsWriter(const SafetensorsWriter&) = delete;
    SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

    // Appends the next `bytes` of the data section (tensors back to back in order).
    void write(const void* data, size_t bytes);
    // Checks that exactly the declared bytes were written and closes the file.
    void finish();

    uint64_t data_bytes() const { return data_bytes_; }
    uint64_t file_bytes() const { return data_offset_ + data_bytes_; }

private:
    void append(const void* data, size_t bytes);  // through the stage when direct, else straight to the file
    void write_all(const void* data, size_t bytes);
    std::string path_;
    int fd_ = -1;
    bool direct_ = false;
    struct FreeDeleter {
        void operator()(uint8_t* p) const;
    };
    std::unique_ptr<uint8_t[], FreeDeleter> stage_;  // [kStageBytes], 4096-aligned
    size_t staged_ = 0;
    uint64_t data_offset_ = 0;
    uint64_t data_bytes_ = 0;
    uint64_t written_ = 0;
};

// A tensor held in memory, for small files (logits, test fixtures).
struct SafetensorsTensor {
    SafetensorsTensorSpec spec;
    const void* data = nullptr;  // spec.nbytes() bytes, little-endian
};
void write_safetensors(const std::filesystem::path& path, const std::vector<SafetensorsTensor>& tensors);

}  // namespace gptoss
