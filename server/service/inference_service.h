// heed.v1.Inference on gRPC's callback API. The task RPCs are answered by the
// generated base class (UNIMPLEMENTED) until the serving pipeline exists; the
// catalog RPCs are real.
#ifndef HEED_SERVER_SERVICE_INFERENCE_SERVICE_H_
#define HEED_SERVER_SERVICE_INFERENCE_SERVICE_H_

#include "heed/v1/inference.grpc.pb.h"
#include "server/service/model_catalog.h"

namespace heed::server {

class InferenceService final : public heed::v1::Inference::CallbackService {
 public:
  // `catalog` must outlive the service.
  explicit InferenceService(const ModelCatalog* catalog) : catalog_(catalog) {}

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const heed::v1::ListModelsRequest* request,
                                       heed::v1::ListModelsResponse* response) override;

  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const heed::v1::GetModelRequest* request,
                                     heed::v1::Model* response) override;

 private:
  const ModelCatalog* catalog_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_INFERENCE_SERVICE_H_
