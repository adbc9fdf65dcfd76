#include "core/ops/compute_type.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/cpu/cpu_features.h"
#include "core/kernels/int8_matmul.h"
#include "core/ops/onednn_engine.h"

namespace heed::ops {

std::string_view ComputeTypeName(ComputeType type) {
  switch (type) {
    case ComputeType::kFloat32:
      return "float32";
    case ComputeType::kBFloat16:
      return "bfloat16";
    case ComputeType::kInt8:
      return "int8";
  }
  return "unknown";
}

absl::StatusOr<ComputeType> ParseComputeType(std::string_view name) {
  for (ComputeType type :
       {ComputeType::kFloat32, ComputeType::kBFloat16, ComputeType::kInt8}) {
    if (name == ComputeTypeName(type)) return type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compute type \"", std::string(name),
                   "\"; expected float32, bfloat16 or int8"));
}

bool Int8UsesHeedProduct() { return kernels::Int8MatmulIsVectorized(); }

int Int8WeightLevels() {
  const bool exact_8_bit = Int8UsesHeedProduct()
                               ? kernels::Int8MatmulTakesFullRangeWeights()
                               : OneDnnHasInt8DotProducts();
  return exact_8_bit ? 127 : 63;
}

ComputeTypeChoice ChooseComputeType(ComputeType requested) {
  ComputeTypeChoice choice;
  choice.requested = choice.used = requested;
  const std::string level(cpu::IsaName(cpu::IsaCeiling()));
  switch (requested) {
    case ComputeType::kFloat32:
      choice.detail = "float32";
      break;
    case ComputeType::kBFloat16:
      if (OneDnnHasBf16DotProducts()) {
        choice.detail = "bfloat16 (AVX512_BF16)";
      } else {
        choice.used = ComputeType::kFloat32;
        choice.native = false;
        choice.detail = absl::StrCat(
            "float32 instead of bfloat16: level ", level,
            " has no AVX512_BF16, where emulated bfloat16 is slower than float32");
      }
      break;
    case ComputeType::kInt8:
      if (Int8WeightLevels() == 127) {
        choice.detail = absl::StrCat("int8, 8-bit weights (VNNI)",
                                     Int8UsesHeedProduct() ? ", heed's product" : "");
      } else {
        choice.native = false;
        choice.detail = absl::StrCat("int8, 7-bit weights",
                                     Int8UsesHeedProduct() ? ", heed's product" : "",
                                     " (level ", level, " has no VNNI)");
      }
      break;
  }
  return choice;
}

}  // namespace heed::ops
