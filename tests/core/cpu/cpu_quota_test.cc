// The cgroup CPU quota on fake cgroup trees laid out as the kernel lays them
// out (v2, v1, and the hybrid of both), and the thread count chosen from it.
#include "core/cpu/cpu_quota.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/cpu/threading.h"
#include "gtest/gtest.h"

namespace heed::cpu {
namespace {

namespace fs = std::filesystem;

class CpuQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("heed_cgroup_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }

  fs::path root_;
};

TEST_F(CpuQuotaTest, V2CpuMaxInsideAContainerNamespace) {
  Write("cpu.max", "150000 100000\n");
  auto quota = ReadCpuQuota(root_.string(), "0::/\n");
  ASSERT_TRUE(quota.has_value());
  EXPECT_DOUBLE_EQ(quota->cpus, 1.5);
  EXPECT_EQ(quota->source, (root_ / "cpu.max").string());
}

TEST_F(CpuQuotaTest, V2MaxIsNoLimit) {
  Write("cpu.max", "max 100000\n");
  EXPECT_FALSE(ReadCpuQuota(root_.string(), "0::/\n").has_value());
}

TEST_F(CpuQuotaTest, V2TightestLimitOnThePathToTheRoot) {
  Write("kubepods.slice/cpu.max", "200000 100000\n");
  Write("kubepods.slice/pod1/cpu.max", "400000 100000\n");
  Write("kubepods.slice/pod1/heed/cpu.max", "max 100000\n");
  auto quota = ReadCpuQuota(root_.string(), "0::/kubepods.slice/pod1/heed\n");
  ASSERT_TRUE(quota.has_value());
  EXPECT_DOUBLE_EQ(quota->cpus, 2.0);
}

TEST_F(CpuQuotaTest, V1CfsQuota) {
  Write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
  Write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  auto quota =
      ReadCpuQuota(root_.string(), "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n");
  ASSERT_TRUE(quota.has_value());
  EXPECT_DOUBLE_EQ(quota->cpus, 3.0);
}

TEST_F(CpuQuotaTest, V1MinusOneIsNoLimit) {
  Write("cpu/cpu.cfs_quota_us", "-1\n");
  Write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_FALSE(ReadCpuQuota(root_.string(), "1:cpu:/\n0::/\n").has_value());
}

TEST_F(CpuQuotaTest, HybridLayoutReadsTheUnifiedHierarchy) {
  Write("unified/cpu.max", "50000 100000\n");
  auto quota = ReadCpuQuota(root_.string(), "1:cpu:/\n0::/\n");
  ASSERT_TRUE(quota.has_value());
  EXPECT_DOUBLE_EQ(quota->cpus, 0.5);
}

TEST_F(CpuQuotaTest, GarbageIsIgnored) {
  Write("cpu.max", "lots\n");
  EXPECT_FALSE(ReadCpuQuota(root_.string(), "0::/\nnot a cgroup line\n").has_value());
  EXPECT_FALSE(ReadCpuQuota((root_ / "missing").string(), "0::/\n").has_value());
}

// ChooseComputeThreads reads the real /proc/self/cgroup; a quota at the top
// of every layout applies whatever this process's cgroup path is.
TEST_F(CpuQuotaTest, ThreadsFollowTheQuotaAndTheFlag) {
  Write("cpu.max", "100000 100000\n");
  Write("unified/cpu.max", "100000 100000\n");
  for (const char* v1 : {"cpu", "cpu,cpuacct", "cpuacct,cpu"}) {
    Write(fs::path(v1) / "cpu.cfs_quota_us", "100000\n");
    Write(fs::path(v1) / "cpu.cfs_period_us", "100000\n");
  }
  ThreadChoice limited = ChooseComputeThreads(0, root_.string());
  EXPECT_EQ(limited.threads, 1) << limited.reason;
  if (AvailableCores() > 1) {
    EXPECT_NE(limited.reason.find("cgroup quota 1.00 CPUs"), std::string::npos)
        << limited.reason;
  }
  ThreadChoice flagged = ChooseComputeThreads(3, root_.string());
  EXPECT_EQ(flagged.threads, 3);
  EXPECT_EQ(flagged.reason, "--threads");
  ThreadChoice unlimited = ChooseComputeThreads(0, (root_ / "none").string());
  EXPECT_EQ(unlimited.threads, AvailableCores());
}

}  // namespace
}  // namespace heed::cpu
