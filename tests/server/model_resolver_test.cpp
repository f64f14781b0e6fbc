#include "server/model_resolver.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

namespace gptoss {
namespace {

namespace fs = std::filesystem;

class ModelResolverTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() /
                fs::path("gptoss-resolver-" + std::to_string(::getpid()) + "-" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_);
    }
    void TearDown() override { fs::remove_all(root_); }

    fs::path make_checkpoint(const fs::path& dir) {
        fs::create_directories(dir);
        std::ofstream(dir / "config.json") << "{}";
        return dir;
    }
    HfCacheEnvironment env_with_hub(const fs::path& hub) {
        HfCacheEnvironment env;
        env.hf_hub_cache = hub.string();
        return env;
    }
    std::string error_of(const std::string& spec, const HfCacheEnvironment& env) {
        try {
            resolve_model(spec, root_ / "demo", env);
        } catch (const ModelResolveError& e) {
            return e.what();
        }
        return "";
    }

    fs::path root_;
};

TEST_F(ModelResolverTest, FolderPath) {
    fs::path dir = make_checkpoint(root_ / "my-model");
    ResolvedModel m = resolve_model(dir.string(), root_ / "demo", {});
    EXPECT_EQ(m.dir, dir);
    EXPECT_EQ(m.name, "my-model");
    // A trailing slash still names the folder.
    EXPECT_EQ(resolve_model(dir.string() + "/", root_ / "demo", {}).name, "my-model");
}

TEST_F(ModelResolverTest, FolderWithoutConfigIsAnError) {
    fs::create_directories(root_ / "empty");
    std::string error = error_of((root_ / "empty").string(), {});
    EXPECT_NE(error.find("has no config.json"), std::string::npos) << error;
}

TEST_F(ModelResolverTest, EmptySpecServesTheDemoModel) {
    make_checkpoint(root_ / "demo");
    ResolvedModel m = resolve_model("", root_ / "demo", {});
    EXPECT_EQ(m.dir, root_ / "demo");
    EXPECT_EQ(m.name, "demo");
    fs::remove_all(root_ / "demo");
    EXPECT_THROW(resolve_model("", root_ / "demo", {}), ModelResolveError);
}

TEST_F(ModelResolverTest, HubIdUsesRefsMain) {
    fs::path repo = root_ / "hub" / "models--openai--gpt-oss-20b";
    make_checkpoint(repo / "snapshots" / "aaa");
    make_checkpoint(repo / "snapshots" / "bbb");
    fs::create_directories(repo / "refs");
    std::ofstream(repo / "refs" / "main") << "aaa\n";
    ResolvedModel m = resolve_model("openai/gpt-oss-20b", root_ / "demo", env_with_hub(root_ / "hub"));
    EXPECT_EQ(m.dir, repo / "snapshots" / "aaa");
    EXPECT_EQ(m.name, "openai/gpt-oss-20b");
}

TEST_F(ModelResolverTest, HubIdWithoutRefTakesNewestSnapshot) {
    fs::path repo = root_ / "hub" / "models--org--name";
    make_checkpoint(repo / "snapshots" / "old");
    fs::last_write_time(repo / "snapshots" / "old", fs::file_time_type::clock::now() - std::chrono::hours(1));
    make_checkpoint(repo / "snapshots" / "new");
    fs::create_directories(repo / "snapshots" / "partial");  // no config.json: skipped
    EXPECT_EQ(resolve_model("org/name", root_ / "demo", env_with_hub(root_ / "hub")).dir,
              repo / "snapshots" / "new");
}

TEST_F(ModelResolverTest, CacheLocationPrecedence) {
    HfCacheEnvironment env;
    env.home = "/home/u";
    EXPECT_EQ(env.hub_dir(), fs::path("/home/u/.cache/huggingface/hub"));
    env.xdg_cache_home = "/xdg";
    EXPECT_EQ(env.hub_dir(), fs::path("/xdg/huggingface/hub"));
    env.hf_home = "/hf";
    EXPECT_EQ(env.hub_dir(), fs::path("/hf/hub"));
    env.hf_hub_cache = "/cache";
    EXPECT_EQ(env.hub_dir(), fs::path("/cache"));

    make_checkpoint(root_ / "hfhome" / "hub" / "models--a--b" / "snapshots" / "r1");
    HfCacheEnvironment home_env;
    home_env.hf_home = (root_ / "hfhome").string();
    EXPECT_EQ(resolve_model("a/b", root_ / "demo", home_env).dir,
              root_ / "hfhome" / "hub" / "models--a--b" / "snapshots" / "r1");
}

TEST_F(ModelResolverTest, NotFoundListsWhereItLooked) {
    std::string error = error_of("openai/missing-model", env_with_hub(root_ / "hub"));
    EXPECT_NE(error.find("openai/missing-model"), std::string::npos) << error;
    EXPECT_NE(error.find((root_ / "hub" / "models--openai--missing-model" / "snapshots").string()),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("never downloads"), std::string::npos) << error;
    EXPECT_NE(error.find("(as a folder)"), std::string::npos) << error;
}

TEST_F(ModelResolverTest, PathLikeSpecsAreNotLookedUpInTheCache) {
    std::string error = error_of("./nope/deeper/x", env_with_hub(root_ / "hub"));
    EXPECT_EQ(error.find("models--"), std::string::npos) << error;
}

}  // namespace
}  // namespace gptoss
