#include "server/version_info.h"

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/cpu/cpu_features.h"
#include "core/ops/onednn_engine.h"
#include "grpcpp/grpcpp.h"
#include "heed_version.h"

namespace heed::server {

std::string VersionText() {
  return absl::StrCat(
      "heed-server ", kVersion, " (git ", kGitRevision, ")\n",
      "isa: ", std::string(cpu::IsaName(cpu::IsaCeiling())),
      " (this CPU's best: ", std::string(cpu::IsaName(cpu::BestSupportedIsa())), ")\n",
      "oneDNN: ", ops::OneDnnVersion(), "\n", "gRPC: ", grpc::Version(), "\n");
}

void InstallFlagsUsage() {
  absl::FlagsUsageConfig config;
  // Flags defined in heed's server sources (not Abseil's or gRPC's own).
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "server/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [] { return VersionText(); };
  config.normalize_filename = [](absl::string_view file) {
    const size_t at = file.rfind("server/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at));
  };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace heed::server
