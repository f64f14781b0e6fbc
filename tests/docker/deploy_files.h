// The deployment files under docker/ and what the tests read from them: YAML documents (several per file
// allowed), the Kubernetes manifests by kind, the README's shell blocks, and the environment each of the
// Dockerfiles, compose.yaml and the Deployment gives `gptoss serve`.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace gptoss::testing {

using EnvMap = std::map<std::string, std::string>;

// The source tree (this checkout's root).
std::filesystem::path source_dir();
std::filesystem::path docker_dir();

struct YamlDocument {
    std::filesystem::path file;
    int index = 0;  // 0-based position in its file
    YAML::Node node;
    std::string where() const;  // "docker/k8s/x.yaml#0" for messages
};

// Every non-empty document of a YAML file; throws std::runtime_error naming the file on a syntax error.
std::vector<YamlDocument> load_yaml_documents(const std::filesystem::path& path);

// The Helm values file for prometheus-adapter: configuration, not a Kubernetes manifest.
inline constexpr const char* kAdapterValuesFile = "prometheus-adapter-values.yaml";

// Every document of docker/k8s/*.yaml except the adapter values.
std::vector<YamlDocument> load_k8s_documents();
// The one document of `kind` among them; fails the calling test (ADD_FAILURE) and returns a null node when
// there is none or more than one.
YAML::Node only_of_kind(const std::vector<YamlDocument>& documents, const std::string& kind);

// The lines of each fenced ```<language> block of a Markdown text, trimmed, blank and # comment lines
// dropped.
std::vector<std::vector<std::string>> markdown_code_blocks(const std::string& markdown,
                                                           const std::string& language);

// A container's literal `env` entries (valueFrom entries have no value here and are left out).
EnvMap k8s_literal_env(const YAML::Node& container);
// Every name a container's env sets, literal or valueFrom.
std::vector<std::string> k8s_env_names(const YAML::Node& container);
// compose `environment` in either syntax (map, or list of NAME=value).
EnvMap compose_environment(const YAML::Node& service);
// compose's interpolation escape: "$$" stands for "$".
std::string compose_unescape(const std::string& text);

// `a` overlaid with `b` (b wins).
EnvMap overlay(EnvMap a, const EnvMap& b);

}  // namespace gptoss::testing
