// The number of threads that compute kernels and oneDNN use. Both run on the
// process's OpenMP pool (Debian's oneDNN is built with OpenMP), so one setting
// sizes everything; the server multiplies it by its scheduler workers and keeps
// the product at or below the core count.
#ifndef HEED_CORE_CPU_THREADING_H_
#define HEED_CORE_CPU_THREADING_H_

namespace heed::cpu {

// Threads per compute call on the calling thread; values below 1 mean 1.
void SetComputeThreads(int threads);

// Cores available to this process (sched_getaffinity), at least 1.
int AvailableCores();

}  // namespace heed::cpu

#endif  // HEED_CORE_CPU_THREADING_H_
