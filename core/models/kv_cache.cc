#include "core/models/kv_cache.h"

#include <algorithm>
#include <cstring>

namespace heed::models {

void KvCache::Grow(int min_capacity) {
  const int capacity = std::max({16, 2 * capacity_, min_capacity});
  const size_t bytes = size_t{1} * heads_ * capacity * head_dim_ * sizeof(float);
  AlignedBuffer k(bytes), v(bytes);
  for (int h = 0; h < heads_; ++h) {
    const size_t row_bytes = size_t{1} * length_ * head_dim_ * sizeof(float);
    if (row_bytes == 0) continue;
    std::memcpy(static_cast<float*>(k.data()) + int64_t{h} * capacity * head_dim_,
                static_cast<const float*>(k_.data()) + int64_t{h} * capacity_ * head_dim_,
                row_bytes);
    std::memcpy(static_cast<float*>(v.data()) + int64_t{h} * capacity * head_dim_,
                static_cast<const float*>(v_.data()) + int64_t{h} * capacity_ * head_dim_,
                row_bytes);
  }
  k_ = std::move(k);
  v_ = std::move(v);
  capacity_ = capacity;
}

void KvCache::Append(const float* k, const float* v, int rows, int64_t stride) {
  if (length_ + rows > capacity_) Grow(length_ + rows);
  float* kd = static_cast<float*>(k_.data());
  float* vd = static_cast<float*>(v_.data());
  for (int t = 0; t < rows; ++t) {
    for (int h = 0; h < heads_; ++h) {
      const int64_t dst = (int64_t{h} * capacity_ + length_ + t) * head_dim_;
      std::memcpy(kd + dst, k + t * stride + h * head_dim_, head_dim_ * sizeof(float));
      std::memcpy(vd + dst, v + t * stride + h * head_dim_, head_dim_ * sizeof(float));
    }
  }
  length_ += rows;
}

KvCache KvCache::Clone() const {
  KvCache copy(heads_, head_dim_);
  if (length_ > 0) {
    copy.Grow(capacity_);
    std::memcpy(copy.k_.data(), k_.data(), k_.size());
    std::memcpy(copy.v_.data(), v_.data(), v_.size());
    copy.length_ = length_;
  }
  return copy;
}

kernels::KvSequence<float> KvCache::View() const {
  return {static_cast<const float*>(k_.data()), static_cast<const float*>(v_.data()),
          int64_t{capacity_} * head_dim_, length_};
}

}  // namespace heed::models
