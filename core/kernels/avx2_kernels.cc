// The AVX2 dispatch table. Its entries are defined in avx2_*.cc, which enable
// AVX2 per translation unit (avx2_target.h); this file is plain x86-64.
#include "core/kernels/internal/isa_kernels.h"
#include "core/kernels/kernel_table.h"

namespace heed::kernels {

const KernelTable& Avx2Kernels() {
  static const KernelTable table = {
      .attention_head_f32 = &avx2::AttentionHeadF32,
      // No bf16 dot product before AVX512_BF16.
      .attention_head_bf16 = GenericKernels().attention_head_bf16,
      .layer_norm = &avx2::LayerNorm,
      .softmax = &avx2::Softmax,
      .log_softmax = &avx2::LogSoftmax,
      .arg_max = &avx2::ArgMax,
      .gelu = &avx2::Gelu,
      .add = &avx2::Add,
      .scaled_copy = &avx2::ScaledCopy,
      // Only bf16 attention converts, and it runs at avx512_bf16.
      .to_bf16 = GenericKernels().to_bf16,
      .quantize_row_u8 = &avx2::QuantizeRowU8,
      .dequantize_row = &avx2::DequantizeRow,
      .int8_matmul = &avx2::Int8Matmul,
  };
  return table;
}

}  // namespace heed::kernels
