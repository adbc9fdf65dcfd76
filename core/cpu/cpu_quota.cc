#include "core/cpu/cpu_quota.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/cpu/threading.h"

namespace heed::cpu {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// cgroup v2: "max 100000" or "150000 100000" (quota and period in us).
std::optional<double> CpusFromCpuMax(const fs::path& dir) {
  std::optional<std::string> text = ReadSmallFile(dir / "cpu.max");
  if (!text) return std::nullopt;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripAsciiWhitespace(*text), ' ', absl::SkipEmpty());
  double quota = 0, period = 0;
  if (fields.size() != 2 || !absl::SimpleAtod(fields[0], &quota) ||
      !absl::SimpleAtod(fields[1], &period) || quota <= 0 || period <= 0) {
    return std::nullopt;  // "max": no limit here
  }
  return quota / period;
}

// cgroup v1: cpu.cfs_quota_us (-1: no limit) over cpu.cfs_period_us.
std::optional<double> CpusFromCfsQuota(const fs::path& dir) {
  std::optional<std::string> quota_text = ReadSmallFile(dir / "cpu.cfs_quota_us");
  std::optional<std::string> period_text = ReadSmallFile(dir / "cpu.cfs_period_us");
  double quota = 0, period = 0;
  if (!quota_text || !period_text ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(*quota_text), &quota) ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(*period_text), &period) ||
      quota <= 0 || period <= 0) {
    return std::nullopt;
  }
  return quota / period;
}

// Tightest limit from `mount / cgroup_path` up to `mount`.
void WalkUp(const fs::path& mount, absl::string_view cgroup_path,
            std::optional<double> (*read)(const fs::path&), absl::string_view file,
            std::optional<CpuQuota>* best) {
  fs::path relative = fs::path(std::string(absl::StripPrefix(cgroup_path, "/")));
  while (true) {
    const fs::path dir = relative.empty() ? mount : mount / relative;
    if (std::optional<double> cpus = read(dir);
        cpus && (!*best || *cpus < (*best)->cpus)) {
      *best = CpuQuota{*cpus, (dir / std::string(file)).string()};
    }
    if (relative.empty()) return;
    relative = relative.has_parent_path() ? relative.parent_path() : fs::path();
  }
}

}  // namespace

std::optional<CpuQuota> ReadCpuQuota(const std::string& cgroup_root,
                                     const std::string& proc_self_cgroup) {
  const fs::path root(cgroup_root);
  std::optional<CpuQuota> best;
  for (absl::string_view line :
       absl::StrSplit(proc_self_cgroup, '\n', absl::SkipEmpty())) {
    // "hierarchy-id:controllers:path"; the path may itself contain ':'.
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    const absl::string_view controllers = parts[1];
    const absl::string_view path = parts[2];
    if (parts[0] == "0" && controllers.empty()) {
      WalkUp(root, path, CpusFromCpuMax, "cpu.max", &best);
      WalkUp(root / "unified", path, CpusFromCpuMax, "cpu.max", &best);
      continue;
    }
    const std::vector<absl::string_view> names = absl::StrSplit(controllers, ',');
    if (std::find(names.begin(), names.end(), "cpu") == names.end()) continue;
    for (const fs::path& mount :
         {root / std::string(controllers), root / "cpu", root / "cpu,cpuacct"}) {
      WalkUp(mount, path, CpusFromCfsQuota, "cpu.cfs_quota_us", &best);
    }
  }
  return best;
}

ThreadChoice ChooseComputeThreads(int requested, const std::string& cgroup_root) {
  if (requested > 0) return {requested, "--threads"};
  const int cores = AvailableCores();
  const std::string proc = ReadSmallFile("/proc/self/cgroup").value_or("");
  const std::optional<CpuQuota> quota = ReadCpuQuota(cgroup_root, proc);
  if (quota && quota->cpus < cores) {
    // Whole CPUs: a thread more than the quota gets the process throttled.
    const int threads = std::max(1, static_cast<int>(std::floor(quota->cpus)));
    return {threads, absl::StrFormat("cgroup quota %.2f CPUs (%s) of %d cores in the "
                                     "affinity mask",
                                     quota->cpus, quota->source, cores)};
  }
  return {cores,
          absl::StrCat(cores, " cores in the affinity mask",
                       quota ? absl::StrFormat(", cgroup quota %.2f CPUs", quota->cpus)
                             : ", no cgroup CPU quota")};
}

}  // namespace heed::cpu
