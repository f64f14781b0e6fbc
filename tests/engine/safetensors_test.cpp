// The safetensors reader and writer: round trip, and every way a header can lie or a file can be damaged
// fails with a WeightsError that names the file (and the tensor when one is at fault).
#include "engine/weights/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/weights/safetensors_writer.h"
#include "tests/support/fixture.h"

namespace gptoss {
namespace {

namespace fs = std::filesystem;

std::string image(const std::string& header, size_t data_bytes) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return out + header + std::string(data_bytes, '\x01');
}

// Parses a file image and returns the error message ("" when it parses).
std::string parse_error(const std::string& bytes) {
    try {
        parse_safetensors_image(bytes, "shard.safetensors");
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "";
}

TEST(Safetensors, ParsesAValidHeader) {
    auto entries = parse_safetensors_image(
        image(
            R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[4,16]},)"
            R"("a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}})",
            16),
        "x");
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].name, "a");
    EXPECT_EQ(entries[1].name, "b");
    EXPECT_EQ(entries[1].dtype, DType::kBF16);
    EXPECT_EQ(entries[1].shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(entries[1].begin, 4u);
    EXPECT_EQ(entries[1].end, 16u);
}

struct BadHeader {
    const char* what;
    std::string bytes;
    const char* message_part;  // besides the file name
};

TEST(Safetensors, RejectsEveryKindOfBadHeader) {
    const std::string ok_tensor = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    std::string huge_length(8, '\0');
    huge_length[7] = 0x7F;
    std::string short_length = image("{}", 0).substr(0, 8) + "{";
    const BadHeader cases[] = {
        {"shorter than the length prefix", "abc", "too small"},
        {"header length beyond the limit", huge_length + "{}", "limit"},
        {"header runs past the end", image(R"({"w":1})", 0).substr(0, 10), "truncated"},
        {"header length beyond the file", short_length, "truncated"},
        {"invalid JSON", image(R"({"w":{"dtype":)", 8), "not valid JSON"},
        {"not an object", image("[1,2]", 8), "not a JSON object"},
        {"entry not an object", image(R"({"w":5})", 8), "'w'"},
        {"unknown dtype", image(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8),
         "unsupported dtype"},
        {"missing dtype", image(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8), "dtype"},
        {"missing shape", image(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", 8), "shape"},
        {"negative dimension", image(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
         "shape"},
        {"fractional dimension", image(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8),
         "shape"},
        {"missing offsets", image(R"({"w":{"dtype":"F32","shape":[2]}})", 8), "data_offsets"},
        {"three offsets", image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", 8),
         "data_offsets"},
        {"negative offset", image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8),
         "non-negative"},
        {"end before begin", image(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
         "end before"},
        {"truncated data", image("{" + ok_tensor + "}", 7), "truncated"},
        {"size lies (too few bytes for the shape)",
         image(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 12), "need 12"},
        {"size lies (dtype)", image(R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,8]}})", 8),
         "need 4"},
        {"numel overflows",
         image(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8), "2^64"},
        {"overlapping tensors",
         image("{" + ok_tensor + R"(,"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
         "overlap"},
        {"bad metadata", image(R"({"__metadata__":3})", 0), "__metadata__"},
    };
    for (const auto& c : cases) {
        std::string message = parse_error(c.bytes);
        EXPECT_NE(message.find("shard.safetensors"), std::string::npos) << c.what << ": " << message;
        EXPECT_NE(message.find(c.message_part), std::string::npos) << c.what << ": " << message;
    }
}

TEST(Safetensors, ErrorNamesTheTensor) {
    std::string message =
        parse_error(image(R"({"layer.7.bias":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}})", 8));
    EXPECT_NE(message.find("layer.7.bias"), std::string::npos) << message;
}

std::string testing_read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Safetensors, WriterRoundTripsThroughTheMappedReader) {
    gptoss::testing::TempDir dir("gptoss-st");
    std::vector<float> a = {1.5f, -2.0f, 3.25f};
    std::vector<uint16_t> b = {0x3f80, 0xc000};
    std::vector<uint8_t> c = {1, 2, 3, 4, 5};
    write_safetensors(dir.path() / "t.safetensors", {{{"a", DType::kF32, {3}}, a.data()},
                                                     {{"b", DType::kBF16, {1, 2}}, b.data()},
                                                     {{"c", DType::kU8, {5}}, c.data()}});
    auto archive = SafetensorsArchive::open(dir.path() / "t.safetensors");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(archive->data_begin()) % 8, 0u) << "aligned data section";
    TensorView va = archive->view(*archive->find("a"));
    EXPECT_EQ(va.shape, (std::vector<int64_t>{3}));
    EXPECT_EQ(std::vector<float>(static_cast<const float*>(va.data), static_cast<const float*>(va.data) + 3),
              a);
    TensorView vb = archive->view(*archive->find("b"));
    EXPECT_EQ(vb.dtype, DType::kBF16);
    EXPECT_EQ(vb.bf16()[1], 0xc000);
    EXPECT_EQ(archive->view(*archive->find("c")).u8()[4], 5);
    EXPECT_EQ(archive->find("missing"), nullptr);
}

