#include "tests/docker/deploy_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "tests/support/fixture.h"

namespace gptoss::testing {

namespace {

std::string trim(const std::string& s) {
    size_t begin = s.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return "";
    size_t end = s.find_last_not_of(" \t\r");
    return s.substr(begin, end - begin + 1);
}

}  // namespace

std::filesystem::path source_dir() {
    return GPTOSS_SOURCE_DIR;
}

std::filesystem::path docker_dir() {
    return source_dir() / "docker";
}

std::string YamlDocument::where() const {
    return std::filesystem::relative(file, source_dir()).string() + "#" + std::to_string(index);
}

std::vector<YamlDocument> load_yaml_documents(const std::filesystem::path& path) {
    std::vector<YAML::Node> nodes;
    try {
        nodes = YAML::LoadAll(read_file(path));
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(path.string() + ": " + e.what());
    }
    std::vector<YamlDocument> out;
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].IsNull()) continue;  // an empty document (a trailing ---)
        out.push_back({path, static_cast<int>(i), nodes[i]});
    }
    return out;
}

std::vector<YamlDocument> load_k8s_documents() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(docker_dir() / "k8s")) {
        auto ext = entry.path().extension();
        if ((ext == ".yaml" || ext == ".yml") && entry.path().filename() != kAdapterValuesFile) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<YamlDocument> out;
    for (const auto& file : files) {
        for (auto& doc : load_yaml_documents(file)) out.push_back(std::move(doc));
    }
    return out;
}

YAML::Node only_of_kind(const std::vector<YamlDocument>& documents, const std::string& kind) {
    YAML::Node found;
    int count = 0;
    for (const auto& doc : documents) {
        if (doc.node["kind"] && doc.node["kind"].as<std::string>() == kind) {
            found = doc.node;
            ++count;
        }
    }
    if (count != 1) {
        ADD_FAILURE() << "expected exactly one " << kind << " in docker/k8s, found " << count;
        return YAML::Node(YAML::NodeType::Null);
    }
    return found;
}

std::vector<std::vector<std::string>> markdown_code_blocks(const std::string& markdown,
                                                           const std::string& language) {
    std::vector<std::vector<std::string>> blocks;
    std::istringstream in(markdown);
    bool inside = false;
    bool wanted = false;
    for (std::string line; std::getline(in, line);) {
        std::string t = trim(line);
        if (t.rfind("```", 0) == 0) {
            if (!inside) {
                inside = true;
                wanted = trim(t.substr(3)) == language;
                if (wanted) blocks.emplace_back();
            } else {
                inside = false;
            }
            continue;
        }
        if (inside && wanted && !t.empty() && t.front() != '#') blocks.back().push_back(t);
    }
    return blocks;
}

EnvMap k8s_literal_env(const YAML::Node& container) {
    EnvMap out;
    for (const auto& entry : container["env"]) {
        if (entry["value"]) out[entry["name"].as<std::string>()] = entry["value"].as<std::string>();
    }
    return out;
}

std::vector<std::string> k8s_env_names(const YAML::Node& container) {
    std::vector<std::string> out;
    for (const auto& entry : container["env"]) out.push_back(entry["name"].as<std::string>());
    return out;
}

std::string compose_unescape(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        out += text[i];
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') ++i;
    }
    return out;
}

EnvMap compose_environment(const YAML::Node& service) {
    EnvMap out;
    const YAML::Node environment = service["environment"];
    if (!environment) return out;
    if (environment.IsMap()) {
        for (const auto& item : environment) {
            out[item.first.as<std::string>()] = compose_unescape(item.second.as<std::string>());
        }
    } else {
        for (const auto& item : environment) {
            std::string entry = item.as<std::string>();
            size_t eq = entry.find('=');
            if (eq == std::string::npos) continue;  // NAME alone: taken from the host, not set here
            out[entry.substr(0, eq)] = compose_unescape(entry.substr(eq + 1));
        }
    }
    return out;
}

EnvMap overlay(EnvMap a, const EnvMap& b) {
    for (const auto& [name, value] : b) a[name] = value;
    return a;
}

}  // namespace gptoss::testing
