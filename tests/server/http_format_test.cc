// The HTTP front end's translations without a server: Hugging Face task
// bodies into request options, results into the task formats, and gRPC
// statuses into HTTP statuses and error JSON.
#include "core/pipelines/status_details.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "server/http/hf_task_format.h"
#include "server/http/http_errors.h"

namespace heed::server {
namespace {

using nlohmann::json;

std::string ReasonOf(const absl::Status& status) {
  return pipelines::DetailsOf(status).reason;
}

TEST(HfTaskFormatTest, InputsAreATextOrAListOfTexts) {
  auto one = ParseHfRequest(R"({"inputs": "hello"})");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->inputs, std::vector<std::string>{"hello"});
  auto many = ParseHfRequest(
      R"({"inputs": ["a", "b"], "parameters": {"top_k": null, "truncation": true},
          "options": {"wait_for_model": true}})");
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(many->inputs.size(), 2u);
  EXPECT_FALSE(many->parameters.contains("top_k"));  // null means absent
  EXPECT_TRUE(many->parameters.contains("truncation"));

  EXPECT_EQ(ReasonOf(ParseHfRequest("[1]").status()), "INVALID_JSON");
  EXPECT_EQ(ReasonOf(ParseHfRequest("{").status()), "INVALID_JSON");
  EXPECT_EQ(ReasonOf(ParseHfRequest(R"({"text": "x"})").status()), "UNKNOWN_FIELD");
  EXPECT_EQ(ReasonOf(ParseHfRequest(R"({"parameters": {}})").status()), "EMPTY_INPUT");
  EXPECT_EQ(ReasonOf(ParseHfRequest(R"({"inputs": []})").status()), "EMPTY_INPUT");
  EXPECT_EQ(ReasonOf(ParseHfRequest(R"({"inputs": [1]})").status()), "INVALID_JSON");
  EXPECT_EQ(ReasonOf(ParseHfRequest(R"({"inputs": "x", "parameters": 3})").status()),
            "INVALID_JSON");
}

TEST(HfTaskFormatTest, GenerationParametersMapToOptions) {
  heed::v1::GenerationOptions options;
  bool truncate = false;
  const json p = {{"max_new_tokens", 20},
                  {"num_beams", 4},
                  {"truncation", "only_first"},
                  {"clean_up_tokenization_spaces", true},
                  {"generate_parameters",
                   {{"repetition_penalty", 1.2},
                    {"encoder_repetition_penalty", 1.5},
                    {"no_repeat_ngram_size", 3}}}};
  ASSERT_TRUE(ApplyGenerationParameters(p, &options, &truncate).ok());
  EXPECT_EQ(options.max_output_tokens(), 20);
  EXPECT_EQ(options.beam_size(), 4);
  EXPECT_FLOAT_EQ(options.repetition_penalty(), 1.2f);
  EXPECT_FLOAT_EQ(options.encoder_repetition_penalty(), 1.5f);
  EXPECT_EQ(options.no_repeat_ngram_size(), 3);
  EXPECT_FALSE(options.has_sampling());
  EXPECT_TRUE(truncate);

  heed::v1::GenerationOptions sampled;
  ASSERT_TRUE(ApplyGenerationParameters(
                  {{"do_sample", true}, {"temperature", 0.7}, {"top_k", 5}, {"seed", 42}},
                  &sampled, &truncate)
                  .ok());
  ASSERT_TRUE(sampled.has_sampling());
  EXPECT_FLOAT_EQ(sampled.sampling().temperature(), 0.7f);
  EXPECT_EQ(sampled.sampling().top_k(), 5);
  EXPECT_EQ(sampled.sampling().seed(), 42u);

  auto reason = [&](const json& parameters) {
    heed::v1::GenerationOptions o;
    return ReasonOf(ApplyGenerationParameters(parameters, &o, &truncate));
  };
  EXPECT_EQ(reason({{"temperature", 0.7}}), "OPTIONS_CONFLICT");  // without do_sample
  EXPECT_EQ(
      reason({{"max_new_tokens", 5}, {"generate_parameters", {{"max_new_tokens", 6}}}}),
      "OPTIONS_CONFLICT");
  EXPECT_EQ(reason({{"max_new_tokens", "5"}}), "INVALID_JSON");
  EXPECT_EQ(reason({{"max_new_tokens", 1e12}}), "INVALID_JSON");  // not an integer
  EXPECT_EQ(reason({{"truncation", "sideways"}}), "OPTION_OUT_OF_RANGE");
  EXPECT_EQ(reason({{"tgt_lang", "de"}}), "UNSUPPORTED_PARAMETER");
  EXPECT_EQ(reason({{"temprature", 1}}), "UNKNOWN_FIELD");
}

TEST(HfTaskFormatTest, ClassificationParametersAndOutput) {
  int top_k = 0;
  bool truncate = false;
  ASSERT_TRUE(ApplyClassificationParameters(
                  {{"top_k", 1}, {"function_to_apply", "softmax"}, {"truncation", true}},
                  &top_k, &truncate)
                  .ok());
  EXPECT_EQ(top_k, 1);
  EXPECT_TRUE(truncate);
  EXPECT_EQ(ReasonOf(ApplyClassificationParameters({{"function_to_apply", "sigmoid"}},
                                                   &top_k, &truncate)),
            "UNSUPPORTED_PARAMETER");
  EXPECT_EQ(ReasonOf(ApplyClassificationParameters({{"top_k", 0}}, &top_k, &truncate)),
            "OPTION_OUT_OF_RANGE");

  heed::v1::SentimentResult result;
  for (auto [label, score] : {std::pair{"NEGATIVE", 0.2f}, std::pair{"POSITIVE", 0.8f}}) {
    auto* s = result.add_scores();
    s->set_label(label);
    s->set_score(score);
  }
  const json all = ClassificationOutput(result, 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["label"], "POSITIVE");  // by descending score
  EXPECT_EQ(ClassificationOutput(result, 1).size(), 1u);
  EXPECT_EQ(TranslationOutput("Hallo")["translation_text"], "Hallo");
  EXPECT_EQ(SummaryOutput("short")["summary_text"], "short");
}

TEST(HttpErrorsTest, StatusesAndDetails) {
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::DEADLINE_EXCEEDED), 504);
  EXPECT_EQ(HttpStatusOf(grpc::StatusCode::INTERNAL), 500);

  google::rpc::Status rich;
  google::rpc::ErrorInfo info;
  info.set_reason("QUEUE_FULL");
  rich.add_details()->PackFrom(info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_nanos(250'000'000);
  rich.add_details()->PackFrom(retry);
  const HttpError error = HttpErrorOf(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                                   "full", rich.SerializeAsString()));
  EXPECT_EQ(error.status, 429);
  EXPECT_EQ(error.retry_after_seconds, 1);  // rounded up, at least 1
  const json body = json::parse(error.body);
  EXPECT_EQ(body["error"], "full");
  EXPECT_EQ(body["code"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(body["reason"], "QUEUE_FULL");
  EXPECT_DOUBLE_EQ(body["retry_delay_seconds"].get<double>(), 0.25);

  // Bytes that are not UTF-8 in a message still make valid JSON.
  const HttpError odd = HttpErrorOf(grpc::Status(grpc::StatusCode::INTERNAL, "a\xff"));
  EXPECT_FALSE(odd.retry_after_seconds.has_value());
  EXPECT_NO_THROW(json::parse(odd.body));
}

}  // namespace
}  // namespace heed::server
