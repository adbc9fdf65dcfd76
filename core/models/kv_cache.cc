#include "core/models/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/kernels/elementwise.h"

namespace heed::models {

void KvCache::Grow(int min_capacity) {
  const int capacity = std::max({16, 2 * capacity_, min_capacity});
  const size_t element = DTypeSize(dtype_);
  const size_t bytes = size_t{1} * heads_ * capacity * head_dim_ * element;
  AlignedBuffer k(bytes), v(bytes);
  const size_t row_bytes = size_t{1} * length_ * head_dim_ * element;
  for (int h = 0; h < heads_ && row_bytes > 0; ++h) {
    const size_t to = size_t{1} * h * capacity * head_dim_ * element;
    const size_t from = size_t{1} * h * capacity_ * head_dim_ * element;
    std::memcpy(static_cast<char*>(k.data()) + to,
                static_cast<const char*>(k_.data()) + from, row_bytes);
    std::memcpy(static_cast<char*>(v.data()) + to,
                static_cast<const char*>(v_.data()) + from, row_bytes);
  }
  k_ = std::move(k);
  v_ = std::move(v);
  capacity_ = capacity;
}

namespace {

void CopyRow(const float* from, int n, float* to) {
  std::memcpy(to, from, n * sizeof(float));
}

void CopyRow(const float* from, int n, bf16* to) { kernels::ConvertToBf16(from, to, n); }

template <typename T>
void AppendRows(const float* k, const float* v, int rows, int64_t stride, int heads,
                int head_dim, int capacity, int length, void* k_data, void* v_data) {
  T* kd = static_cast<T*>(k_data);
  T* vd = static_cast<T*>(v_data);
  for (int t = 0; t < rows; ++t) {
    for (int h = 0; h < heads; ++h) {
      const int64_t dst = (int64_t{h} * capacity + length + t) * head_dim;
      CopyRow(k + t * stride + h * head_dim, head_dim, kd + dst);
      CopyRow(v + t * stride + h * head_dim, head_dim, vd + dst);
    }
  }
}

}  // namespace

void KvCache::Append(const float* k, const float* v, int rows, int64_t stride) {
  if (length_ + rows > capacity_) Grow(length_ + rows);
  if (dtype_ == DType::kBF16) {
    AppendRows<bf16>(k, v, rows, stride, heads_, head_dim_, capacity_, length_, k_.data(),
                     v_.data());
  } else {
    AppendRows<float>(k, v, rows, stride, heads_, head_dim_, capacity_, length_,
                      k_.data(), v_.data());
  }
  length_ += rows;
}

KvCache KvCache::Clone() const {
  KvCache copy(heads_, head_dim_, dtype_);
  if (length_ > 0) {
    copy.Grow(capacity_);
    std::memcpy(copy.k_.data(), k_.data(), k_.size());
    std::memcpy(copy.v_.data(), v_.data(), v_.size());
    copy.length_ = length_;
  }
  return copy;
}

}  // namespace heed::models
