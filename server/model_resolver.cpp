#include "server/model_resolver.h"

#include <cctype>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

namespace gptoss {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> env_var(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

bool has_config(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "config.json", ec);
}

// "org/name" or "name": no path syntax, at most one slash, no "." / ".." parts.
bool looks_like_hub_id(const std::string& spec) {
    if (spec.empty() || spec.front() == '/' || spec.front() == '.' || spec.front() == '~') return false;
    size_t slash = spec.find('/');
    if (slash != std::string::npos && spec.find('/', slash + 1) != std::string::npos) return false;
    for (char c : spec) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
        if (!ok) return false;
    }
    return true;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

// The snapshot folder of a cached repo, or nullopt; `looked` collects the paths tried.
std::optional<fs::path> find_snapshot(const fs::path& repo_dir, std::vector<std::string>& looked) {
    std::error_code ec;
    fs::path snapshots = repo_dir / "snapshots";
    std::ifstream ref(repo_dir / "refs" / "main");
    std::string revision;
    if (ref && std::getline(ref, revision) && !trim(revision).empty()) {
        fs::path dir = snapshots / trim(revision);
        looked.push_back(dir.string());
        if (has_config(dir)) return dir;
    }
    std::optional<fs::path> newest;
    fs::file_time_type newest_time{};
    if (fs::is_directory(snapshots, ec)) {
        for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
            if (!has_config(entry.path())) continue;
            auto t = fs::last_write_time(entry.path(), ec);
            if (!newest || t > newest_time) newest = entry.path(), newest_time = t;
        }
    }
    if (!newest) looked.push_back((snapshots / "*").string());
    return newest;
}

}  // namespace

HfCacheEnvironment HfCacheEnvironment::from_process() {
    return {env_var("HF_HUB_CACHE"), env_var("HF_HOME"), env_var("XDG_CACHE_HOME"), env_var("HOME")};
}

fs::path HfCacheEnvironment::hub_dir() const {
    if (hf_hub_cache) return *hf_hub_cache;
    if (hf_home) return fs::path(*hf_home) / "hub";
    if (xdg_cache_home) return fs::path(*xdg_cache_home) / "huggingface" / "hub";
    return fs::path(home.value_or("")) / ".cache" / "huggingface" / "hub";
}

ResolvedModel resolve_model(const std::string& spec, const fs::path& demo_dir,
                            const HfCacheEnvironment& env) {
    std::error_code ec;
    if (spec.empty()) {
        if (!has_config(demo_dir)) {
            throw ModelResolveError(fmt::format(
                "no --model given and the bundled demo model is missing ({} has no config.json); build the "
                "gptoss_demo_model target or pass --model",
                demo_dir.string()));
        }
        return {demo_dir, demo_dir.filename().string()};
    }
    std::vector<std::string> looked;
    fs::path as_path(spec);
    if (fs::is_directory(as_path, ec)) {
        if (!has_config(as_path)) {
            throw ModelResolveError(fmt::format("--model '{}': the folder has no config.json", spec));
        }
        fs::path canonical = fs::weakly_canonical(as_path, ec);
        return {as_path, (ec ? as_path : canonical).filename().string()};
    }
    looked.push_back(fs::absolute(as_path, ec).string() + " (as a folder)");
    if (looks_like_hub_id(spec)) {
        std::string repo = "models--" + spec;
        for (size_t i = 0; (i = repo.find('/', i)) != std::string::npos;) repo.replace(i, 1, "--");
        fs::path repo_dir = env.hub_dir() / repo;
        if (auto snapshot = find_snapshot(repo_dir, looked)) return {*snapshot, spec};
    }
    std::string places;
    for (const auto& p : looked) places += "\n  " + p;
    throw ModelResolveError(fmt::format(
        "--model '{}' is neither a checkpoint folder nor a model in the local Hugging Face cache (hub: {}; "
        "set HF_HUB_CACHE or HF_HOME to use another). gptoss never downloads: fetch it first, e.g. "
        "`huggingface-cli download {}`. Looked in:{}",
        spec, env.hub_dir().string(), spec, places));
}

}  // namespace gptoss
