// docker/k8s/: every manifest has the fields the API server requires for its kind, and the objects agree with
// each other (selectors, ports, names), with the image (uid, ENTRYPOINT, environment) and with serve (port,
// drain timeout, health and metrics endpoints). No kubectl here: this is the schema check we can run.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/docker/deploy_files.h"
#include "tests/docker/dockerfile.h"
#include "tests/docker/serve_flags.h"

namespace gptoss::testing {
namespace {

// The queue-depth gauge serve exports on /metrics (checked against a running server in
// serve_entrypoint_test.cpp).
constexpr const char* kQueueMetric = "gptoss:num_requests_waiting";

const std::map<std::string, std::string> kApiVersions = {
    {"Deployment", "apps/v1"},
    {"Service", "v1"},
    {"PersistentVolumeClaim", "v1"},
    {"HorizontalPodAutoscaler", "autoscaling/v2"},
    {"ServiceMonitor", "monitoring.coreos.com/v1"},
    {"Kustomization", "kustomize.config.k8s.io/v1beta1"},
};

bool is_dns_subdomain(const std::string& s) {
    static const std::regex re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
    return s.size() <= 253 && std::regex_match(s, re);
}

bool is_dns_label(const std::string& s) {
    static const std::regex re(R"([a-z0-9]([-a-z0-9]*[a-z0-9])?)");
    return s.size() <= 63 && std::regex_match(s, re);
}

bool is_label_key(const std::string& key) {
    static const std::regex name(R"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])");
    size_t slash = key.find('/');
    std::string n = slash == std::string::npos ? key : key.substr(slash + 1);
    if (slash != std::string::npos && !is_dns_subdomain(key.substr(0, slash))) return false;
    return n.size() <= 63 && std::regex_match(n, name);
}

bool is_label_value(const std::string& v) {
    static const std::regex re(R"((([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?)");
    return v.size() <= 63 && std::regex_match(v, re);
}

using Labels = std::map<std::string, std::string>;

Labels labels_of(const YAML::Node& map) {
    Labels out;
    if (!map) return out;
    for (const auto& item : map) out[item.first.as<std::string>()] = item.second.as<std::string>();
    return out;
}

// Every pair of `selector` is in `labels` (an empty selector selects nothing here).
bool selects(const Labels& selector, const Labels& labels) {
    if (selector.empty()) return false;
    for (const auto& [k, v] : selector) {
        auto it = labels.find(k);
        if (it == labels.end() || it->second != v) return false;
    }
    return true;
}

TEST(K8sManifests, EveryDocumentHasTheFieldsItsKindRequires) {
    auto documents = load_k8s_documents();
    ASSERT_FALSE(documents.empty());
    for (const auto& doc : documents) {
        SCOPED_TRACE(doc.where());
        const YAML::Node& n = doc.node;
        ASSERT_TRUE(n.IsMap());
        ASSERT_TRUE(n["kind"] && n["apiVersion"]) << "apiVersion and kind are required";
        std::string kind = n["kind"].as<std::string>();
        ASSERT_TRUE(kApiVersions.count(kind)) << "no checks for kind " << kind << ": add them here";
        EXPECT_EQ(n["apiVersion"].as<std::string>(), kApiVersions.at(kind));
        if (kind == "Kustomization") {
            EXPECT_TRUE(n["resources"] && n["resources"].IsSequence());
            continue;
        }
        ASSERT_TRUE(n["metadata"] && n["metadata"]["name"]) << "metadata.name is required";
        EXPECT_TRUE(is_dns_subdomain(n["metadata"]["name"].as<std::string>()));
        for (const auto& [k, v] : labels_of(n["metadata"]["labels"])) {
            EXPECT_TRUE(is_label_key(k) && is_label_value(v)) << k << "=" << v;
        }
        const YAML::Node spec = n["spec"];
        ASSERT_TRUE(spec && spec.IsMap()) << "spec is required";
        if (kind == "Deployment") {
            EXPECT_TRUE(spec["selector"]["matchLabels"]);
            EXPECT_TRUE(spec["template"]["metadata"]["labels"]);
            ASSERT_TRUE(spec["template"]["spec"]["containers"].IsSequence());
            for (const auto& c : spec["template"]["spec"]["containers"]) {
                EXPECT_TRUE(c["name"] && is_dns_label(c["name"].as<std::string>()));
                EXPECT_TRUE(c["image"] && !c["image"].as<std::string>().empty());
                for (const auto& p : c["ports"]) {
                    EXPECT_TRUE(p["containerPort"]);
                    if (p["name"]) {
                        EXPECT_LE(p["name"].as<std::string>().size(), 15u);
                    }
                }
            }
        } else if (kind == "Service") {
            ASSERT_TRUE(spec["ports"].IsSequence() && spec["ports"].size() >= 1);
            for (const auto& p : spec["ports"]) {
                EXPECT_TRUE(p["port"]);
                EXPECT_TRUE(p["name"]) << "name the port: the ServiceMonitor refers to it by name";
            }
        } else if (kind == "HorizontalPodAutoscaler") {
            EXPECT_TRUE(spec["scaleTargetRef"]["kind"] && spec["scaleTargetRef"]["name"]);
            EXPECT_TRUE(spec["maxReplicas"]);
        } else if (kind == "ServiceMonitor") {
            EXPECT_TRUE(spec["selector"] && spec["endpoints"].IsSequence());
        } else if (kind == "PersistentVolumeClaim") {
            EXPECT_TRUE(spec["accessModes"].IsSequence() && spec["accessModes"].size() >= 1);
            EXPECT_TRUE(spec["resources"]["requests"]["storage"]);
        }
    }
}

TEST(K8sManifests, KustomizationListsEveryManifest) {
    auto documents = load_k8s_documents();
    YAML::Node kustomization = only_of_kind(documents, "Kustomization");
    ASSERT_TRUE(kustomization);
    std::set<std::string> listed;
    for (const auto& r : kustomization["resources"]) listed.insert(r.as<std::string>());
    std::set<std::string> files;
    for (const auto& doc : documents) {
        if (doc.node["kind"].as<std::string>() != "Kustomization") files.insert(doc.file.filename().string());
    }
    EXPECT_EQ(listed, files);
}

class K8sDeploymentTest : public ::testing::Test {
protected:
    void SetUp() override {
        documents_ = load_k8s_documents();
        deployment_ = only_of_kind(documents_, "Deployment");
        service_ = only_of_kind(documents_, "Service");
        ASSERT_TRUE(deployment_ && service_);
        pod_ = deployment_["spec"]["template"];
        ASSERT_EQ(pod_["spec"]["containers"].size(), 1u);
        container_ = pod_["spec"]["containers"][0];
        // The image is the one compose builds from docker/Dockerfile.
        auto compose = load_yaml_documents(docker_dir() / "compose.yaml");
        std::string compose_image = compose[0].node["services"].begin()->second["image"].as<std::string>();
        ASSERT_EQ(container_["image"].as<std::string>(), compose_image);
        image_ = Dockerfile::load(docker_dir() / "Dockerfile");
    }

