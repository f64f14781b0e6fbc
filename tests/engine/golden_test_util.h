// Helpers for the golden-logit tests: reading float32/int32 tensors of a golden safetensors file, and the
// per-position relative L2 error.
#pragma once

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/weights/model_weights.h"
#include "engine/weights/safetensors.h"

namespace gptoss::testing {

class GoldenFile {
public:
    explicit GoldenFile(const std::filesystem::path& path) : archive_(SafetensorsArchive::open(path)) {}

    // Names of the cases ("p_one", ...): every tensor "<case>.input_ids".
    std::vector<std::string> cases() const {
        std::vector<std::string> names;
        const std::string suffix = ".input_ids";
        for (const auto& e : archive_->entries()) {
            if (e.name.size() > suffix.size() && e.name.ends_with(suffix)) {
                names.push_back(e.name.substr(0, e.name.size() - suffix.size()));
            }
        }
        return names;
    }
    bool has(const std::string& name) const { return archive_->find(name) != nullptr; }
    template <class T>
    std::vector<T> read(const std::string& name, std::vector<int64_t>* shape = nullptr) const {
        const SafetensorsEntry* e = archive_->find(name);
        if (!e) throw std::runtime_error("golden file has no tensor " + name);
        if (dtype_size(e->dtype) != sizeof(T)) throw std::runtime_error("unexpected dtype of " + name);
        if (shape) *shape = e->shape;
        std::vector<T> values((e->end - e->begin) / sizeof(T));
        std::memcpy(values.data(), archive_->data_begin() + e->begin, e->end - e->begin);
        return values;
    }

private:
    std::unique_ptr<SafetensorsArchive> archive_;
};

// ||a - b|| / ||b|| over n values.
inline double relative_l2(const float* a, const float* b, size_t n) {
    double diff = 0, ref = 0;
    for (size_t i = 0; i < n; ++i) {
        diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        ref += double(b[i]) * b[i];
    }
    return std::sqrt(diff / ref);
}

}  // namespace gptoss::testing
