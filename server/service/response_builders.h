// Filling API responses from pipeline results and engine descriptions, and
// the API's task enum.
#ifndef HEED_SERVER_SERVICE_RESPONSE_BUILDERS_H_
#define HEED_SERVER_SERVICE_RESPONSE_BUILDERS_H_

#include <optional>

#include "heed/v1/inference.pb.h"
#include "server/engine/model_host.h"
#include "server/engine/runners.h"

namespace heed::server {

struct ResponseContext {
  const ServedModel* model;
  absl::Time arrival;
  std::optional<uint64_t> seed;
};

// Fills the fields TranslateResponse and SummarizeResponse share.
template <typename Response>
void FillGenerationResponse(const GenerationWork& work, const ResponseContext& ctx,
                            Response* response);

void FillTiming(const WorkItem& work, absl::Time arrival, heed::v1::Timing* timing);
void FillModelRef(const ServedModel& model, heed::v1::ModelRef* ref);
// heed.v1.Model of the engine's description (ListModels, GetModel).
void FillModel(const ModelInfo& info, heed::v1::Model* model);

heed::v1::Task ToApiTask(pipelines::Task task);
heed::v1::ComputeType ToApiComputeType(ops::ComputeType type);
// A protobuf Duration; negative and infinite durations become zero.
void SetDuration(absl::Duration d, google::protobuf::Duration* out);
// nullopt for TASK_UNSPECIFIED (every task).
std::optional<pipelines::Task> FromApiTask(heed::v1::Task task);
void FillToken(const tokenizers::Token& token, heed::v1::Token* out);

void FillSentimentResponse(const ClassificationWork& work, const ResponseContext& ctx,
                           heed::v1::ClassifySentimentResponse* response);

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_RESPONSE_BUILDERS_H_
