// The Prometheus registry of heed-server and every metric it exports. Names and
// labels follow ../shared/design/ARCHITECTURE.md; this is the one place they are
// spelled.
#ifndef HEED_SERVER_METRICS_SERVER_METRICS_H_
#define HEED_SERVER_METRICS_SERVER_METRICS_H_

#include <memory>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace heed::server {

class ServerMetrics {
 public:
  ServerMetrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Sets heed_build_info{version,isa} to 1.
  void SetBuildInfo(const std::string& version, const std::string& isa);

  prometheus::Family<prometheus::Counter>& requests_total() { return *requests_total_; }
  // The HTTP/JSON front end's requests by route and HTTP status (its calls
  // also count in requests_total, like gRPC's).
  prometheus::Family<prometheus::Counter>& http_requests_total() {
    return *http_requests_total_;
  }
  prometheus::Family<prometheus::Histogram>& request_duration() {
    return *request_duration_;
  }
  prometheus::Family<prometheus::Histogram>& queue_duration() { return *queue_duration_; }
  prometheus::Family<prometheus::Histogram>& inference_duration() {
    return *inference_duration_;
  }
  prometheus::Family<prometheus::Histogram>& batch_size() { return *batch_size_; }
  prometheus::Family<prometheus::Gauge>& queue_depth() { return *queue_depth_; }
  prometheus::Family<prometheus::Gauge>& inflight_requests() {
    return *inflight_requests_;
  }
  prometheus::Family<prometheus::Counter>& input_tokens_total() {
    return *input_tokens_total_;
  }
  prometheus::Family<prometheus::Counter>& output_tokens_total() {
    return *output_tokens_total_;
  }
  prometheus::Family<prometheus::Histogram>& time_to_first_token() {
    return *time_to_first_token_;
  }
  prometheus::Family<prometheus::Gauge>& model_loaded() { return *model_loaded_; }
  prometheus::Family<prometheus::Gauge>& queue_capacity() { return *queue_capacity_; }
  prometheus::Family<prometheus::Histogram>& request_input_tokens() {
    return *request_input_tokens_;
  }
  prometheus::Family<prometheus::Histogram>& request_output_tokens() {
    return *request_output_tokens_;
  }
  prometheus::Family<prometheus::Histogram>& time_per_output_token() {
    return *time_per_output_token_;
  }
  // Sets heed_compute_threads (the process's compute thread budget).
  void SetComputeThreads(int threads);

  // Request latency from 1 ms to 60 s, with the usual SLO thresholds (0.2,
  // 0.3, 0.5, 0.75, 1, 2, 3, 30 s) as bucket bounds so that ratios under them
  // are exact.
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();
  // Queue waits and batch steps: from 100 us to 60 s.
  static const prometheus::Histogram::BucketBoundaries& StepBuckets();
  // Tokens per request: 1 to 4096, doubling.
  static const prometheus::Histogram::BucketBoundaries& TokenBuckets();
  // Batch sizes 1, 2, 4, ... 256.
  static const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>* build_info_;
  prometheus::Family<prometheus::Counter>* requests_total_;
  prometheus::Family<prometheus::Counter>* http_requests_total_;
  prometheus::Family<prometheus::Histogram>* request_duration_;
  prometheus::Family<prometheus::Histogram>* queue_duration_;
  prometheus::Family<prometheus::Histogram>* inference_duration_;
  prometheus::Family<prometheus::Histogram>* batch_size_;
  prometheus::Family<prometheus::Gauge>* queue_depth_;
  prometheus::Family<prometheus::Gauge>* inflight_requests_;
  prometheus::Family<prometheus::Counter>* input_tokens_total_;
  prometheus::Family<prometheus::Counter>* output_tokens_total_;
  prometheus::Family<prometheus::Histogram>* time_to_first_token_;
  prometheus::Family<prometheus::Gauge>* model_loaded_;
  prometheus::Family<prometheus::Gauge>* queue_capacity_;
  prometheus::Family<prometheus::Histogram>* request_input_tokens_;
  prometheus::Family<prometheus::Histogram>* request_output_tokens_;
  prometheus::Family<prometheus::Histogram>* time_per_output_token_;
  prometheus::Family<prometheus::Gauge>* compute_threads_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_METRICS_SERVER_METRICS_H_
