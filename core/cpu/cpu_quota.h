// How many CPUs this process may really use. A container limited to 2 CPUs on
// a 32-core node still sees 32 cores in its affinity mask; the limit is a CFS
// quota in its cgroup, and running 32 threads against it gets the whole
// process throttled for most of every period. So the thread count honours the
// quota as well as the affinity mask.
#ifndef HEED_CORE_CPU_CPU_QUOTA_H_
#define HEED_CORE_CPU_CPU_QUOTA_H_

#include <optional>
#include <string>

namespace heed::cpu {

struct CpuQuota {
  double cpus = 0;     // quota / period, e.g. 1.5
  std::string source;  // the file it came from
};

// The tightest CPU quota on the path from this process's cgroup up to the
// hierarchy's root: cgroup v2 `cpu.max` ("max 100000" is no limit) and cgroup
// v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 is no limit), also in the
// hybrid layout (v2 under <root>/unified). `cgroup_root` is where the
// hierarchies are mounted (normally /sys/fs/cgroup); `proc_self_cgroup` is the
// text of /proc/self/cgroup. nullopt: no limit, or nothing readable.
std::optional<CpuQuota> ReadCpuQuota(const std::string& cgroup_root,
                                     const std::string& proc_self_cgroup);

struct ThreadChoice {
  int threads = 1;
  std::string reason;  // for the start-up log, e.g. "cgroup quota 1.50 CPUs (...)"
};

// Compute threads for this process: `requested` when it is positive (the
// --threads flag); otherwise the cores in the affinity mask, lowered to the
// whole CPUs of the cgroup quota under `cgroup_root` (at least 1).
ThreadChoice ChooseComputeThreads(int requested,
                                  const std::string& cgroup_root = "/sys/fs/cgroup");

}  // namespace heed::cpu

#endif  // HEED_CORE_CPU_CPU_QUOTA_H_
