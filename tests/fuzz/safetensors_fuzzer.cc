// Any byte string as a whole safetensors file: the header parser must return
// a status, never crash or read outside the input.
#include <cstddef>
#include <cstdint>

#include "core/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto header = heed::io::ParseSafetensorsHeader(bytes, size, "fuzz");
  if (header.ok()) {
    // Valid headers must describe ranges inside the input.
    for (const auto& [name, tensor] : header->tensors) {
      if (header->data_start + tensor.end > size) __builtin_trap();
    }
  }
  return 0;
}