    ServerConfig server_config() const {
        std::vector<std::string> args;
        for (const auto& a : container_["args"]) args.push_back(a.as<std::string>());
        return effective_server_config(overlay(image_.stages.back().env(), k8s_literal_env(container_)),
                                       args);
    }

    // The containerPort a probe or Service refers to, by name or number; 0 when none matches.
    int container_port(const YAML::Node& ref) const {
        for (const auto& p : container_["ports"]) {
            int number = p["containerPort"].as<int>();
            if (ref.as<std::string>() == std::to_string(number)) return number;
            if (p["name"] && p["name"].as<std::string>() == ref.as<std::string>()) return number;
        }
        return 0;
    }

    std::vector<YamlDocument> documents_;
    YAML::Node deployment_, service_, pod_, container_;
    Dockerfile image_;
};

TEST_F(K8sDeploymentTest, SelectorMatchesThePodTemplate) {
    EXPECT_TRUE(selects(labels_of(deployment_["spec"]["selector"]["matchLabels"]),
                        labels_of(pod_["metadata"]["labels"])));
}

TEST_F(K8sDeploymentTest, RunsTheImageEntrypointOnTheServePort) {
    EXPECT_FALSE(container_["command"]) << "a command would replace the image's ENTRYPOINT (gptoss serve)";
    ServerConfig config = server_config();
    EXPECT_EQ(container_port(YAML::Node(std::to_string(config.port))), config.port)
        << "serve listens on " << config.port << ", which is no containerPort";
    EXPECT_EQ(config.host, "0.0.0.0");
}

TEST_F(K8sDeploymentTest, ProbesAskHealthOnTheServePort) {
    int port = server_config().port;
    for (const char* probe : {"startupProbe", "readinessProbe", "livenessProbe"}) {
        SCOPED_TRACE(probe);
        YAML::Node p = container_[probe];
        ASSERT_TRUE(p && p["httpGet"]);
        EXPECT_EQ(p["httpGet"]["path"].as<std::string>(), "/health");
        EXPECT_EQ(container_port(p["httpGet"]["port"]), port);
    }
    // The startup probe gives the model load minutes before liveness may restart the pod.
    YAML::Node startup = container_["startupProbe"];
    EXPECT_GE(startup["periodSeconds"].as<int>() * startup["failureThreshold"].as<int>(), 300);
}

TEST_F(K8sDeploymentTest, RequestsOneGpu) {
    YAML::Node resources = container_["resources"];
    ASSERT_TRUE(resources["limits"]["nvidia.com/gpu"]) << "extended resources are set in limits";
    EXPECT_GE(resources["limits"]["nvidia.com/gpu"].as<int>(), 1);
    if (resources["requests"]["nvidia.com/gpu"]) {
        EXPECT_EQ(resources["requests"]["nvidia.com/gpu"].as<int>(),
                  resources["limits"]["nvidia.com/gpu"].as<int>())
            << "Kubernetes rejects GPU requests that differ from the limits";
    }
}

TEST_F(K8sDeploymentTest, MountsTheModelVolumeWhereServeLooks) {
    std::string model = server_config().model;
    std::set<std::string> volumes;
    for (const auto& v : pod_["spec"]["volumes"]) volumes.insert(v["name"].as<std::string>());
    bool mounted = false;
    for (const auto& m : container_["volumeMounts"]) {
        EXPECT_TRUE(volumes.count(m["name"].as<std::string>())) << "undeclared volume " << m["name"];
        if (m["mountPath"].as<std::string>() != model) continue;
        mounted = true;
        EXPECT_TRUE(m["readOnly"] && m["readOnly"].as<bool>());
    }
    EXPECT_TRUE(mounted) << "nothing mounted at " << model;
    // The claim it mounts is the one in model-pvc.yaml.
    YAML::Node claim = only_of_kind(documents_, "PersistentVolumeClaim");
    ASSERT_TRUE(claim);
    bool claimed = false;
    for (const auto& v : pod_["spec"]["volumes"]) {
        claimed = claimed ||
                  (v["persistentVolumeClaim"] && v["persistentVolumeClaim"]["claimName"].as<std::string>() ==
                                                     claim["metadata"]["name"].as<std::string>());
    }
    EXPECT_TRUE(claimed);
}

TEST_F(K8sDeploymentTest, GracePeriodCoversPreStopAndDrain) {
    YAML::Node pre_stop = container_["lifecycle"]["preStop"];
    ASSERT_TRUE(pre_stop) << "without preStop, SIGTERM can arrive before the endpoints are removed";
    double sleep_seconds = 0;
    if (pre_stop["sleep"]) {
        sleep_seconds = pre_stop["sleep"]["seconds"].as<double>();
    } else {
        ASSERT_TRUE(pre_stop["exec"]["command"]);
        std::vector<std::string> command;
        for (const auto& w : pre_stop["exec"]["command"]) command.push_back(w.as<std::string>());
        ASSERT_EQ(command.size(), 2u);
        ASSERT_EQ(command[0], "sleep");
        sleep_seconds = std::stod(command[1]);
    }
    EXPECT_GE(sleep_seconds, 5) << "endpoint removal takes a few seconds to reach every proxy";
    ASSERT_TRUE(pod_["spec"]["terminationGracePeriodSeconds"]);
    double grace = pod_["spec"]["terminationGracePeriodSeconds"].as<double>();
    EXPECT_GT(grace, sleep_seconds + server_config().drain_timeout_seconds);
}

TEST_F(K8sDeploymentTest, RunsAsTheImagesNonRootUser) {
    YAML::Node security = pod_["spec"]["securityContext"];
    ASSERT_TRUE(security);
    EXPECT_TRUE(security["runAsNonRoot"].as<bool>());
    std::string user = image_.stages.back().find("USER").back()->arguments;
    EXPECT_EQ(security["runAsUser"].as<std::string>(), user.substr(0, user.find(':')));
}

TEST_F(K8sDeploymentTest, ServiceSelectsThePodsAndTargetsTheServePort) {
    EXPECT_TRUE(selects(labels_of(service_["spec"]["selector"]), labels_of(pod_["metadata"]["labels"])));
    int port = server_config().port;
    for (const auto& p : service_["spec"]["ports"]) {
        YAML::Node target = p["targetPort"] ? p["targetPort"] : p["port"];
        EXPECT_EQ(container_port(target), port) << "Service port " << p["name"] << " targets no serve port";
    }
}

TEST_F(K8sDeploymentTest, ServiceMonitorScrapesMetricsThroughTheService) {
    YAML::Node monitor = only_of_kind(documents_, "ServiceMonitor");
    ASSERT_TRUE(monitor);
    EXPECT_TRUE(selects(labels_of(monitor["spec"]["selector"]["matchLabels"]),
                        labels_of(service_["metadata"]["labels"])));
    std::set<std::string> port_names;
    for (const auto& p : service_["spec"]["ports"]) port_names.insert(p["name"].as<std::string>());
    ASSERT_GE(monitor["spec"]["endpoints"].size(), 1u);
    for (const auto& e : monitor["spec"]["endpoints"]) {
        EXPECT_TRUE(port_names.count(e["port"].as<std::string>()))
            << "endpoint port must name a Service port";
        EXPECT_EQ(e["path"].as<std::string>(), "/metrics");
    }
}

TEST_F(K8sDeploymentTest, AutoscalerScalesTheDeploymentOnTheQueueDepthServeExports) {
    YAML::Node hpa = only_of_kind(documents_, "HorizontalPodAutoscaler");
    ASSERT_TRUE(hpa);
    YAML::Node target = hpa["spec"]["scaleTargetRef"];
    EXPECT_EQ(target["apiVersion"].as<std::string>(), "apps/v1");
    EXPECT_EQ(target["kind"].as<std::string>(), "Deployment");
    EXPECT_EQ(target["name"].as<std::string>(), deployment_["metadata"]["name"].as<std::string>());
    int min_replicas = hpa["spec"]["minReplicas"] ? hpa["spec"]["minReplicas"].as<int>() : 1;
    EXPECT_GE(min_replicas, 1);
    EXPECT_GE(hpa["spec"]["maxReplicas"].as<int>(), min_replicas);
    ASSERT_EQ(hpa["spec"]["metrics"].size(), 1u);
    YAML::Node metric = hpa["spec"]["metrics"][0];
    ASSERT_EQ(metric["type"].as<std::string>(), "Pods") << "queue depth is a per-pod metric";
    std::string name = metric["pods"]["metric"]["name"].as<std::string>();
    EXPECT_EQ(metric["pods"]["target"]["type"].as<std::string>(), "AverageValue");
    EXPECT_TRUE(metric["pods"]["target"]["averageValue"]);

    // The Prometheus adapter serves that name from serve's gauge, per pod.
    auto values = load_yaml_documents(docker_dir() / "k8s" / kAdapterValuesFile);
    ASSERT_EQ(values.size(), 1u);
    int matching_rules = 0;
    for (const auto& rule : values[0].node["rules"]["custom"]) {
        if (rule["name"]["as"].as<std::string>() != name) continue;
        ++matching_rules;
        std::string series = rule["seriesQuery"].as<std::string>();
        EXPECT_EQ(series.substr(0, series.find('{')), kQueueMetric) << "the adapter must read serve's gauge";
        EXPECT_TRUE(std::regex_search(kQueueMetric, std::regex(rule["name"]["matches"].as<std::string>())));
        EXPECT_EQ(rule["resources"]["overrides"]["namespace"]["resource"].as<std::string>(), "namespace");
        EXPECT_EQ(rule["resources"]["overrides"]["pod"]["resource"].as<std::string>(), "pod");
        std::string query = rule["metricsQuery"].as<std::string>();
        EXPECT_NE(query.find("<<.Series>>{<<.LabelMatchers>>}"), std::string::npos) << query;
        EXPECT_NE(query.find("by (<<.GroupBy>>)"), std::string::npos) << query;
    }
    EXPECT_EQ(matching_rules, 1) << "no prometheus-adapter rule exposes " << name;
}

}  // namespace
}  // namespace gptoss::testing