TEST(Safetensors, DirectIoWriterProducesTheSameFile) {
    gptoss::testing::TempDir dir("gptoss-st");
    // Sizes that straddle the 64 MiB stage and the 4 KiB direct-I/O blocks.
    std::vector<uint8_t> big((size_t{64} << 20) + 12345);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
    std::vector<float> small = {1.0f, 2.0f, 3.0f};
    std::vector<SafetensorsTensorSpec> specs = {{"big", DType::kU8, {static_cast<int64_t>(big.size())}},
                                                {"small", DType::kF32, {3}}};
    for (bool direct : {false, true}) {
        SafetensorsWriter writer(dir.path() / (direct ? "d.safetensors" : "b.safetensors"), specs,
                                 {{"format", "pt"}}, direct);
        writer.write(big.data(), 1000);  // in uneven pieces
        writer.write(big.data() + 1000, big.size() - 1000);
        writer.write(small.data(), 12);
        writer.finish();
    }
    const std::string buffered = testing_read(dir.path() / "b.safetensors");
    EXPECT_EQ(testing_read(dir.path() / "d.safetensors"), buffered);
    auto archive = SafetensorsArchive::open(dir.path() / "d.safetensors");
    EXPECT_EQ(std::memcmp(archive->view(*archive->find("big")).data, big.data(), big.size()), 0);
}

TEST(Safetensors, WriterRefusesTooMuchOrTooLittleData) {
    gptoss::testing::TempDir dir("gptoss-st");
    SafetensorsWriter writer(dir.path() / "t.safetensors", {{"a", DType::kF32, {2}}});
    float v[3] = {};
    EXPECT_THROW(writer.write(v, 12), WeightsError);
    writer.write(v, 4);
    EXPECT_THROW(writer.finish(), WeightsError);
}

TEST(Safetensors, OpenReportsMissingAndTruncatedFiles) {
    gptoss::testing::TempDir dir("gptoss-st");
    try {
        SafetensorsArchive::open(dir.path() / "absent.safetensors");
        FAIL();
    } catch (const WeightsError& e) {
        EXPECT_NE(std::string(e.what()).find("absent.safetensors"), std::string::npos);
    }
    std::vector<float> a(100, 1.0f);
    write_safetensors(dir.path() / "t.safetensors", {{{"a", DType::kF32, {100}}, a.data()}});
    fs::resize_file(dir.path() / "t.safetensors", fs::file_size(dir.path() / "t.safetensors") - 10);
    try {
        SafetensorsArchive::open(dir.path() / "t.safetensors");
        FAIL();
    } catch (const WeightsError& e) {
        EXPECT_NE(std::string(e.what()).find("'a'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace gptoss
