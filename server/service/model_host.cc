#include "server/service/model_host.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/cpu/cpu_features.h"
#include "core/cpu/threading.h"
#include "spdlog/spdlog.h"

namespace heed::server {

heed::v1::Task ToApiTask(pipelines::Task task) {
  switch (task) {
    case pipelines::Task::kTranslation:
      return heed::v1::TASK_TRANSLATION;
    case pipelines::Task::kSummarization:
      return heed::v1::TASK_SUMMARIZATION;
    case pipelines::Task::kSentiment:
      return heed::v1::TASK_SENTIMENT;
  }
  return heed::v1::TASK_UNSPECIFIED;
}

const char* TaskLabel(heed::v1::Task task) {
  switch (task) {
    case heed::v1::TASK_TRANSLATION:
      return "translation";
    case heed::v1::TASK_SUMMARIZATION:
      return "summarization";
    case heed::v1::TASK_SENTIMENT:
      return "sentiment";
    default:
      return "unspecified";
  }
}

namespace {

heed::v1::ComputeType ToApiComputeType(ops::ComputeType type) {
  switch (type) {
    case ops::ComputeType::kFloat32:
      return heed::v1::COMPUTE_TYPE_FLOAT32;
    case ops::ComputeType::kBFloat16:
      return heed::v1::COMPUTE_TYPE_BFLOAT16;
    case ops::ComputeType::kInt8:
      return heed::v1::COMPUTE_TYPE_INT8;
  }
  return heed::v1::COMPUTE_TYPE_UNSPECIFIED;
}

// One short request through the model, so that the first real request does
// not pay for primitive creation and page faults.
absl::Status WarmUp(const pipelines::LoadedModel& model) {
  if (model.generator != nullptr) {
    pipelines::GenerationRequest request;
    request.text = "warm up";
    request.max_output_tokens = 2;
    return model.generator->Generate(request).status();
  }
  return model.classifier->Classify({"warm up"}, true, false).status();
}

}  // namespace

ModelHost::ModelHost(ModelCatalog* catalog, ServerMetrics* metrics,
                     ModelHostOptions options)
    : catalog_(catalog), metrics_(metrics), options_(options) {}

ModelHost::~ModelHost() { Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::vector<ModelSpec>> ModelHost::SpecsFromDirectory(
    const std::string& models_dir) const {
  auto dirs = pipelines::FindModelDirectories(models_dir);
  if (!dirs.ok()) return dirs.status();
  std::vector<ModelSpec> specs;
  for (const std::string& dir : *dirs) {
    ModelSpec spec;
    spec.directory = dir;
    spec.compute_type = options_.compute_type;
    spec.batching = options_.batching;
    specs.push_back(std::move(spec));
  }
  return specs;
}

ModelHost::LoadReport ModelHost::LoadAll(const std::vector<ModelSpec>& specs, int cores,
                                         bool stop_at_failure) {
  // Running computations x threads per computation never exceed the cores:
  // by default every computation uses all cores and one runs at a time
  // (models take turns at batch or step granularity), so a lone busy model is
  // not held to a share of the machine; configured thread counts make room
  // for cores / threads computations at once.
  cores = std::max(1, cores);
  int threads = cores;
  for (const ModelSpec& spec : specs) {
    if (spec.threads > 0) threads = std::min(threads, spec.threads);
  }
  slots_ = std::make_unique<ComputeSlots>(std::max(1, cores / threads));
  // Warm-up computes on this thread: with the budget, not OpenMP's default of
  // every core the machine has (more than a container's CPU quota).
  cpu::SetComputeThreads(threads);
  LoadReport report;
  for (const ModelSpec& spec : specs) {
    if (absl::Status s = Load(spec, spec.threads > 0 ? spec.threads : threads); !s.ok()) {
      spdlog::error("cannot load model {}: {}", spec.directory, s.ToString());
      report.failures.push_back(absl::StrCat(spec.directory, ": ", s.ToString()));
      if (stop_at_failure) break;
      continue;
    }
    ++report.loaded;
  }
  return report;
}

absl::Status ModelHost::Load(const ModelSpec& spec, int threads_per_worker) {
  const absl::Time start = absl::Now();
  auto loaded = pipelines::LoadModel(spec.directory, spec.compute_type);
  if (!loaded.ok()) return loaded.status();
  if (!spec.name.empty()) (*loaded)->name = spec.name;
  if (spec.task && ToApiTask((*loaded)->task) != *spec.task) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec.directory, " serves ", heed::v1::Task_Name(ToApiTask((*loaded)->task)),
        ", not ", heed::v1::Task_Name(*spec.task), " as configured"));
  }
  const absl::Time loaded_at = absl::Now();
  if (absl::Status s = WarmUp(**loaded); !s.ok()) return s;
  spdlog::info(
      "loaded model {}: task {}, {}, isa {}, {} threads, load {:.0f} ms, warm-up {:.0f} ms, "
      "from {}",
      (*loaded)->name, TaskLabel(ToApiTask((*loaded)->task)), (*loaded)->compute.detail,
      cpu::IsaName(cpu::IsaCeiling()), threads_per_worker,
      absl::ToDoubleMilliseconds(loaded_at - start),
      absl::ToDoubleMilliseconds(absl::Now() - loaded_at), spec.directory);
  auto served = std::make_unique<ServedModel>();
  served->loaded = std::move(*loaded);
  const pipelines::LoadedModel& m = *served->loaded;
  heed::v1::Model& d = served->description;
  d.set_name(m.name);
  d.set_task(ToApiTask(m.task));
  d.set_architecture(m.architecture);
  d.set_version(m.version);
  d.set_compute_type(ToApiComputeType(m.compute.used));
  d.set_requested_compute_type(ToApiComputeType(m.compute.requested));
  d.set_compute_type_native(m.compute.native);
  d.set_compute_detail(m.compute.detail);
  d.set_isa(std::string(cpu::IsaName(cpu::IsaCeiling())));
  d.set_max_input_tokens(m.max_input_tokens());
  d.set_ready(true);
  d.set_is_default(spec.is_default);
  if (m.classifier != nullptr) {
    for (const std::string& label : m.classifier->labels()) d.add_labels(label);
  }
  BatchingOptions batching = spec.batching;
  batching.compute_threads = threads_per_worker;
  std::unique_ptr<Backend> backend;
  if (m.generator != nullptr) {
    backend = std::make_unique<GenerationBackend>(m.generator.get(), slots_.get());
  } else {
    backend = std::make_unique<ClassificationBackend>(m.classifier.get(), slots_.get());
  }
  SchedulerObserver observer;
  const std::string name = m.name;
  const std::string phase = m.generator != nullptr ? "decode" : "classify";
  auto& batch_size =
      metrics_->batch_size().Add({{"model", name}}, ServerMetrics::BatchSizeBuckets());
  auto& inference = metrics_->inference_duration().Add(
      {{"model", name}, {"phase", phase}}, ServerMetrics::StepBuckets());
  if (m.generator != nullptr) {
    auto& encode = metrics_->inference_duration().Add(
        {{"model", name}, {"phase", "encode"}}, ServerMetrics::StepBuckets());
    observer.on_start = [&encode](absl::Duration compute) {
      encode.Observe(absl::ToDoubleSeconds(compute));
    };
  }
  metrics_->queue_capacity().Add({{"model", name}}).Set(batching.max_queue_size);
  auto& queue_depth = metrics_->queue_depth().Add({{"model", name}});
  auto& inflight = metrics_->inflight_requests().Add({{"model", name}});
  observer.on_batch = [&batch_size, &inference](int size, absl::Duration compute) {
    batch_size.Observe(size);
    inference.Observe(absl::ToDoubleSeconds(compute));
  };
  observer.on_load = [&queue_depth, &inflight](int queued, int running) {
    queue_depth.Set(queued);
    inflight.Set(running);
  };
  served->scheduler = std::make_unique<Scheduler>(name, std::move(backend), batching,
                                                  std::move(observer));
  metrics_->model_loaded().Add({{"model", name}, {"version", m.version}}).Set(1);
  catalog_->Put(d);
  absl::MutexLock lock(&mu_);
  models_[name] = std::move(served);
  return absl::OkStatus();
}

ServedModel* ModelHost::Find(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.get();
}

void ModelHost::BeginShutdown(absl::Duration grace) {
  absl::MutexLock lock(&mu_);
  for (auto& [name, model] : models_) model->scheduler->BeginShutdown(grace);
}

void ModelHost::Shutdown(absl::Duration grace) {
  std::vector<Scheduler*> schedulers;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, model] : models_) schedulers.push_back(model->scheduler.get());
  }
  // Each scheduler's grace runs concurrently in effect: the first Shutdown
  // closes its queue, and the later ones have the rest of the grace period.
  const absl::Time end = absl::Now() + grace;
  for (Scheduler* s : schedulers)
    s->Shutdown(std::max(absl::ZeroDuration(), end - absl::Now()));
}

}  // namespace heed::server
