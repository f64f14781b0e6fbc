// BatchStore: the files and batches of the Batch API (/v1/files, /v1/batches) on disk, so that a restarted
// server finds them again:
//   <dir>/files/<file id>.json     the file object        <dir>/files/<file id>.jsonl  its bytes
//   <dir>/batches/<batch id>.json  the batch object, rewritten (write, fsync, rename) on every change
// A batch's output and error files have ids derived from the batch's, so a resumed batch appends to the same
// files; their file objects are written when the batch ends. Thread-safe.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gptoss {

class BatchStore {
public:
    // Creates the folders; throws std::runtime_error naming `dir` when it cannot.
    explicit BatchStore(std::filesystem::path dir);

    // Stores an upload and returns its file object.
    nlohmann::json create_file(const std::string& filename, const std::string& purpose,
                               std::string_view content);
    // Writes the file object of a file already at content_path(id) (a batch's output).
    nlohmann::json register_file(const std::string& id, const std::string& filename,
                                 const std::string& purpose);
    std::optional<nlohmann::json> file(const std::string& id) const;
    bool delete_file(const std::string& id);
    std::filesystem::path content_path(const std::string& id) const;

    void save_batch(const nlohmann::json& batch);
    std::optional<nlohmann::json> batch(const std::string& id) const;
    // Every batch, newest first.
    std::vector<nlohmann::json> batches() const;

private:
    std::filesystem::path file_meta_path(const std::string& id) const;
    std::filesystem::path batch_path(const std::string& id) const;

    std::filesystem::path dir_;
    mutable std::mutex mutex_;
};

// Ids are "file-…" / "batch_…" and 32 hex digits; anything else names nothing (and never a path).
bool is_store_id(std::string_view id);
// The ids of a batch's output and error files.
std::string batch_output_file_id(const std::string& batch_id);
std::string batch_error_file_id(const std::string& batch_id);

}  // namespace gptoss
