// Compute types of the linear layers, and what a requested type runs as at
// this process's ISA level (core/cpu's ceiling, which also caps oneDNN).
#ifndef HEED_CORE_OPS_COMPUTE_TYPE_H_
#define HEED_CORE_OPS_COMPUTE_TYPE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace heed::ops {

enum class ComputeType { kFloat32, kBFloat16, kInt8 };

std::string_view ComputeTypeName(ComputeType type);
absl::StatusOr<ComputeType> ParseComputeType(std::string_view name);

// The decision for one requested compute type:
// - float32 runs as itself.
// - bfloat16 runs natively only with AVX512_BF16 (level avx512_bf16). Below,
//   oneDNN would emulate it 2.5-3.5x slower than float32 (measured on a
//   Skylake-SP), or has no kernel at all (AVX2), so float32 is used instead:
//   no one pays more for less.
// - int8 runs at every level: with VNNI its weights have 8 bits; without VNNI
//   they have 7 bits, so that x86's 16-bit pair sums cannot saturate.
struct ComputeTypeChoice {
  ComputeType requested = ComputeType::kFloat32;
  ComputeType used = ComputeType::kFloat32;
  // False where `used` is not what was asked for, or runs without the
  // instructions that make it exact at 8 bits (int8 without VNNI).
  bool native = true;
  // One line for logs and the API, e.g. "int8, 7-bit weights, heed's product
  // (level avx512 has no VNNI)".
  std::string detail;
};
ComputeTypeChoice ChooseComputeType(ComputeType requested);

// Whether int8 layers made now run heed's kernels::Int8Matmul on weights
// packed once (at every level that vectorizes it: avx2 and up) rather than
// oneDNN's int8 products (generic).
bool Int8UsesHeedProduct();
// The largest |weight code| of int8 layers made now: 127 where the product
// sums 8-bit weights exactly (VNNI), 63 where pairs of u8 x s8 products are
// summed in 16 bits with saturation (vpmaddubsw: 255 * 63 * 2 fits).
int Int8WeightLevels();

}  // namespace heed::ops

#endif  // HEED_CORE_OPS_COMPUTE_TYPE_H_
