// Any byte string as config.json and as generation_config.json.
#include <cstddef>
#include <cstdint>

#include "core/io/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)heed::io::ParseModelConfig(text, "fuzz");
  (void)heed::io::ParseGenerationDefaults("{}", "fuzz-config", text, "fuzz");
  return 0;
}
