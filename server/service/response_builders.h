// Filling API responses from pipeline results.
#ifndef HEED_SERVER_SERVICE_RESPONSE_BUILDERS_H_
#define HEED_SERVER_SERVICE_RESPONSE_BUILDERS_H_

#include <optional>

#include "heed/v1/inference.pb.h"
#include "server/service/model_host.h"
#include "server/service/work_items.h"

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
void FillToken(const tokenizers::Token& token, heed::v1::Token* out);

void FillSentimentResponse(const ClassificationWork& work, const ResponseContext& ctx,
                           heed::v1::ClassifySentimentResponse* response);

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_RESPONSE_BUILDERS_H_
