// Appending answers and resuming: keys read back, a torn last line cut off, appends after it.
#include "server/batch_output_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "server/batch_line.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

std::vector<std::string> lines_of(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST(BatchOutputFile, ANewFileHasNoKeysAndGetsOneLinePerAppend) {
    testing::TempDir dir("batch-out");
    const auto path = dir.path() / "out.jsonl";
    {
        BatchOutputFile out = BatchOutputFile::open(path);
        EXPECT_TRUE(out.done_keys().empty());
        out.append(batch_response_line("a", 200, "req-1", {{"x", 1}}));
        out.append(batch_response_line("b", 400, "req-2", {{"error", {{"message", "no"}}}}));
        EXPECT_EQ(out.num_lines(), 2);
    }
    auto lines = lines_of(path);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(batch_output_key(lines[1]), "b");
}

TEST(BatchOutputFile, ReopeningResumesAndCutsATornLastLine) {
    testing::TempDir dir("batch-out");
    const auto path = dir.path() / "out.jsonl";
    {
        std::ofstream f(path, std::ios::binary);
        f << batch_response_line("a", 200, "req-1", {}).dump() << "\n";
        f << batch_error_line(BatchLineError("invalid_json", "bad", std::nullopt), 4).dump() << "\n";
        f << batch_response_line("c", 200, "req-3", {}).dump().substr(0, 30);  // killed mid-write
    }
    {
        BatchOutputFile out = BatchOutputFile::open(path);
        EXPECT_EQ(out.done_keys(), (std::unordered_set<std::string>{"a", batch_line_key(std::nullopt, 4)}));
        EXPECT_EQ(out.num_lines(), 2);
        out.append(batch_response_line("c", 200, "req-4", {}));
    }
    auto lines = lines_of(path);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(batch_output_key(lines[2]), "c");
    EXPECT_EQ(BatchOutputFile::open(path).done_keys().size(), 3u);
}

TEST(BatchOutputFile, AnUnwritableFileIsRefusedByName) {
    try {
        BatchOutputFile::open("/nonexistent-dir/out.jsonl");
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/out.jsonl"), std::string::npos);
    }
}

}  // namespace
}  // namespace gptoss
