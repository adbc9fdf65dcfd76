#include "server/engine/model_host.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/cpu/cpu_features.h"
#include "core/cpu/threading.h"
#include "core/pipelines/status_details.h"
#include "spdlog/spdlog.h"

namespace heed::server {
namespace {

// One short request through the model, so that the first real request does
// not pay for primitive creation and page faults.
absl::Status WarmUp(const pipelines::LoadedModel& model) {
  if (model.generator != nullptr) {
    pipelines::GenerationRequest request;
    request.text = "warm up";
    request.max_output_tokens = 2;
    return model.generator->Generate(request).status();
  }
  return model.classifier->Classify({"warm up"}, pipelines::LongInput::kTruncate, false)
      .status();
}

ModelInfo InfoOf(const pipelines::LoadedModel& m) {
  ModelInfo info;
  info.name = m.name;
  info.task = m.task;
  info.architecture = m.architecture;
  info.version = m.version;
  info.compute = m.compute;
  info.isa = std::string(cpu::IsaName(cpu::IsaCeiling()));
  info.max_input_tokens = m.max_input_tokens();
  if (m.classifier != nullptr) info.labels = m.classifier->labels();
  return info;
}

// The scheduler of a model, with its runner and its metrics.
std::unique_ptr<Scheduler> MakeScheduler(const pipelines::LoadedModel& m,
                                         const BatchingOptions& batching, int threads,
                                         ComputeSlots* slots, ServerMetrics* metrics) {
  const std::string& name = m.name;
  SchedulerObserver observer;
  auto& batch_size =
      metrics->batch_size().Add({{"model", name}}, ServerMetrics::BatchSizeBuckets());
  auto& inference = metrics->inference_duration().Add(
      {{"model", name}, {"phase", m.generator != nullptr ? "decode" : "classify"}},
      ServerMetrics::StepBuckets());
  auto& queue_depth = metrics->queue_depth().Add({{"model", name}});
  auto& inflight = metrics->inflight_requests().Add({{"model", name}});
  observer.on_batch = [&batch_size, &inference](int size, absl::Duration compute) {
    batch_size.Observe(size);
    inference.Observe(absl::ToDoubleSeconds(compute));
  };
  auto& capacity = metrics->queue_capacity().Add({{"model", name}});
  capacity.Set(batching.max_queue_size);
  observer.on_load = [&queue_depth, &inflight, &capacity](int queued, int running,
                                                          int admitted) {
    queue_depth.Set(queued);
    inflight.Set(running);
    capacity.Set(admitted);
  };
  if (m.generator != nullptr) {
    auto& encode = metrics->inference_duration().Add(
        {{"model", name}, {"phase", "encode"}}, ServerMetrics::StepBuckets());
    observer.on_start = [&encode](absl::Duration compute) {
      encode.Observe(absl::ToDoubleSeconds(compute));
    };
    return std::make_unique<Scheduler>(
        name, std::make_unique<GenerationRunner>(m.generator.get(), slots, threads),
        batching, std::move(observer));
  }
  return std::make_unique<Scheduler>(
      name, std::make_unique<ClassificationRunner>(m.classifier.get(), slots, threads),
      batching, std::move(observer));
}

absl::Status ModelNotFound(const std::string& name, absl::string_view field) {
  return pipelines::WithField(
      pipelines::WithReason(
          absl::NotFoundError(absl::StrCat("no model named ", QuoteName(name))),
          "MODEL_NOT_FOUND"),
      field);
}

}  // namespace

std::string ModelSpec::ServedName() const {
  return name.empty() ? std::filesystem::path(directory).filename().string() : name;
}

ModelHost::ModelHost(ServerMetrics* metrics, ModelHostOptions options)
    : metrics_(metrics), options_(options) {}

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
    spec.max_request_cost = options_.max_request_cost;
    spec.long_input = options_.long_input;
    specs.push_back(std::move(spec));
  }
  return specs;
}

