#include "engine/weights/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace gptoss {

namespace {

using nlohmann::json;

[[noreturn]] void fail(std::string_view file, const std::string& message) {
    throw WeightsError(fmt::format("{}: {}", file, message));
}

[[noreturn]] void fail_tensor(std::string_view file, std::string_view tensor, const std::string& message) {
    throw WeightsError(fmt::format("{}: tensor '{}': {}", file, tensor, message));
}

std::optional<DType> parse_dtype(std::string_view name) {
    static constexpr DType kAll[] = {DType::kBF16, DType::kF16, DType::kF32, DType::kU8,  DType::kI8,
                                     DType::kI32,  DType::kI64, DType::kF64, DType::kBool};
    for (DType d : kAll) {
        if (dtype_name(d) == name) return d;
    }
    return std::nullopt;
}

uint64_t read_offset(const json& value, std::string_view file, std::string_view tensor) {
    if (!value.is_number_unsigned()) {
        fail_tensor(file, tensor, "data_offsets must hold two non-negative integers");
    }
    return value.get<uint64_t>();
}

SafetensorsEntry parse_entry(const std::string& name, const json& spec, uint64_t data_bytes,
                             std::string_view file) {
    if (!spec.is_object()) fail_tensor(file, name, "the header entry is not an object");
    SafetensorsEntry e;
    e.name = name;

    auto dtype_it = spec.find("dtype");
    if (dtype_it == spec.end() || !dtype_it->is_string())
        fail_tensor(file, name, "missing string field 'dtype'");
    auto dtype = parse_dtype(dtype_it->get_ref<const std::string&>());
    if (!dtype) {
        fail_tensor(file, name,
                    fmt::format("unsupported dtype '{}'", dtype_it->get_ref<const std::string&>()));
    }
    e.dtype = *dtype;

    auto shape_it = spec.find("shape");
    if (shape_it == spec.end() || !shape_it->is_array())
        fail_tensor(file, name, "missing array field 'shape'");
    uint64_t numel = 1;
    bool overflow = false;
    for (const json& dim : *shape_it) {
        if (!dim.is_number_unsigned() || dim.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
            fail_tensor(file, name, "shape must hold non-negative integers");
        }
        uint64_t d = dim.get<uint64_t>();
        e.shape.push_back(static_cast<int64_t>(d));
        overflow |= __builtin_mul_overflow(numel, d, &numel);
    }
    uint64_t nbytes = 0;
    overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(e.dtype)), &nbytes);

    auto offsets_it = spec.find("data_offsets");
    if (offsets_it == spec.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
        fail_tensor(file, name, "missing field 'data_offsets' [begin, end]");
    }
    e.begin = read_offset((*offsets_it)[0], file, name);
    e.end = read_offset((*offsets_it)[1], file, name);
    if (e.begin > e.end) {
        fail_tensor(file, name, fmt::format("data_offsets [{}, {}] end before they begin", e.begin, e.end));
    }
    if (e.end > data_bytes) {
        fail_tensor(file, name,
                    fmt::format("data_offsets [{}, {}] reach past the end of the data section ({} bytes); "
                                "the file is truncated or its header is wrong",
                                e.begin, e.end, data_bytes));
    }
    if (overflow || e.end - e.begin != nbytes) {
        fail_tensor(
            file, name,
            fmt::format("data_offsets [{}, {}] span {} bytes but dtype {} and shape [{}] need {}", e.begin,
                        e.end, e.end - e.begin, dtype_name(e.dtype), fmt::join(e.shape, ", "),
                        overflow ? std::string("more than 2^64") : std::to_string(nbytes)));
    }
    return e;
}

}  // namespace

