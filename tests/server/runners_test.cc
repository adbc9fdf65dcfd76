// The engine's runners behind a real scheduler, on the tiny fixture models:
// requests batched together (continuous batching for generation, dynamic
// batching for classification) get exactly what each gets alone from the
// pipeline.
#include "server/engine/runners.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/pipelines/model_registry.h"
#include "gtest/gtest.h"
#include "server/engine/model_host.h"
#include "server/metrics/server_metrics.h"

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
    auto alone =
        model->classifier->Classify({kTexts[i]}, pipelines::LongInput::kError, false);
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
// Two models with different thread counts (1 and 2) kept busy at once on a
// budget of 2 threads: the computations running together never hold more
// threads than the budget. (Counting computations instead of threads, as
// heed did before, let the 1-thread and the 2-thread model run side by side
// on 3 threads.)
TEST(ComputeSlotsTest, TwoBusyModelsNeverOversubscribeTheThreads) {
  ServerMetrics metrics;
  ModelHost host(&metrics, ModelHostOptions{});
  const std::string dir = HEED_GOLDEN_MODELS_DIR;
  ModelSpec translator, classifier;
  translator.directory = dir + "/marian-tiny";
  translator.threads = 1;
  classifier.directory = dir + "/distilbert-tiny";
  classifier.threads = 2;
  ASSERT_EQ(host.LoadAll({translator, classifier}, /*cores=*/2, true).loaded, 2);
  std::atomic<int> pending{0};
  absl::Notification all_done;
  auto finished = [&] {
    if (--pending == 0) all_done.Notify();
  };
  std::vector<std::shared_ptr<WorkItem>> works;
  ServedModel* marian = host.Find("marian-tiny");
  ServedModel* distilbert = host.Find("distilbert-tiny");
  ASSERT_NE(marian, nullptr);
  ASSERT_NE(distilbert, nullptr);
  pending = 2 * 24;
  for (int i = 0; i < 24; ++i) {
    pipelines::GenerationRequest request;
    request.text = kTexts[i % kTexts.size()];
    request.max_output_tokens = 12;
    auto prepared = marian->loaded->generator->Prepare(request);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    auto generation = std::make_shared<GenerationWork>();
    generation->prepared = *std::move(prepared);
    generation->on_done = [&](const absl::Status&, GenerationWork&) { finished(); };
    auto classification = std::make_shared<ClassificationWork>();
    classification->inputs = {kTexts[i % kTexts.size()]};
    classification->on_done = [&](const absl::Status&, ClassificationWork&) {
      finished();
    };
    ASSERT_TRUE(marian->scheduler->Submit(generation).ok());
    ASSERT_TRUE(distilbert->scheduler->Submit(classification).ok());
    works.push_back(generation);
    works.push_back(classification);
  }
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_GE(host.compute_slots().peak_in_use(), 1);
  EXPECT_LE(host.compute_slots().peak_in_use(), 2);
  host.Shutdown(absl::Seconds(5));
}

TEST(ComputeSlotsTest, ATwoThreadComputationWaitsUntilTwoThreadsAreFree) {
  ComputeSlots slots(2);
  slots.Acquire(1);
  std::atomic<bool> acquired{false};
  std::thread wide([&] {
    slots.Acquire(2);
    acquired = true;
    slots.Release(2);
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(acquired);  // one thread free of two
  slots.Release(1);
  wide.join();
  EXPECT_TRUE(acquired);
  EXPECT_EQ(slots.peak_in_use(), 2);
}

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

// Two models' schedulers sharing one compute slot, as ModelHost sets them up:
// each step of a fake model takes the slot, counts itself and holds the slot
// for `step`.
struct SharedCompute {
  ComputeSlots slots{1};
  std::atomic<int> slow_steps{0};
};

class CountedItem : public WorkItem {
 public:
  explicit CountedItem(int steps) : steps_needed(steps) { size = steps; }
  int steps_needed;
  int steps_done = 0;
  // SharedCompute::slow_steps when the last step ended, inside its slot (read
  // after `done`, the count would also take in slow steps that ran while the
  // waiting thread was slow to wake up on a busy machine).
  int slow_steps_at_end = 0;
  absl::Notification done;

 protected:
  void OnComplete(absl::Status) override { done.Notify(); }
};

class SlotStepRunner : public StepRunner {
 public:
  SlotStepRunner(SharedCompute* shared, absl::Duration step, bool slow)
      : shared_(shared), step_(step), slow_(slow) {}
  std::vector<absl::Status> Start(std::span<WorkItem* const> items) override {
    return std::vector<absl::Status>(items.size());
  }
  absl::Status Step(const std::vector<WorkItem*>& active) override {
    shared_->slots.Acquire();
    absl::SleepFor(step_);
    if (slow_) shared_->slow_steps.fetch_add(1);
    for (WorkItem* item : active) {
      auto* counted = static_cast<CountedItem*>(item);
      ++counted->steps_done;
      counted->slow_steps_at_end = shared_->slow_steps.load();
    }
    shared_->slots.Release();
    return absl::OkStatus();
  }
  bool Done(WorkItem& item) override {
    auto& counted = static_cast<CountedItem&>(item);
    return counted.steps_done >= counted.steps_needed;
  }
  void Finish(WorkItem& item) override { item.Complete(absl::OkStatus()); }

 private:
  SharedCompute* shared_;
  absl::Duration step_;
  bool slow_;
};

// A slow model kept busy with long requests does not starve a fast one: each
// step of a fast request waits for at most the one slow step ahead of it in
// the slot's queue. Counted in slow steps, not in time, so the bound holds
// on any machine; the wall-clock p99 is printed for the record.
TEST(ComputeSlotsTest, AFastModelWaitsAtMostOneSlowStepPerStep) {
  SharedCompute shared;
  BatchingOptions options;
  Scheduler slow("slow",
                 std::make_unique<SlotStepRunner>(&shared, absl::Milliseconds(5), true),
                 options);
  Scheduler fast(
      "fast", std::make_unique<SlotStepRunner>(&shared, absl::Microseconds(200), false),
      options);
  std::vector<std::shared_ptr<CountedItem>> long_requests;
  for (int i = 0; i < 4; ++i) {
    long_requests.push_back(std::make_shared<CountedItem>(1 << 20));
    ASSERT_TRUE(slow.Submit(long_requests.back()).ok());
  }
  while (shared.slow_steps.load() < 5) absl::SleepFor(absl::Milliseconds(1));
  constexpr int kFastSteps = 3;
  std::vector<int> interleaved;
  std::vector<double> latency_ms;
  for (int i = 0; i < 60; ++i) {
    auto item = std::make_shared<CountedItem>(kFastSteps);
    const int before = shared.slow_steps.load();
    const absl::Time start = absl::Now();
    ASSERT_TRUE(fast.Submit(item).ok());
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
    latency_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    interleaved.push_back(item->slow_steps_at_end - before);
  }
  slow.Shutdown(absl::ZeroDuration());
  std::sort(interleaved.begin(), interleaved.end());
  std::sort(latency_ms.begin(), latency_ms.end());
  // At most one slow step before each fast step, plus the one that was
  // running when the request arrived.
  EXPECT_LE(interleaved.back(), kFastSteps + 1);
  std::printf(
      "fast requests of %d steps beside a saturated slow model: at most %d slow "
      "steps in between; latency p50 %.1f ms, p99 %.1f ms (slow step 5 ms)\n",
      kFastSteps, interleaved.back(), latency_ms[latency_ms.size() / 2],
      latency_ms[latency_ms.size() * 99 / 100]);
}

}  // namespace
}  // namespace heed::server
