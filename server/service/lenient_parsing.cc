// Lenient request parsing for the text-carrying methods of heed.v1.Inference.
// A request whose string field is not UTF-8 fails inside gRPC's parser before
// any handler runs, and the caller gets UNIMPLEMENTED. heed parses these
// requests with twins whose text fields are bytes
// (heed/v1/lenient_requests.proto), copies them into the real request types
// and validates the text itself: INVALID_ARGUMENT naming the field. gRPC's
// callback API has no public hook for this, so the handlers are re-registered
// through MarkMethodCallback with the lenient request types.
#include "google/protobuf/descriptor.h"
#include "heed/v1/lenient_requests.pb.h"
#include "server/service/inference_service.h"

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

}  // namespace

void InferenceService::UseLenientParsing() {
  using heed::v1::internal::LenientClassifySentimentRequest;
  using heed::v1::internal::LenientGenerationRequest;
  MarkMethodCallback(
      MethodIndex("Translate"),
      new grpc::internal::CallbackUnaryHandler<LenientGenerationRequest,
                                               heed::v1::TranslateResponse>(
          [this](grpc::CallbackServerContext* context,
                 const LenientGenerationRequest* lenient,
                 heed::v1::TranslateResponse* response) {
            heed::v1::TranslateRequest request;
            CopyByFieldNumber(*lenient, &request);
            return Translate(context, &request, response);
          }));
  MarkMethodCallback(
      MethodIndex("Summarize"),
      new grpc::internal::CallbackUnaryHandler<LenientGenerationRequest,
                                               heed::v1::SummarizeResponse>(
          [this](grpc::CallbackServerContext* context,
                 const LenientGenerationRequest* lenient,
                 heed::v1::SummarizeResponse* response) {
            heed::v1::SummarizeRequest request;
            CopyByFieldNumber(*lenient, &request);
            return Summarize(context, &request, response);
          }));
  MarkMethodCallback(MethodIndex("TranslateStream"),
                     new grpc::internal::CallbackServerStreamingHandler<
                         LenientGenerationRequest, heed::v1::TranslateStreamResponse>(
                         [this](grpc::CallbackServerContext* context,
                                const LenientGenerationRequest* lenient) {
                           heed::v1::TranslateRequest request;
                           CopyByFieldNumber(*lenient, &request);
                           return TranslateStream(context, &request);
                         }));
  MarkMethodCallback(MethodIndex("SummarizeStream"),
                     new grpc::internal::CallbackServerStreamingHandler<
                         LenientGenerationRequest, heed::v1::SummarizeStreamResponse>(
                         [this](grpc::CallbackServerContext* context,
                                const LenientGenerationRequest* lenient) {
                           heed::v1::SummarizeRequest request;
                           CopyByFieldNumber(*lenient, &request);
                           return SummarizeStream(context, &request);
                         }));
  MarkMethodCallback(
      MethodIndex("ClassifySentiment"),
      new grpc::internal::CallbackUnaryHandler<LenientClassifySentimentRequest,
                                               heed::v1::ClassifySentimentResponse>(
          [this](grpc::CallbackServerContext* context,
                 const LenientClassifySentimentRequest* lenient,
                 heed::v1::ClassifySentimentResponse* response) {
            heed::v1::ClassifySentimentRequest request;
            CopyByFieldNumber(*lenient, &request);
            return ClassifySentiment(context, &request, response);
          }));
}

}  // namespace heed::server
