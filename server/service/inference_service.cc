#include "server/service/inference_service.h"

#include "server/service/status_mapping.h"

namespace heed::server {

grpc::ServerUnaryReactor* InferenceService::ListModels(
    grpc::CallbackServerContext* context, const heed::v1::ListModelsRequest* request,
    heed::v1::ListModelsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!heed::v1::Task_IsValid(request->task())) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "task: unknown enum value"));
    return reactor;
  }
  for (heed::v1::Model& model : catalog_->List(request->task())) {
    *response->add_models() = std::move(model);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::GetModel(
    grpc::CallbackServerContext* context, const heed::v1::GetModelRequest* request,
    heed::v1::Model* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->name().empty()) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name: must not be empty"));
    return reactor;
  }
  absl::StatusOr<heed::v1::Model> model = catalog_->Get(request->name());
  if (model.ok()) *response = std::move(*model);
  reactor->Finish(ToGrpcStatus(model.status()));
  return reactor;
}

}  // namespace heed::server
