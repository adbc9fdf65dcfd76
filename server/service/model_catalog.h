// The models a server knows, as the API describes them (heed.v1.Model), with
// the default model of each task. Thread-safe: loading threads add and update
// entries while handlers read them.
#ifndef HEED_SERVER_SERVICE_MODEL_CATALOG_H_
#define HEED_SERVER_SERVICE_MODEL_CATALOG_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "heed/v1/inference.pb.h"

namespace heed::server {

class ModelCatalog {
 public:
  // Adds or replaces a model description. The first model of a task becomes
  // that task's default unless a later one sets is_default.
  void Put(const heed::v1::Model& model) ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<heed::v1::Model> Get(const std::string& name) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Models of `task` (all for TASK_UNSPECIFIED), sorted by name.
  std::vector<heed::v1::Model> List(heed::v1::Task task) const ABSL_LOCKS_EXCLUDED(mu_);

  // Resolves a request's model field: empty names the task's default; a named
  // model must exist and serve `task`.
  absl::StatusOr<heed::v1::Model> Resolve(const std::string& name,
                                          heed::v1::Task task) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, heed::v1::Model> models_ ABSL_GUARDED_BY(mu_);
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_MODEL_CATALOG_H_
