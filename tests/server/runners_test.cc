// The engine's runners behind a real scheduler, on the tiny fixture models:
// requests batched together (continuous batching for generation, dynamic
// batching for classification) get exactly what each gets alone from the
// pipeline.
#include "server/engine/runners.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/pipelines/model_registry.h"
#include "gtest/gtest.h"

namespace heed::server {
namespace {

const std::vector<std::string> kTexts = {
    "A dog runs in the park.", "Two children play.", "hello",
    "The weather is nice today.",
    "A man is riding a bicycle down the street with a red bag on his back."};

std::unique_ptr<pipelines::LoadedModel> Load(const std::string& name) {
  auto model = pipelines::LoadModel(std::string(HEED_GOLDEN_MODELS_DIR) + "/" + name,
                                    ops::ComputeType::kFloat32);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : nullptr;
}

TEST(GenerationRunnerTest, BatchedRequestsEqualTheirSoloGeneration) {
  for (const char* name : {"marian-tiny", "bart-tiny"}) {
    auto model = Load(name);
    ASSERT_NE(model, nullptr);
    ComputeSlots slots(1);
    BatchingOptions options;
    Scheduler scheduler(
        name, std::make_unique<GenerationRunner>(model->generator.get(), &slots, 1),
        options);
    std::vector<std::shared_ptr<GenerationWork>> works;
    std::vector<std::unique_ptr<absl::Notification>> done;
    std::vector<int> progress_calls(kTexts.size(), 0);
    for (size_t i = 0; i < kTexts.size(); ++i) {
      pipelines::GenerationRequest request;
      request.text = kTexts[i];
      request.max_output_tokens = 8 + static_cast<int>(i);  // leave at different steps
      auto prepared = model->generator->Prepare(request);
      ASSERT_TRUE(prepared.ok()) << prepared.status();
      auto work = std::make_shared<GenerationWork>();
      work->prepared = *std::move(prepared);
      done.push_back(std::make_unique<absl::Notification>());
      absl::Notification* notification = done.back().get();
      work->on_done = [notification](const absl::Status&, GenerationWork&) {
        notification->Notify();
      };
      work->on_progress = [&progress_calls, i](const std::string&, int) {
        ++progress_calls[i];
      };
      works.push_back(work);
      ASSERT_TRUE(scheduler.Submit(work).ok());
    }
    for (size_t i = 0; i < kTexts.size(); ++i) {
      ASSERT_TRUE(done[i]->WaitForNotificationWithTimeout(absl::Seconds(30)));
      pipelines::GenerationRequest request;
      request.text = kTexts[i];
      request.max_output_tokens = 8 + static_cast<int>(i);
      auto alone = model->generator->Generate(request);
      ASSERT_TRUE(alone.ok()) << alone.status();
      ASSERT_EQ(works[i]->result.outputs.size(), 1u) << name << " " << i;
      EXPECT_EQ(works[i]->result.outputs[0].text, alone->outputs[0].text)
          << name << " " << i;
      EXPECT_EQ(works[i]->result.output_tokens, alone->output_tokens);
      EXPECT_EQ(works[i]->job, nullptr);  // the caches are freed before the answer
      EXPECT_GT(progress_calls[i], 0);    // greedy tokens stream
    }
  }
}

TEST(ClassificationRunnerTest, ATextTheModelRefusesEndsOnlyItsRequest) {
  auto model = Load("distilbert-tiny");
  ASSERT_NE(model, nullptr);
  ComputeSlots slots(1);
  BatchingOptions options;
  options.max_queue_delay = absl::Milliseconds(50);
  Scheduler scheduler(
      "distilbert-tiny",
      std::make_unique<ClassificationRunner>(model->classifier.get(), &slots, 1),
      options);
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "word ";
  auto bad = std::make_shared<ClassificationWork>();
  bad->inputs = {"fine", long_text};
  auto good = std::make_shared<ClassificationWork>();
  good->inputs = {"A good film."};
  absl::Notification bad_done, good_done;
  absl::Status bad_status, good_status;
  bad->on_done = [&](const absl::Status& s, ClassificationWork&) {
    bad_status = s;
    bad_done.Notify();
  };
  good->on_done = [&](const absl::Status& s, ClassificationWork&) {
    good_status = s;
    good_done.Notify();
  };
  ASSERT_TRUE(scheduler.Submit(bad).ok());
  ASSERT_TRUE(scheduler.Submit(good).ok());
  ASSERT_TRUE(bad_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(good_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(bad_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_status.message().find("texts[1]: "), absl::string_view::npos)
      << bad_status;
  EXPECT_TRUE(good_status.ok()) << good_status;
  EXPECT_EQ(good->texts.size(), 1u);
}

TEST(ClassificationRunnerTest, BatchedRequestsEqualTheirSoloClassification) {
  auto model = Load("distilbert-tiny");
  ASSERT_NE(model, nullptr);
  ComputeSlots slots(1);
  BatchingOptions options;
  options.max_queue_delay = absl::Milliseconds(50);  // let them batch
  Scheduler scheduler(
      "distilbert-tiny",
      std::make_unique<ClassificationRunner>(model->classifier.get(), &slots, 1),
      options);
  std::vector<std::shared_ptr<ClassificationWork>> works;
  std::vector<std::unique_ptr<absl::Notification>> done;
  for (const std::string& text : kTexts) {
    auto work = std::make_shared<ClassificationWork>();
    work->inputs.push_back(text);  // the runner tokenizes
    done.push_back(std::make_unique<absl::Notification>());
    absl::Notification* notification = done.back().get();
    work->on_done = [notification](const absl::Status&, ClassificationWork&) {
      notification->Notify();
    };
    works.push_back(work);
    ASSERT_TRUE(scheduler.Submit(work).ok());
  }
  for (size_t i = 0; i < kTexts.size(); ++i) {
    ASSERT_TRUE(done[i]->WaitForNotificationWithTimeout(absl::Seconds(30)));
    auto alone = model->classifier->Classify({kTexts[i]}, pipelines::LongInput::kError, false);
    ASSERT_TRUE(alone.ok()) << alone.status();
    const auto& batched = works[i]->texts[0];
    ASSERT_EQ(batched.probabilities.size(), (*alone)[0].probabilities.size());
    for (size_t j = 0; j < batched.probabilities.size(); ++j) {
      EXPECT_NEAR(batched.probabilities[j], (*alone)[0].probabilities[j], 1e-5) << i;
    }
  }
}

// A runner that gives its slot back between steps and asks again queues
// behind a runner that was already waiting: first come, first served.
TEST(ComputeSlotsTest, ReleasingAndAskingAgainQueuesBehindAWaiter) {
  ComputeSlots slots(1);
  slots.Acquire();  // the long request holds the only slot
  absl::Notification waiting, got_it;
  std::thread other([&] {
    waiting.Notify();
    slots.Acquire();
    got_it.Notify();
    absl::SleepFor(absl::Milliseconds(50));
    slots.Release();
  });
  waiting.WaitForNotification();
  while (slots.waiting() == 0) absl::SleepFor(absl::Milliseconds(1));  // it is queued
  slots.Release();
  slots.Acquire();                        // the long request's next step
  EXPECT_TRUE(got_it.HasBeenNotified());  // the other model ran in between
  slots.Release();
  other.join();
}

}  // namespace
}  // namespace heed::server
