#include "server/server_info.h"

#include <string>

#include "core/cpu/cpu_features.h"
#include "core/ops/compute_type.h"
#include "core/ops/onednn_engine.h"
#include "grpcpp/grpcpp.h"
#include "heed_version.h"
#include "server/service/request_validation.h"
#include "server/service/response_builders.h"

namespace heed::server {

heed::v1::ServerInfo BuildServerInfo(const ServerOptions& options, int compute_threads) {
  heed::v1::ServerInfo info;
  info.set_version(kVersion);
  info.set_git_revision(kGitRevision);
  info.set_isa(std::string(cpu::IsaName(cpu::IsaCeiling())));
  info.set_cpu_best_isa(std::string(cpu::IsaName(cpu::BestSupportedIsa())));
  info.set_compute_threads(compute_threads);
  info.set_onednn_version(ops::OneDnnVersion());
  info.set_grpc_version(grpc::Version());
  for (ops::ComputeType type : {ops::ComputeType::kFloat32, ops::ComputeType::kBFloat16,
                                ops::ComputeType::kInt8}) {
    const ops::ComputeTypeChoice choice = ops::ChooseComputeType(type);
    heed::v1::ComputeTypeSupport* support = info.add_compute_types();
    support->set_compute_type(ToApiComputeType(type));
    support->set_runs_as(ToApiComputeType(choice.used));
    support->set_native(choice.native);
    support->set_detail(choice.detail);
  }
  heed::v1::ServerLimits* limits = info.mutable_limits();
  limits->set_max_texts_per_request(kMaxTextsPerRequest);
  limits->set_max_text_bytes(kMaxTextBytes);
  limits->set_max_message_bytes(options.max_message_bytes);
  limits->set_max_request_cost(options.models.max_request_cost);
  limits->set_max_queue_size(options.models.batching.max_queue_size);
  SetDuration(options.models.batching.max_queue_wait, limits->mutable_max_queue_wait());
  limits->set_max_stream_buffer_bytes(options.max_stream_buffer_bytes);
  SetDuration(options.stream_write_timeout, limits->mutable_stream_write_timeout());
  limits->set_max_concurrent_streams(options.max_concurrent_streams);
  return info;
}

}  // namespace heed::server
