// Keys and values of one attention layer for one sequence, head-major
// ([heads][capacity][head_dim]) so that decode attention streams each head's
// rows contiguously. Capacity doubles as tokens are appended. Elements are f32,
// or bf16 for the bf16 attention kernel (half the memory and bandwidth; rows
// are rounded to bf16 as they are appended).
#ifndef HEED_CORE_MODELS_KV_CACHE_H_
#define HEED_CORE_MODELS_KV_CACHE_H_

#include <cstdint>

#include "core/kernels/attention.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/dtype.h"

namespace heed::models {

class KvCache {
 public:
  KvCache(int heads, int head_dim, DType dtype = DType::kF32)
      : heads_(heads), head_dim_(head_dim), dtype_(dtype) {}

  // Appends rows of `rows` tokens: k and v in token-major layout ([t][heads*head_dim]
  // with row stride `stride`).
  void Append(const float* k, const float* v, int rows, int64_t stride);
  // A deep copy (beam search continues one hypothesis in several beams).
  KvCache Clone() const;
  int length() const { return length_; }
  DType dtype() const { return dtype_; }
  // The cache as the attention kernels read it; T must match dtype().
  template <typename T>
  kernels::KvSequence<T> View() const {
    return {static_cast<const T*>(k_.data()), static_cast<const T*>(v_.data()),
            int64_t{capacity_} * head_dim_, length_};
  }

 private:
  void Grow(int min_capacity);

  int heads_, head_dim_;
  DType dtype_;
  int length_ = 0;
  int capacity_ = 0;
  AlignedBuffer k_, v_;
};

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_KV_CACHE_H_
