#include "core/pipelines/model_registry.h"

#include <algorithm>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"

namespace heed::pipelines {

namespace fs = std::filesystem;

int LoadedModel::max_input_tokens() const {
  return generator != nullptr ? generator->max_input_tokens()
                              : classifier->max_input_tokens();
}

absl::StatusOr<std::unique_ptr<LoadedModel>> LoadModel(const std::string& model_dir,
                                                       ops::ComputeType compute_type) {
  auto config = io::ReadModelConfig(model_dir);
  if (!config.ok()) return config.status();
  auto model = std::make_unique<LoadedModel>();
  model->directory = model_dir;
  model->name = fs::path(model_dir).filename().string();
  if (model->name.empty())
    model->name = fs::path(model_dir).parent_path().filename().string();
  model->architecture = config->architecture;
  model->compute = ops::ChooseComputeType(compute_type);
  model->version = "unversioned";
  std::error_code ec;
  if (fs::exists(fs::path(model_dir) / "VERSION", ec)) {
    auto version = io::ReadFile((fs::path(model_dir) / "VERSION").string());
    if (version.ok()) model->version = std::string(absl::StripAsciiWhitespace(*version));
  }
  switch (config->family) {
    case io::ModelFamily::kMarian:
    case io::ModelFamily::kBart: {
      model->task = config->family == io::ModelFamily::kMarian ? Task::kTranslation
                                                               : Task::kSummarization;
      auto generator = TextGenerator::Load(model_dir, compute_type);
      if (!generator.ok()) return generator.status();
      model->generator = std::move(*generator);
      break;
    }
    case io::ModelFamily::kBert:
    case io::ModelFamily::kDistilBert: {
      model->task = Task::kSentiment;
      auto classifier = SentimentClassifier::Load(model_dir, compute_type);
      if (!classifier.ok()) return classifier.status();
      model->classifier = std::move(*classifier);
      break;
    }
  }
  return model;
}

absl::StatusOr<std::vector<std::string>> FindModelDirectories(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat(root, ": not a directory"));
  }
  // Only the non-throwing overloads: a symlink loop or an unreadable entry is
  // an error naming it, never an exception that ends the process.
  std::vector<std::string> dirs;
  fs::directory_iterator it(root, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(root, ": ", ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return absl::InternalError(absl::StrCat(root, ": ", ec.message()));
    const fs::path path = it->path();
    std::error_code entry_ec;
    const bool is_dir = fs::is_directory(path, entry_ec);
    if (entry_ec) {
      return absl::FailedPreconditionError(
          absl::StrCat(path.string(), ": ", entry_ec.message()));
    }
    if (!is_dir) continue;
    const bool has_config = fs::exists(path / "config.json", entry_ec);
    if (entry_ec) {
      return absl::FailedPreconditionError(
          absl::StrCat(path.string(), ": ", entry_ec.message()));
    }
    if (has_config) dirs.push_back(path.string());
  }
  if (ec) return absl::InternalError(absl::StrCat(root, ": ", ec.message()));
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace heed::pipelines
