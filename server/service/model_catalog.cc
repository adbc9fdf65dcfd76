#include "server/service/model_catalog.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace heed::server {

void ModelCatalog::Put(const heed::v1::Model& model) {
  absl::MutexLock lock(&mu_);
  heed::v1::Model entry = model;
  bool task_has_default = false;
  for (auto& [name, other] : models_) {
    if (name == model.name() || other.task() != model.task()) continue;
    if (model.is_default()) other.set_is_default(false);
    task_has_default |= other.is_default();
  }
  if (!task_has_default) entry.set_is_default(true);
  models_[model.name()] = std::move(entry);
}

absl::StatusOr<heed::v1::Model> ModelCatalog::Get(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    return absl::NotFoundError(absl::StrCat("no model named \"", name, "\""));
  }
  return it->second;
}

std::vector<heed::v1::Model> ModelCatalog::List(heed::v1::Task task) const {
  std::vector<heed::v1::Model> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, model] : models_) {
      if (task == heed::v1::TASK_UNSPECIFIED || model.task() == task) {
        out.push_back(model);
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.name() < b.name(); });
  return out;
}

absl::StatusOr<heed::v1::Model> ModelCatalog::Resolve(const std::string& name,
                                                      heed::v1::Task task) const {
  if (!name.empty()) {
    absl::StatusOr<heed::v1::Model> model = Get(name);
    if (!model.ok()) return model.status();
    if (model->task() != task) {
      return absl::FailedPreconditionError(
          absl::StrCat("model \"", name, "\" serves ", heed::v1::Task_Name(model->task()),
                       ", not ", heed::v1::Task_Name(task)));
    }
    return model;
  }
  absl::MutexLock lock(&mu_);
  for (const auto& [model_name, model] : models_) {
    if (model.task() == task && model.is_default()) return model;
  }
  return absl::NotFoundError(
      absl::StrCat("this server has no model for ", heed::v1::Task_Name(task)));
}

}  // namespace heed::server
