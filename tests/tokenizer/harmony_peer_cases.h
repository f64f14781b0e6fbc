// The harmony peer vectors in ../shared/peer/harmony: every case file of a kind, upstream and extra/.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/fixture.h"

namespace gptoss::testing {

// Sorted paths of peer/harmony/<kind>/*.json and peer/harmony/extra/<kind>/*.json (kind: "render", "parse").
inline std::vector<std::filesystem::path> harmony_peer_cases(const std::string& kind) {
    std::vector<std::filesystem::path> paths;
    const auto root = shared_dir() / "peer" / "harmony";
    for (const auto& dir : {root / kind, root / "extra" / kind}) {
        if (!std::filesystem::is_directory(dir)) continue;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (entry.path().extension() == ".json") paths.push_back(entry.path());
        }
    }
    std::sort(paths.begin(), paths.end());
    return paths;
}

// A case file with its key order kept (JSON schemas inside render in document order).
inline nlohmann::ordered_json read_ordered_json(const std::filesystem::path& path) {
    return nlohmann::ordered_json::parse(read_file(path));
}

// "render/11_render_functions_with_parameters" from its path, for test names and messages.
inline std::string case_name(const std::filesystem::path& path) {
    return path.parent_path().filename().string() + "/" + path.stem().string();
}

}  // namespace gptoss::testing