std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view header_json, uint64_t data_bytes,
                                                       std::string_view file_name) {
    json doc = json::parse(header_json.begin(), header_json.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) fail(file_name, "the safetensors header is not valid JSON");
    if (!doc.is_object()) fail(file_name, "the safetensors header is not a JSON object");

    std::vector<SafetensorsEntry> entries;
    entries.reserve(doc.size());
    for (const auto& [name, spec] : doc.items()) {
        if (name == "__metadata__") {
            if (!spec.is_object() && !spec.is_null()) fail(file_name, "__metadata__ is not an object");
            continue;
        }
        entries.push_back(parse_entry(name, spec, data_bytes, file_name));
    }
    std::sort(entries.begin(), entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    // Ranges must not overlap (empty tensors occupy no bytes and may share an offset).
    for (size_t i = 1; i < entries.size(); ++i) {
        const SafetensorsEntry& prev = entries[i - 1];
        const SafetensorsEntry& cur = entries[i];
        if (cur.begin < prev.end) {
            fail_tensor(file_name, cur.name,
                        fmt::format("data_offsets [{}, {}] overlap tensor '{}' at [{}, {}]", cur.begin,
                                    cur.end, prev.name, prev.begin, prev.end));
        }
    }
    return entries;
}

std::vector<SafetensorsEntry> parse_safetensors_image(std::string_view image, std::string_view file_name,
                                                      uint64_t* data_offset) {
    if (image.size() < 8) {
        fail(file_name, fmt::format("{} bytes is too small for a safetensors file (it needs an 8-byte header "
                                    "length first)",
                                    image.size()));
    }
    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | static_cast<uint8_t>(image[i]);
    if (header_bytes > kMaxSafetensorsHeaderBytes) {
        fail(file_name, fmt::format("the header length {} is larger than the {} byte limit; this is not a "
                                    "safetensors file or it is corrupt",
                                    header_bytes, kMaxSafetensorsHeaderBytes));
    }
    if (header_bytes > image.size() - 8) {
        fail(file_name,
             fmt::format("the header length {} runs past the end of the file ({} bytes); the file is "
                         "truncated",
                         header_bytes, image.size()));
    }
    uint64_t offset = 8 + header_bytes;
    if (data_offset) *data_offset = offset;
    return parse_safetensors_header(image.substr(8, header_bytes), image.size() - offset, file_name);
}

std::unique_ptr<SafetensorsArchive> SafetensorsArchive::open(const std::filesystem::path& path) {
    const std::string name = path.string();
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(name, fmt::format("cannot open: {}", std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(name, "not a regular file");
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size < 8) {
        ::close(fd);
        fail(name, fmt::format("{} bytes is too small for a safetensors file", size));
    }
    void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (base == MAP_FAILED) fail(name, fmt::format("cannot map the file: {}", std::strerror(errno)));

    std::unique_ptr<SafetensorsArchive> archive(new SafetensorsArchive());
    archive->path_ = path;
    archive->base_ = static_cast<const uint8_t*>(base);
    archive->file_bytes_ = size;
    archive->entries_ = parse_safetensors_image(
        std::string_view(reinterpret_cast<const char*>(archive->base_), size), name, &archive->data_offset_);
    archive->by_name_.resize(archive->entries_.size());
    for (size_t i = 0; i < archive->by_name_.size(); ++i) archive->by_name_[i] = i;
    std::sort(archive->by_name_.begin(), archive->by_name_.end(),
              [&](size_t a, size_t b) { return archive->entries_[a].name < archive->entries_[b].name; });
    return archive;
}

SafetensorsArchive::~SafetensorsArchive() {
    if (base_) ::munmap(const_cast<uint8_t*>(base_), file_bytes_);
}

const SafetensorsEntry* SafetensorsArchive::find(std::string_view name) const {
    auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                               [&](size_t i, std::string_view n) { return entries_[i].name < n; });
    if (it == by_name_.end() || entries_[*it].name != name) return nullptr;
    return &entries_[*it];
}

TensorView SafetensorsArchive::view(const SafetensorsEntry& entry) const {
    TensorView v;
    v.name = entry.name;
    v.dtype = entry.dtype;
    v.shape = entry.shape;
    v.data = data_begin() + entry.begin;
    v.nbytes = entry.end - entry.begin;
    return v;
}

void SafetensorsArchive::prefault(const std::function<void(uint64_t)>& on_bytes) const {
    constexpr uint64_t kChunk = 64ull << 20;
    constexpr uint64_t kPage = 4096;
    const uint8_t* data = data_begin();
    uint64_t total = data_bytes();
    ::madvise(const_cast<uint8_t*>(base_), file_bytes_, MADV_WILLNEED);
    for (uint64_t begin = 0; begin < total; begin += kChunk) {
        uint64_t end = std::min(total, begin + kChunk);
        uint8_t sink = 0;
        for (uint64_t i = begin; i < end; i += kPage)
            sink ^= reinterpret_cast<const volatile uint8_t*>(data)[i];
        (void)sink;
        on_bytes(end - begin);
    }
}

}  // namespace gptoss
