// The dispatch tables of the AVX-512 levels and the choice of table per level.
// The AVX-512 entries are defined in avx512_*.cc, which enable AVX-512 per
// translation unit (avx512_target.h); this file is plain x86-64 so that
// building the tables never executes AVX-512 instructions.
#include "core/kernels/kernel_table.h"

#include "core/cpu/cpu_features.h"
#include "core/kernels/internal/isa_kernels.h"

namespace heed::kernels {

// The AVX-512 table of a level: bf16 attention runs vdpbf16ps only at
// avx512_bf16 (Cooper Lake, Zen 4 and later) and the portable path below; the
// int8 product runs vpdpbusd from avx512_vnni up.
static KernelTable MakeAvx512Table(cpu::Isa isa) {
  return {
      .attention_head_f32 = &avx512::AttentionHeadF32,
      .attention_head_bf16 = isa >= cpu::Isa::kAvx512Bf16
                                 ? &avx512::AttentionHeadBf16
                                 : GenericKernels().attention_head_bf16,
      .layer_norm = &avx512::LayerNorm,
      .softmax = &avx512::Softmax,
      .log_softmax = &avx512::LogSoftmax,
      .arg_max = &avx512::ArgMax,
      .gelu = &avx512::Gelu,
      .add = &avx512::Add,
      .scaled_copy = &avx512::ScaledCopy,
      .to_bf16 = &avx512::ToBf16,
      .quantize_row_u8 = &avx512::QuantizeRowU8,
      .dequantize_row = &avx512::DequantizeRow,
      .int8_matmul =
          isa >= cpu::Isa::kAvx512Vnni ? &avx512::Int8MatmulVnni : &avx512::Int8Matmul,
  };
}

const KernelTable& KernelsFor(cpu::Isa isa) {
  static const KernelTable avx512 = MakeAvx512Table(cpu::Isa::kAvx512);
  static const KernelTable avx512_vnni = MakeAvx512Table(cpu::Isa::kAvx512Vnni);
  static const KernelTable avx512_bf16 = MakeAvx512Table(cpu::Isa::kAvx512Bf16);
  switch (isa) {
    case cpu::Isa::kAvx512Bf16:
      return avx512_bf16;
    case cpu::Isa::kAvx512Vnni:
      return avx512_vnni;
    case cpu::Isa::kAvx512:
      return avx512;
    case cpu::Isa::kAvx2:
      return Avx2Kernels();
    case cpu::Isa::kGeneric:
      return GenericKernels();
  }
  return GenericKernels();
}

const KernelTable& Kernels() { return KernelsFor(cpu::ActiveIsa()); }

}  // namespace heed::kernels
