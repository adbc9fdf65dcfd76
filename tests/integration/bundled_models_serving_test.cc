// heed-server started the way scripts/run.sh starts it, on the bundled demo
// models in models/: each is its task's default, requests that name no model
// reach it, and the answers are real work (German words for English ones, the
// sentiment of unambiguous sentences, a short synopsis of a long description).
#include <map>

#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "heed/v1/inference.grpc.pb.h"
#include "tests/testing/server_process.h"

namespace heed {
namespace {

using ::heed::testing::ServerProcess;
using ::testing::HasSubstr;

class BundledModelsServingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = ServerProcess::Start(
        HEED_SERVER_BINARY, {std::string("--models_dir=") + HEED_BUNDLED_MODELS_DIR});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = new ServerProcess(std::move(*server));
    stub_ = heed::v1::Inference::NewStub(
                grpc::CreateChannel(server_->grpc_address(),
                                    grpc::InsecureChannelCredentials()))
                .release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete server_;
  }

  static ServerProcess* server_;
  static heed::v1::Inference::Stub* stub_;
};

ServerProcess* BundledModelsServingTest::server_ = nullptr;
heed::v1::Inference::Stub* BundledModelsServingTest::stub_ = nullptr;

TEST_F(BundledModelsServingTest, EachBundledModelIsItsTasksDefault) {
  grpc::ClientContext context;
  heed::v1::ListModelsResponse response;
  ASSERT_TRUE(stub_->ListModels(&context, {}, &response).ok());
  std::map<heed::v1::Task, std::string> defaults;
  for (const auto& m : response.models()) {
    EXPECT_TRUE(m.ready()) << m.name();
    EXPECT_NE(m.version(), "unversioned") << m.name();
    if (m.is_default()) defaults[m.task()] = m.name();
  }
  EXPECT_EQ(response.models_size(), 3);
  EXPECT_EQ(defaults[heed::v1::TASK_TRANSLATION], "marian-en-de-demo");
  EXPECT_EQ(defaults[heed::v1::TASK_SUMMARIZATION], "bart-synopsis-demo");
  EXPECT_EQ(defaults[heed::v1::TASK_SENTIMENT], "distilbert-sentiment-demo");
}

TEST_F(BundledModelsServingTest, TranslatesIntoGerman) {
  grpc::ClientContext context;
  heed::v1::TranslateRequest request;
  request.set_text("A man is riding a bicycle down the street.");
  heed::v1::TranslateResponse response;
  ASSERT_TRUE(stub_->Translate(&context, request, &response).ok());
  EXPECT_THAT(response.text(), HasSubstr("Mann"));
  EXPECT_THAT(response.text(), HasSubstr("Fahrrad"));
  EXPECT_EQ(response.model().name(), "marian-en-de-demo");
}

TEST_F(BundledModelsServingTest, ClassifiesUnambiguousSentences) {
  grpc::ClientContext context;
  heed::v1::ClassifySentimentRequest request;
  request.add_texts("A wonderful, moving film with superb acting.");
  request.add_texts("This was a dull, boring and awful waste of time.");
  heed::v1::ClassifySentimentResponse response;
  ASSERT_TRUE(stub_->ClassifySentiment(&context, request, &response).ok());
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).label(), "POSITIVE");
  EXPECT_EQ(response.results(1).label(), "NEGATIVE");
}

TEST_F(BundledModelsServingTest, SummarizesALongDescriptionIntoASynopsis) {
  grpc::ClientContext context;
  heed::v1::SummarizeRequest request;
  request.set_text(
      "This package provides a command-line tool to convert images between many "
      "formats, resize and crop them, and apply simple filters. It reads and writes "
      "PNG, JPEG, GIF and TIFF files and can process whole directories in one run.");
  heed::v1::SummarizeResponse response;
  ASSERT_TRUE(stub_->Summarize(&context, request, &response).ok());
  EXPECT_FALSE(response.text().empty());
  EXPECT_LT(response.text().size(), request.text().size() / 3) << response.text();
  EXPECT_THAT(response.text(), HasSubstr("image"));
}

}  // namespace
}  // namespace heed
