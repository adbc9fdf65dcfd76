// The entry points of the per-ISA kernels, defined in avx2_*.cc and
// avx512_*.cc (each compiled for its ISA) and collected into dispatch tables
// by avx2_kernels.cc and kernel_table.cc. The definitions include this header
// too, so a signature that drifts from its table entry does not compile.
#ifndef HEED_CORE_KERNELS_INTERNAL_ISA_KERNELS_H_
#define HEED_CORE_KERNELS_INTERNAL_ISA_KERNELS_H_

#include <cstdint>

#include "core/kernels/elementwise.h"
#include "core/kernels/int8_matmul.h"
#include "core/kernels/internal/head_problem.h"
#include "core/tensor/dtype.h"

namespace heed::kernels::generic {
void Int8Matmul(const Int8MatmulProblem& p);
}  // namespace heed::kernels::generic

namespace heed::kernels::avx2 {
void AttentionHeadF32(const HeadProblem<float>& p);
void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps);
void Softmax(float* x, int64_t rows, int64_t cols);
void LogSoftmax(float* x, int64_t n);
int64_t ArgMax(const float* x, int64_t n);
void Gelu(float* x, int64_t n, GeluForm form);
void Add(float* y, const float* x, int64_t n);
void ScaledCopy(const float* x, float* y, int64_t n, float scale);
float QuantizeRowU8(const float* x, int64_t n, uint8_t* q);
void DequantizeRow(const int32_t* sums, const int32_t* compensation,
                   const float* channel_scales, const float* bias, float row_scale,
                   float* y, int64_t n);
void Int8Matmul(const Int8MatmulProblem& p);
}  // namespace heed::kernels::avx2

namespace heed::kernels::avx512 {
void AttentionHeadF32(const HeadProblem<float>& p);
void AttentionHeadBf16(const HeadProblem<bf16>& p);
void LayerNorm(const float* x, float* y, int64_t rows, int64_t cols, const float* gamma,
               const float* beta, float eps);
void Softmax(float* x, int64_t rows, int64_t cols);
void LogSoftmax(float* x, int64_t n);
int64_t ArgMax(const float* x, int64_t n);
void Gelu(float* x, int64_t n, GeluForm form);
void Add(float* y, const float* x, int64_t n);
void ScaledCopy(const float* x, float* y, int64_t n, float scale);
void ToBf16(const float* x, bf16* y, int64_t n);
float QuantizeRowU8(const float* x, int64_t n, uint8_t* q);
void DequantizeRow(const int32_t* sums, const int32_t* compensation,
                   const float* channel_scales, const float* bias, float row_scale,
                   float* y, int64_t n);
void Int8Matmul(const Int8MatmulProblem& p);
// Needs AVX512_VNNI; exact for weights of all 8 bits.
void Int8MatmulVnni(const Int8MatmulProblem& p);
}  // namespace heed::kernels::avx512

#endif  // HEED_CORE_KERNELS_INTERNAL_ISA_KERNELS_H_
