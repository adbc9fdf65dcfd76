// Keys and values of one attention layer for one sequence, head-major
// ([heads][capacity][head_dim]) so that decode attention streams each head's
// rows contiguously. Capacity doubles as tokens are appended.
#ifndef HEED_CORE_MODELS_KV_CACHE_H_
#define HEED_CORE_MODELS_KV_CACHE_H_

#include <cstdint>

#include "core/kernels/attention.h"
#include "core/tensor/aligned_buffer.h"

namespace heed::models {

class KvCache {
 public:
  KvCache(int heads, int head_dim) : heads_(heads), head_dim_(head_dim) {}

  // Appends rows of `rows` tokens: k and v in token-major layout ([t][heads*head_dim]
  // with row stride `stride`).
  void Append(const float* k, const float* v, int rows, int64_t stride);
  // A deep copy (beam search continues one hypothesis in several beams).
  KvCache Clone() const;
  int length() const { return length_; }
  kernels::KvSequence<float> View() const;

 private:
  void Grow(int min_capacity);

  int heads_, head_dim_;
  int length_ = 0;
  int capacity_ = 0;
  AlignedBuffer k_, v_;
};

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_KV_CACHE_H_
