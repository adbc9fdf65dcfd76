// The models a server runs: each loaded pipeline with its scheduler and its
// catalog entry. Loading happens in the background after the server starts;
// health turns SERVING once every model is loaded and warmed up.
#ifndef HEED_SERVER_SERVICE_MODEL_HOST_H_
#define HEED_SERVER_SERVICE_MODEL_HOST_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "core/pipelines/model_registry.h"
#include "server/metrics/server_metrics.h"
#include "server/scheduler/scheduler.h"
#include "server/service/model_catalog.h"
#include "server/service/work_items.h"

namespace heed::server {

struct ModelHostOptions {
  ops::ComputeType compute_type = ops::ComputeType::kFloat32;
  BatchingOptions batching;
};

// One model to serve, from the config file or found in --models_dir.
struct ModelSpec {
  std::string directory;
  std::string name;                    // empty: the directory's name
  std::optional<heed::v1::Task> task;  // if set, the model must serve it
  ops::ComputeType compute_type = ops::ComputeType::kFloat32;
  BatchingOptions batching;
  int threads = 0;          // compute threads per call; 0: cores / models
  bool is_default = false;  // the default model of its task
};

struct ServedModel {
  std::unique_ptr<pipelines::LoadedModel> loaded;
  std::unique_ptr<Scheduler> scheduler;
  heed::v1::Model description;
};

heed::v1::Task ToApiTask(pipelines::Task task);
const char* TaskLabel(heed::v1::Task task);

class ModelHost {
 public:
  ModelHost(ModelCatalog* catalog, ServerMetrics* metrics, ModelHostOptions options);
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

  // The running model with this name, or nullptr.
  ServedModel* Find(const std::string& name);

  void Shutdown(absl::Duration grace);
  // Every scheduler stops accepting now and gives up after `grace`; returns at once.
  void BeginShutdown(absl::Duration grace);

 private:
  absl::Status Load(const ModelSpec& spec, int threads_per_worker);

  ModelCatalog* catalog_;
  ServerMetrics* metrics_;
  ModelHostOptions options_;
  std::unique_ptr<ComputeSlots> slots_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<ServedModel>> models_ ABSL_GUARDED_BY(mu_);
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_MODEL_HOST_H_
