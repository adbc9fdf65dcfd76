// Process metrics in the names Prometheus client libraries use
// (process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds,
// process_start_time_seconds), read from /proc at each scrape; prometheus-cpp
// has no collector of its own for them.
#ifndef HEED_SERVER_METRICS_PROCESS_COLLECTOR_H_
#define HEED_SERVER_METRICS_PROCESS_COLLECTOR_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace heed::server {

class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double start_time_seconds_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_METRICS_PROCESS_COLLECTOR_H_
