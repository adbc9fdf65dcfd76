// The AVX-512 dispatch table. Its entries are defined in avx512_*.cc, which
// enable AVX-512 per translation unit (avx512_target.h); this file is plain
// x86-64 so that building the table never executes AVX-512 instructions.
#include "core/kernels/kernel_table.h"

#include "core/cpu/cpu_features.h"
#include "core/kernels/internal/head_problem.h"

namespace heed::kernels {
namespace avx512 {
void AttentionHeadF32(const HeadProblem<float>& p);
void AttentionHeadBf16(const HeadProblem<bf16>& p);
void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps);
void Softmax(float* x, int64_t rows, int64_t cols);
void Gelu(float* x, int64_t n, GeluForm form);
void Add(float* y, const float* x, int64_t n);
void ScaledCopy(const float* x, float* y, int64_t n, float scale);
}  // namespace avx512

const KernelTable& Avx512Kernels() {
  // AVX-512 CPUs before Cooper Lake / Zen 4 lack vdpbf16ps: their bf16
  // attention takes the portable path.
  static const KernelTable table = {
      .isa = cpu::Isa::kAvx512,
      .attention_head_f32 = &avx512::AttentionHeadF32,
      .attention_head_bf16 = cpu::DetectedFeatures().avx512_bf16
                                 ? &avx512::AttentionHeadBf16
                                 : GenericKernels().attention_head_bf16,
      .layer_norm = &avx512::LayerNorm,
      .softmax = &avx512::Softmax,
      .gelu = &avx512::Gelu,
      .add = &avx512::Add,
      .scaled_copy = &avx512::ScaledCopy,
  };
  return table;
}

const KernelTable& KernelsFor(cpu::Isa isa) {
  switch (isa) {
    case cpu::Isa::kAvx512:
      return Avx512Kernels();
    case cpu::Isa::kAvx2:
    case cpu::Isa::kGeneric:
      return GenericKernels();
  }
  return GenericKernels();
}

const KernelTable& Kernels() { return KernelsFor(cpu::ActiveIsa()); }

}  // namespace heed::kernels
