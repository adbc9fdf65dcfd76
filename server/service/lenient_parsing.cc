// Lenient request parsing for the text-carrying methods of heed.v1.Inference.
// A request that gRPC's parser refuses (a string field that is not UTF-8, or
// bytes that are not protobuf at all) never reaches a handler, and the caller
// gets UNIMPLEMENTED with an empty message. heed takes these methods' requests
// as raw bytes instead, parses them with twins whose text fields are bytes
// (heed/v1/lenient_requests.proto) and copies them into the real request
// types: text is validated later (INVALID_ARGUMENT naming the field), and
// malformed bytes get INVALID_ARGUMENT at once, counted like every call.
// gRPC's callback API has no public hook for this, so the handlers are
// re-registered through MarkMethodCallback.
#include "absl/strings/str_cat.h"
#include "core/pipelines/status_details.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/byte_buffer.h"
#include "heed/v1/lenient_requests.pb.h"
#include "server/service/inference_service.h"
#include "server/service/reactors.h"
#include "server/service/status_mapping.h"

namespace heed::server {
namespace {

// Copies `from` into `to` field by field number; strings are set without the
// UTF-8 check that parsing would apply (validation comes later, with a clear
// status). Both messages have the same field numbers and compatible types.
void CopyByFieldNumber(const google::protobuf::Message& from,
                       google::protobuf::Message* to) {
  using google::protobuf::FieldDescriptor;
  const auto* from_reflection = from.GetReflection();
  const auto* to_reflection = to->GetReflection();
  for (int i = 0; i < to->GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* t = to->GetDescriptor()->field(i);
    const FieldDescriptor* f = from.GetDescriptor()->FindFieldByNumber(t->number());
    if (f == nullptr) continue;
    if (t->is_repeated()) {
      for (int j = 0; j < from_reflection->FieldSize(from, f); ++j) {
        to_reflection->AddString(to, t, from_reflection->GetRepeatedString(from, f, j));
      }
      continue;
    }
    if (!t->has_presence() || from_reflection->HasField(from, f)) {
      switch (t->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          to_reflection->SetString(to, t, from_reflection->GetString(from, f));
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          to_reflection->MutableMessage(to, t)->CopyFrom(
              from_reflection->GetMessage(from, f));
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          to_reflection->SetEnumValue(to, t, from_reflection->GetEnumValue(from, f));
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          to_reflection->SetBool(to, t, from_reflection->GetBool(from, f));
          break;
        default:
          break;  // the request messages have no other scalar fields
      }
    }
  }
}

// The index of a method of heed.v1.Inference, from the generated descriptor
// (gRPC registers handlers by index, in the order of inference.proto).
int MethodIndex(const char* name) {
  const google::protobuf::ServiceDescriptor* service =
      heed::v1::TranslateRequest::descriptor()->file()->FindServiceByName("Inference");
  const google::protobuf::MethodDescriptor* method = service->FindMethodByName(name);
  return method->index();
}

// Parses the request's bytes with the lenient twin `Lenient` into `request`;
// false when the bytes are not a protobuf message of that shape.
template <typename Lenient, typename Request>
bool ParseLenient(const grpc::ByteBuffer& bytes, Request* request) {
  std::vector<grpc::Slice> slices;
  if (!bytes.Dump(&slices).ok()) return false;
  std::string data;
  for (const grpc::Slice& slice : slices) {
    data.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  Lenient lenient;
  if (!lenient.ParseFromString(data)) return false;
  CopyByFieldNumber(lenient, request);
  return true;
}

absl::Status Malformed(const char* type) {
  return pipelines::WithReason(
      absl::InvalidArgumentError(
          absl::StrCat("the request is not a valid ", type, " (malformed protobuf)")),
      "MALFORMED_REQUEST");
}

}  // namespace

template <typename Lenient, typename Request, typename Response>
void InferenceService::MarkLenientUnary(
    const char* method, std::optional<pipelines::Task> task,
    grpc::ServerUnaryReactor* (InferenceService::*handler)(grpc::CallbackServerContext*,
                                                           const Request*, Response*)) {
  MarkMethodCallback(
      MethodIndex(method),
      new grpc::internal::CallbackUnaryHandler<
          grpc::ByteBuffer, Response>([this, method, task, handler](
                                          grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* bytes,
                                          Response* response) {
        Request request;
        if (!ParseLenient<Lenient>(*bytes, &request)) {
          const absl::Status status =
              Malformed(Request::descriptor()->full_name().c_str());
          if (task) {
            Record(Call{context, method, *task, absl::Now()}, "", status, nullptr, 0, 0);
          }
          grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
          reactor->Finish(ToGrpcStatus(status));
          return reactor;
        }
        return (this->*handler)(context, &request, response);
      }));
}

template <typename Lenient, typename Request, typename Response>
void InferenceService::MarkLenientStream(
    const char* method, pipelines::Task task,
    grpc::ServerWriteReactor<Response>* (InferenceService::*handler)(
        grpc::CallbackServerContext*, const Request*)) {
  MarkMethodCallback(
      MethodIndex(method),
      new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, Response>(
          [this, method, task, handler](
              grpc::CallbackServerContext* context,
              const grpc::ByteBuffer* bytes) -> grpc::ServerWriteReactor<Response>* {
            Request request;
            if (!ParseLenient<Lenient>(*bytes, &request)) {
              const absl::Status status =
                  Malformed(Request::descriptor()->full_name().c_str());
              Record(Call{context, method, task, absl::Now()}, "", status, nullptr, 0, 0);
              auto* reactor = new StreamReactor<Response>(context, stream_limits_);
              reactor->End(ToGrpcStatus(status));
              return reactor;
            }
            return (this->*handler)(context, &request);
          }));
}

void InferenceService::UseLenientParsing() {
  using heed::v1::internal::LenientClassifySentimentRequest;
  using heed::v1::internal::LenientGenerationRequest;
  using pipelines::Task;
  MarkLenientUnary<LenientGenerationRequest>("Translate", Task::kTranslation,
                                             &InferenceService::Translate);
  MarkLenientUnary<LenientGenerationRequest>("Summarize", Task::kSummarization,
                                             &InferenceService::Summarize);
  MarkLenientStream<LenientGenerationRequest>("TranslateStream", Task::kTranslation,
                                              &InferenceService::TranslateStream);
  MarkLenientStream<LenientGenerationRequest>("SummarizeStream", Task::kSummarization,
                                              &InferenceService::SummarizeStream);
  MarkLenientUnary<LenientClassifySentimentRequest>("ClassifySentiment", Task::kSentiment,
                                                    &InferenceService::ClassifySentiment);
  // The catalog: ListModelsRequest has no text field, so it is its own
  // lenient twin; it only needs malformed bytes to get INVALID_ARGUMENT.
  MarkLenientUnary<heed::v1::ListModelsRequest>("ListModels", std::nullopt,
                                                &InferenceService::ListModels);
  MarkLenientUnary<heed::v1::internal::LenientGetModelRequest>(
      "GetModel", std::nullopt, &InferenceService::GetModel);
  MarkLenientUnary<heed::v1::internal::LenientTokenizeRequest>(
      "Tokenize", std::nullopt, &InferenceService::Tokenize);
  MarkLenientUnary<heed::v1::GetServerInfoRequest>("GetServerInfo", std::nullopt,
                                                   &InferenceService::GetServerInfo);
}

}  // namespace heed::server
