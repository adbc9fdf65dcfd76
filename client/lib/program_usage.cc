#include "client/lib/program_usage.h"

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "heed_version.h"

namespace heed::client {

void InstallProgramUsage(const std::string& program) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "client/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [program] {
    return absl::StrCat(program, " ", kVersion, " (git ", kGitRevision,
                        ")\ngRPC: ", grpc::Version(), "\n");
  };
  config.normalize_filename = [](absl::string_view file) {
    const size_t at = file.rfind("client/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at));
  };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace heed::client
