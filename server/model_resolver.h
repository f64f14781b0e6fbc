// Finds the checkpoint folder `gptoss serve --model` names: a folder path, or a Hugging Face id looked up in
// the local Hugging Face cache. Never downloads.
//
// Cache location, as huggingface_hub resolves it: $HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. An id "org/name" lives in
// models--org--name/snapshots/<revision>/; the revision is the one refs/main names when that file exists,
// otherwise the most recently modified snapshot holding a config.json.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gptoss {

class ModelResolveError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HfCacheEnvironment {
    std::optional<std::string> hf_hub_cache, hf_home, xdg_cache_home, home;
    static HfCacheEnvironment from_process();  // reads the variables above from the environment
    std::filesystem::path hub_dir() const;
};

struct ResolvedModel {
    std::filesystem::path dir;  // holds config.json
    std::string name;           // default served model name: the HF id, or the folder's name
};

// spec: --model's value; empty = the bundled demo model in demo_dir. Throws ModelResolveError naming every
// place it looked.
ResolvedModel resolve_model(const std::string& spec, const std::filesystem::path& demo_dir,
                            const HfCacheEnvironment& env);

}  // namespace gptoss
