// The safetensors reader on files written by the test: valid single and
// sharded checkpoints, and every kind of damage the validator must name.
#include "core/io/safetensors.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace heed::io {
namespace {

namespace fs = std::filesystem;

std::string WithLength(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string Bytes(const void* p, size_t n) {
  return std::string(static_cast<const char*>(p), n);
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("heed_st_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& contents) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }
  // The error of opening `contents` as a file.
  std::string OpenError(const std::string& contents) {
    auto file = SafetensorsFile::Open(Write("bad.safetensors", contents));
    EXPECT_FALSE(file.ok());
    return file.ok() ? "" : std::string(file.status().message());
  }
  fs::path dir_;
};

TEST_F(SafetensorsTest, ReadsF32Bf16AndF16) {
  const float f32[4] = {1.5f, -2.0f, 0.25f, 3.0f};
  const uint16_t bf16_bits[2] = {0x3fc0, 0xc000};         // 1.5, -2
  const uint16_t f16_bits[3] = {0x3e00, 0xc000, 0x0001};  // 1.5, -2, smallest subnormal
  const std::string data = Bytes(f32, 16) + Bytes(bf16_bits, 4) + Bytes(f16_bits, 6);
  const std::string header = R"({"__metadata__":{"format":"pt"},)"
                             R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                             R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]},)"
                             R"("c":{"dtype":"F16","shape":[3],"data_offsets":[20,26]}})";
  Write("model.safetensors", WithLength(header, data));
  auto checkpoint = Checkpoint::Open(dir_.string());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->TensorNames(), (std::vector<std::string>{"a", "b", "c"}));

  auto a = checkpoint->LoadF32("a", {2, 2});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(std::vector<float>(a->data<float>(), a->data<float>() + 4),
            std::vector<float>(f32, f32 + 4));
  auto b = checkpoint->LoadF32("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->data<float>()[0], 1.5f);
  EXPECT_EQ(b->data<float>()[1], -2.0f);
  auto c = checkpoint->LoadF32("c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data<float>()[0], 1.5f);
  EXPECT_EQ(c->data<float>()[1], -2.0f);
  EXPECT_EQ(c->data<float>()[2], std::ldexp(1.0f, -24));

  auto wrong_shape = checkpoint->LoadF32("a", {4});
  EXPECT_EQ(wrong_shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_shape.status().message().find("[2, 2], expected [4]"),
            std::string::npos)
      << wrong_shape.status();
  EXPECT_EQ(checkpoint->LoadF32("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SafetensorsTest, RejectsDamagedFiles) {
  EXPECT_NE(OpenError("abc").find("too short"), std::string::npos);
  // Header length larger than the file.
  EXPECT_NE(
      OpenError(std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10)).find("exceeds"),
      std::string::npos);
  EXPECT_NE(OpenError(WithLength("{not json", "")).find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(OpenError(WithLength("[1,2]", "")).find("not a JSON object"),
            std::string::npos);
  const std::string data(16, '\0');
  EXPECT_NE(
      OpenError(
          WithLength(R"({"x":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", data))
          .find("dtype I64"),
      std::string::npos);
  EXPECT_NE(
      OpenError(
          WithLength(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}})", data))
          .find("outside the data area"),
      std::string::npos);
  EXPECT_NE(
      OpenError(
          WithLength(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", data))
          .find("shape needs 12"),
      std::string::npos);
  EXPECT_NE(
      OpenError(WithLength(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                           data))
          .find("overlap"),
      std::string::npos);
  EXPECT_NE(
      OpenError(
          WithLength(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data))
          .find("non-integer dimension"),
      std::string::npos);
  EXPECT_NE(
      OpenError(
          WithLength(
              R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
              data))
          .find("absurd shape"),
      std::string::npos);
  EXPECT_NE(OpenError(WithLength(R"({"x":{"dtype":"F32","data_offsets":[0,8]}})", data))
                .find("needs dtype, shape"),
            std::string::npos);
  // Every message names the file.
  EXPECT_NE(OpenError("abc").find("bad.safetensors"), std::string::npos);
}

TEST_F(SafetensorsTest, ReadsShardedCheckpoints) {
  const float one[2] = {1, 2}, two[3] = {3, 4, 5};
  Write("model-00001-of-00002.safetensors",
        WithLength(R"({"w1":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                   Bytes(one, 8)));
  Write("model-00002-of-00002.safetensors",
        WithLength(R"({"w2":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})",
                   Bytes(two, 12)));
  Write("model.safetensors.index.json",
        R"({"metadata":{},"weight_map":{"w1":"model-00001-of-00002.safetensors",)"
        R"("w2":"model-00002-of-00002.safetensors"}})");
  auto checkpoint = Checkpoint::Open(dir_.string());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  auto w2 = checkpoint->LoadF32("w2", {3});
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(w2->data<float>()[2], 5.0f);
  EXPECT_TRUE(checkpoint->Contains("w1"));
}

TEST_F(SafetensorsTest, RejectsBadIndexes) {
  Write("model.safetensors.index.json", R"({"weight_map":{"w":"../../etc/passwd"}})");
  EXPECT_NE(
      Checkpoint::Open(dir_.string()).status().message().find("not a plain file name"),
      std::string::npos);
  Write("model.safetensors.index.json", R"({"weight_map":{"w":"missing.safetensors"}})");
  EXPECT_EQ(Checkpoint::Open(dir_.string()).status().code(), absl::StatusCode::kNotFound);
  Write("model.safetensors.index.json", R"({"weight_map":[1]})");
  EXPECT_NE(Checkpoint::Open(dir_.string()).status().message().find("weight_map"),
            std::string::npos);
}

TEST_F(SafetensorsTest, DirectoryWithoutCheckpoint) {
  auto checkpoint = Checkpoint::Open(dir_.string());
  EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(checkpoint.status().message().find("pytorch_model.bin"), std::string::npos);
}

}  // namespace
}  // namespace heed::io
