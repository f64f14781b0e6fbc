#include "engine/weights/safetensors_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/weights/model_weights.h"

namespace gptoss {

uint64_t SafetensorsTensorSpec::nbytes() const {
    uint64_t n = dtype_size(dtype);
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

namespace {

constexpr size_t kStageBytes = size_t{64} << 20;
constexpr size_t kDirectAlign = 4096;  // O_DIRECT: buffer address, size and file offset

}  // namespace

void SafetensorsWriter::FreeDeleter::operator()(uint8_t* p) const {
    std::free(p);
}

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& path,
                                     std::vector<SafetensorsTensorSpec> tensors,
                                     const std::map<std::string, std::string>& metadata, bool direct_io)
    : path_(path.string()) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    for (const auto& t : tensors) {
        const uint64_t n = t.nbytes();
        header[t.name] = {{"dtype", dtype_name(t.dtype)},
                          {"shape", t.shape},
                          {"data_offsets", {data_bytes_, data_bytes_ + n}}};
        data_bytes_ += n;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // 8-byte aligned data section
    data_offset_ = 8 + text.size();

    if (direct_io) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
        if (fd_ >= 0) {
            stage_.reset(static_cast<uint8_t*>(std::aligned_alloc(kDirectAlign, kStageBytes)));
            direct_ = stage_ != nullptr;
            if (!direct_) ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT);
        }
    }
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw WeightsError(fmt::format("{}: cannot create the file: {}", path_, std::strerror(errno)));
    uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(text.size() >> (8 * i));
    append(length, sizeof length);
    append(text.data(), text.size());
}

SafetensorsWriter::~SafetensorsWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void SafetensorsWriter::write_all(const void* data, size_t bytes) {
    const char* p = static_cast<const char*>(data);
    while (bytes > 0) {
        ssize_t n = ::write(fd_, p, bytes);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw WeightsError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
        p += n;
        bytes -= static_cast<size_t>(n);
    }
}

void SafetensorsWriter::append(const void* data, size_t bytes) {
    if (!direct_) {
        write_all(data, bytes);
        return;
    }
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (bytes > 0) {
        const size_t n = std::min(bytes, kStageBytes - staged_);
        std::memcpy(stage_.get() + staged_, p, n);
        staged_ += n;
        p += n;
        bytes -= n;
        if (staged_ == kStageBytes) {
            write_all(stage_.get(), kStageBytes);
            staged_ = 0;
        }
    }
}

void SafetensorsWriter::write(const void* data, size_t bytes) {
    if (written_ + bytes > data_bytes_) {
        throw WeightsError(
            fmt::format("{}: more data than the header declares ({} bytes)", path_, data_bytes_));
    }
    append(data, bytes);
    written_ += bytes;
}

void SafetensorsWriter::finish() {
    if (written_ != data_bytes_) {
        throw WeightsError(fmt::format("{}: {} of {} data bytes written", path_, written_, data_bytes_));
    }
    if (direct_) {  // whole blocks directly, then the tail through the page cache
        const size_t aligned = staged_ / kDirectAlign * kDirectAlign;
        write_all(stage_.get(), aligned);
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT);
        write_all(stage_.get() + aligned, staged_ - aligned);
        staged_ = 0;
    }
    if (::close(fd_) != 0) {
        fd_ = -1;
        throw WeightsError(fmt::format("{}: close failed: {}", path_, std::strerror(errno)));
    }
    fd_ = -1;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<SafetensorsTensor>& tensors) {
    std::vector<SafetensorsTensorSpec> specs;
    for (const auto& t : tensors) specs.push_back(t.spec);
    SafetensorsWriter writer(path, specs);
    for (const auto& t : tensors) writer.write(t.data, t.spec.nbytes());
    writer.finish();
}

}  // namespace gptoss
