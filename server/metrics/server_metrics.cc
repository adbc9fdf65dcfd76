#include "server/metrics/server_metrics.h"

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace heed::server {

ServerMetrics::ServerMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  build_info_ = &prometheus::BuildGauge()
                     .Name("heed_build_info")
                     .Help(
                         "Build of the running heed-server: version and the "
                         "instruction set its kernels use; always 1.")
                     .Register(r);
  requests_total_ = &prometheus::BuildCounter()
                         .Name("heed_requests_total")
                         .Help(
                             "Requests answered, by model, task and gRPC status code; "
                             "model is \"unknown\" unless it names a loaded model.")
                         .Register(r);
  http_requests_total_ = &prometheus::BuildCounter()
                              .Name("heed_http_requests_total")
                              .Help(
                                  "HTTP/JSON requests by route (a fixed set) and HTTP "
                                  "status code.")
                              .Register(r);
  request_duration_ = &prometheus::BuildHistogram()
                           .Name("heed_request_duration_seconds")
                           .Help(
                               "End-to-end latency inside the server of requests "
                               "that reached a model's queue (rejections are only "
                               "counted, in heed_requests_total).")
                           .Register(r);
  queue_duration_ = &prometheus::BuildHistogram()
                         .Name("heed_queue_duration_seconds")
                         .Help("Time requests wait before their first batch runs.")
                         .Register(r);
  inference_duration_ = &prometheus::BuildHistogram()
                             .Name("heed_inference_duration_seconds")
                             .Help(
                                 "Compute time of one batch step, by phase "
                                 "(encode, decode, classify).")
                             .Register(r);
  batch_size_ = &prometheus::BuildHistogram()
                     .Name("heed_batch_size")
                     .Help("Sequences per executed batch.")
                     .Register(r);
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("heed_queue_depth")
                      .Help("Requests waiting in the model's queue.")
                      .Register(r);
  inflight_requests_ = &prometheus::BuildGauge()
                            .Name("heed_inflight_requests")
                            .Help("Requests being computed for the model.")
                            .Register(r);
  input_tokens_total_ = &prometheus::BuildCounter()
                             .Name("heed_input_tokens_total")
                             .Help("Input tokens processed.")
                             .Register(r);
  output_tokens_total_ = &prometheus::BuildCounter()
                              .Name("heed_output_tokens_total")
                              .Help("Output tokens generated.")
                              .Register(r);
  time_to_first_token_ = &prometheus::BuildHistogram()
                              .Name("heed_time_to_first_token_seconds")
                              .Help("Time from arrival to the first streamed token.")
                              .Register(r);
  model_loaded_ = &prometheus::BuildGauge()
                       .Name("heed_model_loaded")
                       .Help("1 when the model is loaded and ready, 0 otherwise.")
                       .Register(r);
  queue_capacity_ = &prometheus::BuildGauge()
                         .Name("heed_queue_capacity")
                         .Help(
                             "Requests the model's queue holds; beyond it requests get "
                             "RESOURCE_EXHAUSTED.")
                         .Register(r);
  request_input_tokens_ = &prometheus::BuildHistogram()
                               .Name("heed_request_input_tokens")
                               .Help("Input tokens per successful request.")
                               .Register(r);
  request_output_tokens_ = &prometheus::BuildHistogram()
                                .Name("heed_request_output_tokens")
                                .Help("Output tokens per successful generation request.")
                                .Register(r);
  time_per_output_token_ =
      &prometheus::BuildHistogram()
           .Name("heed_time_per_output_token_seconds")
           .Help(
               "Per successful generation request: time from its first batch to its "
               "end over its output tokens.")
           .Register(r);
  compute_threads_ = &prometheus::BuildGauge()
                          .Name("heed_compute_threads")
                          .Help(
                              "Compute threads of the process (--threads, else the "
                              "affinity mask lowered to the cgroup CPU quota).")
                          .Register(r);
}

void ServerMetrics::SetComputeThreads(int threads) {
  compute_threads_->Add({}).Set(threads);
}

void ServerMetrics::SetBuildInfo(const std::string& version, const std::string& isa) {
  build_info_->Add({{"version", version}, {"isa", isa}}).Set(1);
}

const prometheus::Histogram::BucketBoundaries& ServerMetrics::LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5,
      0.75,  1.0,    2.0,   2.5,  3.0,   5.0,  10,  25,  30,   60};
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& ServerMetrics::StepBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = [] {
    prometheus::Histogram::BucketBoundaries b = {0.0001, 0.00025, 0.0005};
    const auto& latency = LatencyBuckets();
    b.insert(b.end(), latency.begin(), latency.end());
    return b;
  }();
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& ServerMetrics::TokenBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& ServerMetrics::BatchSizeBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {1,  2,  4,   8,  16,
                                                                  32, 64, 128, 256};
  return buckets;
}

}  // namespace heed::server
