#include "server/batch_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "server/routes.h"

namespace gptoss {

namespace fs = std::filesystem;

namespace {

// Writes `content` to `path` so that a reader (or a restart after a crash) sees the old or the new bytes.
void write_atomically(const fs::path& path, std::string_view content) {
    const fs::path tmp = path.string() + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw std::runtime_error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
    size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int error = errno;
            ::close(fd);
            throw std::runtime_error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(error)));
        }
        written += static_cast<size_t>(n);
    }
    bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) throw std::runtime_error(fmt::format("cannot sync {}", tmp.string()));
    fs::rename(tmp, path);
}

std::optional<nlohmann::json> read_json(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

std::string id_suffix(const std::string& batch_id) {
    return batch_id.substr(batch_id.find('_') + 1);
}

}  // namespace

bool is_store_id(std::string_view id) {
    std::string_view hex;
    for (std::string_view prefix : {"file-out-", "file-err-", "file-", "batch_"}) {
        if (id.substr(0, prefix.size()) == prefix) {
            hex = id.substr(prefix.size());
            break;
        }
    }
    return hex.size() == 32 && std::all_of(hex.begin(), hex.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string batch_output_file_id(const std::string& batch_id) {
    return "file-out-" + id_suffix(batch_id);
}

std::string batch_error_file_id(const std::string& batch_id) {
    return "file-err-" + id_suffix(batch_id);
}

BatchStore::BatchStore(fs::path dir) : dir_(std::move(dir)) {
    std::error_code error;
    fs::create_directories(dir_ / "files", error);
    if (!error) fs::create_directories(dir_ / "batches", error);
    if (error) {
        throw std::runtime_error(fmt::format("cannot create the batch folder {}: {} (set --batch-dir)",
                                             dir_.string(), error.message()));
    }
}

fs::path BatchStore::content_path(const std::string& id) const {
    return dir_ / "files" / (id + ".jsonl");
}

fs::path BatchStore::file_meta_path(const std::string& id) const {
    return dir_ / "files" / (id + ".json");
}

fs::path BatchStore::batch_path(const std::string& id) const {
    return dir_ / "batches" / (id + ".json");
}

nlohmann::json BatchStore::create_file(const std::string& filename, const std::string& purpose,
                                       std::string_view content) {
    const std::string id = random_id("file-");
    write_atomically(content_path(id), content);
    return register_file(id, filename, purpose);
}

nlohmann::json BatchStore::register_file(const std::string& id, const std::string& filename,
                                         const std::string& purpose) {
    std::error_code error;
    const auto bytes = fs::file_size(content_path(id), error);
    nlohmann::json file = {{"id", id},
                           {"object", "file"},
                           {"bytes", error ? 0 : bytes},
                           {"created_at", static_cast<int64_t>(std::time(nullptr))},
                           {"filename", filename},
                           {"purpose", purpose},
                           {"status", "processed"},
                           {"expires_at", nullptr},
                           {"status_details", nullptr}};
    std::lock_guard lock(mutex_);
    write_atomically(file_meta_path(id), file.dump());
    return file;
}

std::optional<nlohmann::json> BatchStore::file(const std::string& id) const {
    if (!is_store_id(id)) return std::nullopt;
    std::lock_guard lock(mutex_);
    return read_json(file_meta_path(id));
}

bool BatchStore::delete_file(const std::string& id) {
    if (!is_store_id(id)) return false;
    std::lock_guard lock(mutex_);
    if (!fs::exists(file_meta_path(id))) return false;
    fs::remove(file_meta_path(id));
    fs::remove(content_path(id));
    return true;
}

void BatchStore::save_batch(const nlohmann::json& batch) {
    std::lock_guard lock(mutex_);
    write_atomically(batch_path(batch.at("id").get<std::string>()), batch.dump());
}

std::optional<nlohmann::json> BatchStore::batch(const std::string& id) const {
    if (!is_store_id(id)) return std::nullopt;
    std::lock_guard lock(mutex_);
    return read_json(batch_path(id));
}

std::vector<nlohmann::json> BatchStore::batches() const {
    std::lock_guard lock(mutex_);
    std::vector<nlohmann::json> all;
    for (const auto& entry : fs::directory_iterator(dir_ / "batches")) {
        if (entry.path().extension() != ".json") continue;
        if (auto batch = read_json(entry.path()); batch && batch->contains("id"))
            all.push_back(std::move(*batch));
    }
    // Newest first; ids break ties so that `after` pagination is stable.
    std::sort(all.begin(), all.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
        auto key = [](const nlohmann::json& j) {
            return std::make_pair(j.value("created_at", int64_t{0}), j.value("id", std::string()));
        };
        return key(a) > key(b);
    });
    return all;
}

}  // namespace gptoss
