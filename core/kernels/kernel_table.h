// The dispatch table: one entry per kernel, one table per instruction set.
// core/cpu decides the ISA once; every public kernel calls through Kernels().
#ifndef HEED_CORE_KERNELS_KERNEL_TABLE_H_
#define HEED_CORE_KERNELS_KERNEL_TABLE_H_

#include <cstdint>

#include "core/cpu/cpu_features.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/int8_matmul.h"
#include "core/tensor/dtype.h"

namespace heed::kernels {

// Defined in internal/head_problem.h; the table only points to functions that
// take one, so tests can include this header to compare tables.
template <typename T>
struct HeadProblem;

struct KernelTable {
  void (*attention_head_f32)(const HeadProblem<float>&);
  void (*attention_head_bf16)(const HeadProblem<bf16>&);
  void (*layer_norm)(const float* x, float* y, int64_t rows, int64_t cols,
                     const float* gamma, const float* beta, float eps);
  void (*softmax)(float* x, int64_t rows, int64_t cols);
  void (*log_softmax)(float* x, int64_t n);
  int64_t (*arg_max)(const float* x, int64_t n);
  void (*gelu)(float* x, int64_t n, GeluForm form);
  void (*add)(float* y, const float* x, int64_t n);
  void (*scaled_copy)(const float* x, float* y, int64_t n, float scale);
  void (*to_bf16)(const float* x, bf16* y, int64_t n);
  float (*quantize_row_u8)(const float* x, int64_t n, uint8_t* q);
  void (*dequantize_row)(const int32_t* sums, const int32_t* compensation,
                         const float* channel_scales, const float* bias, float row_scale,
                         float* y, int64_t n);
  void (*int8_matmul)(const Int8MatmulProblem& p);
};

// The table of the active ISA (cpu::ActiveIsa()).
const KernelTable& Kernels();
// The table of a given level, for tests and benchmarks that compare paths.
const KernelTable& KernelsFor(cpu::Isa isa);

// Per-ISA tables, defined in their own translation units.
const KernelTable& GenericKernels();
const KernelTable& Avx2Kernels();

}  // namespace heed::kernels

#endif  // HEED_CORE_KERNELS_KERNEL_TABLE_H_
