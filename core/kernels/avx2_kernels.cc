// The AVX2 dispatch table. Its entries are defined in avx2_*.cc, which enable
// AVX2 per translation unit (avx2_target.h); this file is plain x86-64.
#include "core/kernels/kernel_table.h"

namespace heed::kernels {
namespace avx2 {
void AttentionHeadF32(const HeadProblem<float>& p);
void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps);
void Softmax(float* x, int64_t rows, int64_t cols);
void LogSoftmax(float* x, int64_t n);
void Gelu(float* x, int64_t n, GeluForm form);
void Add(float* y, const float* x, int64_t n);
void ScaledCopy(const float* x, float* y, int64_t n, float scale);
}  // namespace avx2

const KernelTable& Avx2Kernels() {
  static const KernelTable table = {
      .isa = cpu::Isa::kAvx2,
      .attention_head_f32 = &avx2::AttentionHeadF32,
      // No bf16 dot product before AVX512_BF16.
      .attention_head_bf16 = GenericKernels().attention_head_bf16,
      .layer_norm = &avx2::LayerNorm,
      .softmax = &avx2::Softmax,
      .log_softmax = &avx2::LogSoftmax,
      .gelu = &avx2::Gelu,
      .add = &avx2::Add,
      .scaled_copy = &avx2::ScaledCopy,
  };
  return table;
}

}  // namespace heed::kernels
