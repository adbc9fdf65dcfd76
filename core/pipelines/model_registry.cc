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
  std::vector<std::string> dirs;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "config.json")) {
      dirs.push_back(entry.path().string());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace heed::pipelines
