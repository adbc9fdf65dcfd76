// The owning Tensor: an aligned buffer, a dtype and a row-major shape. Kernels
// and ops take raw pointers and explicit strides, so there is no view type.
#ifndef HEED_CORE_TENSOR_TENSOR_H_
#define HEED_CORE_TENSOR_TENSOR_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/container/inlined_vector.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/dtype.h"

namespace heed {

using Shape = absl::InlinedVector<int64_t, 4>;

int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Uninitialized contents.
  Tensor(DType dtype, Shape shape);
  static Tensor Zeros(DType dtype, Shape shape);

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Negative i counts from the last dimension.
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t size_bytes() const { return num_elements() * DTypeSize(dtype_); }

  // Typed access; the dtype must match T (checked in debug builds).
  template <typename T>
  T* data() {
    CheckDType<T>();
    return static_cast<T*>(buffer_.data());
  }
  template <typename T>
  const T* data() const {
    CheckDType<T>();
    return static_cast<const T*>(buffer_.data());
  }

 private:
  template <typename T>
  void CheckDType() const {
#ifndef NDEBUG
    if (DTypeOf<T>() != dtype_) __builtin_trap();
#endif
  }

  AlignedBuffer buffer_;
  DType dtype_ = DType::kF32;
  Shape shape_;
};

}  // namespace heed

#endif  // HEED_CORE_TENSOR_TENSOR_H_
