// Reading safetensors files: header parsing with full validation, and memory-mapped archives.
//
// Layout: 8-byte little-endian header length N, N bytes of JSON ({name: {"dtype", "shape", "data_offsets"}},
// optional "__metadata__"), then the data section; offsets are relative to the start of the data section.
// Every check a malformed or lying file could fail is made here, before any tensor byte is touched: the
// header length is sane, the JSON is valid, dtypes are known, shapes are non-negative, each tensor's byte
// range lies inside the data section and equals numel * element size, and no two ranges overlap. Errors throw
// WeightsError whose message names the file and, where one is at fault, the tensor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/weights/dtype.h"
#include "engine/weights/model_weights.h"

namespace gptoss {

// Headers larger than this are refused (the safetensors format's own limit is 100 MB).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

struct SafetensorsEntry {
    std::string name;
    DType dtype = DType::kU8;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // byte offsets within the data section
    uint64_t end = 0;
};

// Parses and validates the JSON header of a file whose data section holds `data_bytes` bytes. `file_name`
// is used in error messages. Entries come back in the order of their data offsets.
std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view header_json, uint64_t data_bytes,
                                                       std::string_view file_name);

// Parses a whole safetensors file image (length prefix + header + data) held in memory; for small files
// and the fuzz target. Returns the entries; the data section starts at 8 + header length.
std::vector<SafetensorsEntry> parse_safetensors_image(std::string_view image, std::string_view file_name,
                                                      uint64_t* data_offset = nullptr);

// One memory-mapped safetensors file. Views into it stay valid while the archive lives.
class SafetensorsArchive {
public:
    // Maps the file read-only and validates its header; throws WeightsError on any problem.
    static std::unique_ptr<SafetensorsArchive> open(const std::filesystem::path& path);
    ~SafetensorsArchive();
    SafetensorsArchive(const SafetensorsArchive&) = delete;
    SafetensorsArchive& operator=(const SafetensorsArchive&) = delete;

    const std::filesystem::path& path() const { return path_; }
    uint64_t file_bytes() const { return file_bytes_; }
    const std::vector<SafetensorsEntry>& entries() const { return entries_; }
    // nullptr when the file has no tensor of that name.
    const SafetensorsEntry* find(std::string_view name) const;
    // A typed view of one entry (points into the mapping).
    TensorView view(const SafetensorsEntry& entry) const;

    // Reads every page of the data section into memory once (so the first forward pass does not stall on
    // disk), calling `on_bytes(n)` as chunks complete.
    void prefault(const std::function<void(uint64_t)>& on_bytes) const;
    const uint8_t* data_begin() const { return base_ + data_offset_; }
    uint64_t data_bytes() const { return file_bytes_ - data_offset_; }

private:
    SafetensorsArchive() = default;
    std::filesystem::path path_;
    const uint8_t* base_ = nullptr;  // the whole file, mapped
    uint64_t file_bytes_ = 0;
    uint64_t data_offset_ = 0;  // 8 + header length
    std::vector<SafetensorsEntry> entries_;
    std::vector<size_t> by_name_;  // indices into entries_, sorted by name
};

}  // namespace gptoss
