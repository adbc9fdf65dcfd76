// The model runtime: loads and warms up the models, owns each with its
// scheduler, and is the one registry of what is served (the catalog view the
// API lists, and the lookup every request makes). No gRPC, no protobuf: the
// front ends translate. Loading happens in the background after the server
// starts; a model is in the registry once it is loaded and warmed up.
#ifndef HEED_SERVER_ENGINE_MODEL_HOST_H_
#define HEED_SERVER_ENGINE_MODEL_HOST_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/pipelines/model_registry.h"
#include "server/engine/model_info.h"
#include "server/engine/runners.h"
#include "server/metrics/server_metrics.h"
#include "server/scheduler/scheduler.h"

namespace heed::server {

// Generation requests whose GenerationCost exceeds this are refused.
inline constexpr int64_t kDefaultMaxRequestCost = 8192;

struct ModelHostOptions {
  ops::ComputeType compute_type = ops::ComputeType::kFloat32;
  BatchingOptions batching;
  int64_t max_request_cost = kDefaultMaxRequestCost;
  // Classifiers: what a request that does not choose gets for long texts.
  pipelines::LongInput long_input = pipelines::LongInput::kError;
};

// One model to serve, from the config file or found in --models_dir.
struct ModelSpec {
  std::string directory;
  std::string name;                     // empty: the directory's name
  std::optional<pipelines::Task> task;  // if set, the model must serve it
  ops::ComputeType compute_type = ops::ComputeType::kFloat32;
  BatchingOptions batching;
  int threads = 0;          // compute threads per call; 0: the whole budget
  bool is_default = false;  // the default model of its task
  int64_t max_request_cost = kDefaultMaxRequestCost;  // see GenerationCost
  pipelines::LongInput long_input = pipelines::LongInput::kError;

  // The name it will be served under.
  std::string ServedName() const;
};

struct ServedModel {
  std::unique_ptr<pipelines::LoadedModel> loaded;
  std::unique_ptr<Scheduler> scheduler;
  ModelInfo info;
  int64_t max_request_cost = kDefaultMaxRequestCost;
  pipelines::LongInput long_input = pipelines::LongInput::kError;
};

class ModelHost {
 public:
  ModelHost(ServerMetrics* metrics, ModelHostOptions options);
  ~ModelHost();

  // Every model directory under `models_dir`, with the host's defaults.
  absl::StatusOr<std::vector<ModelSpec>> SpecsFromDirectory(
      const std::string& models_dir) const;

  struct LoadReport {
    int loaded = 0;
    std::vector<std::string> failures;  // "directory: why", one per failed model
  };
  // Loads and warms up the models in order, logging a line for each. `cores`
  // is the compute threads of the whole process, shared by the models. A
  // model that fails is logged; with `stop_at_failure` the rest are not tried.
  LoadReport LoadAll(const std::vector<ModelSpec>& specs, int cores,
                     bool stop_at_failure);

  // The served model with this name, or nullptr.
  ServedModel* Find(const std::string& name) ABSL_LOCKS_EXCLUDED(mu_);
  // A request's model: `name`, which must serve `task` if one is given, or
  // the task's default when `name` is empty (then `task` is required).
  // NOT_FOUND / FAILED_PRECONDITION name the problem.
  absl::StatusOr<ServedModel*> Resolve(const std::string& name,
                                       std::optional<pipelines::Task> task)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The catalog: one model, or every model (of `task` if given), by name.
  absl::StatusOr<ModelInfo> Describe(const std::string& name) const
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ModelInfo> List(std::optional<pipelines::Task> task = std::nullopt) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Makes `name` its task's default (it must be loaded and serve `task`).
  absl::Status SetDefault(pipelines::Task task, const std::string& name)
      ABSL_LOCKS_EXCLUDED(mu_);

  void Shutdown(absl::Duration grace);
  // Every scheduler stops accepting now and gives up after `grace`; returns at once.
  void BeginShutdown(absl::Duration grace);

  // The compute threads the models share (after LoadAll).
  const ComputeSlots& compute_slots() const { return *slots_; }

 private:
  absl::Status Load(const ModelSpec& spec, int threads_per_worker);
  // Adds a loaded model; the first of a task is its default unless a later one
  // is marked default.
  void Add(std::unique_ptr<ServedModel> model, bool is_default) ABSL_LOCKS_EXCLUDED(mu_);

  ServerMetrics* metrics_;
  ModelHostOptions options_;
  std::unique_ptr<ComputeSlots> slots_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<ServedModel>> models_ ABSL_GUARDED_BY(mu_);
  std::map<pipelines::Task, std::string> defaults_ ABSL_GUARDED_BY(mu_);
};

}  // namespace heed::server

#endif  // HEED_SERVER_ENGINE_MODEL_HOST_H_