ModelHost::LoadReport ModelHost::LoadAll(const std::vector<ModelSpec>& specs, int cores,
                                         bool stop_at_failure) {
  // The threads of the computations running at once never exceed the cores
  // (ComputeSlots counts threads): by default every computation uses all
  // cores and one runs at a time (models take turns at batch or step
  // granularity), so a lone busy model is not held to a share of the
  // machine; smaller configured thread counts let computations run side by
  // side within the budget.
  cores = std::max(1, cores);
  slots_ = std::make_unique<ComputeSlots>(cores);
  // Warm-up computes on this thread: with the budget, not OpenMP's default of
  // every core the machine has (more than a container's CPU quota).
  cpu::SetComputeThreads(cores);
  LoadReport report;
  for (const ModelSpec& spec : specs) {
    const int threads = spec.threads > 0 ? std::min(spec.threads, cores) : cores;
    if (absl::Status s = Load(spec, threads); !s.ok()) {
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
  if (spec.task && (*loaded)->task != *spec.task) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.directory, " serves ", ApiTaskName((*loaded)->task), ", not ",
                     ApiTaskName(*spec.task), " as configured"));
  }
  const absl::Time loaded_at = absl::Now();
  if (absl::Status s = WarmUp(**loaded); !s.ok()) return s;
  spdlog::info(
      "loaded model {}: task {}, {}, isa {}, {} threads, load {:.0f} ms, warm-up {:.0f} "
      "ms, "
      "from {}",
      (*loaded)->name, TaskLabel((*loaded)->task), (*loaded)->compute.detail,
      cpu::IsaName(cpu::IsaCeiling()), threads_per_worker,
      absl::ToDoubleMilliseconds(loaded_at - start),
      absl::ToDoubleMilliseconds(absl::Now() - loaded_at), spec.directory);
  auto served = std::make_unique<ServedModel>();
  served->loaded = *std::move(loaded);
  const pipelines::LoadedModel& m = *served->loaded;
  served->info = InfoOf(m);
  served->max_request_cost = spec.max_request_cost;
  served->long_input = spec.long_input;
  served->scheduler =
      MakeScheduler(m, spec.batching, threads_per_worker, slots_.get(), metrics_);
  metrics_->model_loaded().Add({{"model", m.name}, {"version", m.version}}).Set(1);
  Add(std::move(served), spec.is_default);
  return absl::OkStatus();
}

void ModelHost::Add(std::unique_ptr<ServedModel> model, bool is_default) {
  absl::MutexLock lock(&mu_);
  const pipelines::Task task = model->info.task;
  if (is_default || !defaults_.contains(task)) defaults_[task] = model->info.name;
  models_[model->info.name] = std::move(model);
}

ServedModel* ModelHost::Find(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.get();
}

absl::StatusOr<ServedModel*> ModelHost::Resolve(const std::string& name,
                                                std::optional<pipelines::Task> task) {
  absl::MutexLock lock(&mu_);
  std::string wanted = name;
  if (wanted.empty()) {
    if (!task) {
      return pipelines::InvalidField("EMPTY_INPUT", "task",
                                     "name a model, or a task for its default model");
    }
    auto it = defaults_.find(*task);
    if (it == defaults_.end()) {
      return pipelines::WithReason(
          absl::NotFoundError(
              absl::StrCat("this server has no model for ", ApiTaskName(*task))),
          "NO_MODEL_FOR_TASK");
    }
    wanted = it->second;
  }
  auto it = models_.find(wanted);
  if (it == models_.end()) return ModelNotFound(wanted, "model");
  if (task && it->second->info.task != *task) {
    return pipelines::WithField(
        pipelines::WithReason(
            absl::FailedPreconditionError(absl::StrCat(
                "model ", QuoteName(wanted), " serves ",
                ApiTaskName(it->second->info.task), ", not ", ApiTaskName(*task))),
            "WRONG_TASK"),
        "model");
  }
  return it->second.get();
}

absl::StatusOr<ModelInfo> ModelHost::Describe(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return ModelNotFound(name, "name");
  ModelInfo info = it->second->info;
  auto d = defaults_.find(info.task);
  info.is_default = d != defaults_.end() && d->second == name;
  return info;
}

std::vector<ModelInfo> ModelHost::List(std::optional<pipelines::Task> task) const {
  absl::MutexLock lock(&mu_);
  std::vector<ModelInfo> out;
  for (const auto& [name, model] : models_) {  // a std::map: by name
    if (task && model->info.task != *task) continue;
    ModelInfo info = model->info;
    auto d = defaults_.find(info.task);
    info.is_default = d != defaults_.end() && d->second == name;
    out.push_back(std::move(info));
  }
  return out;
}

absl::Status ModelHost::SetDefault(pipelines::Task task, const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    return absl::NotFoundError(absl::StrCat("no model named ", QuoteName(name)));
  }
  if (it->second->info.task != task) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " serves ", TaskLabel(it->second->info.task), ", not ", TaskLabel(task)));
  }
  defaults_[task] = name;
  return absl::OkStatus();
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
