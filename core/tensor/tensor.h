// Tensors: an owning Tensor (aligned buffer + dtype + shape, row-major) and a
// non-owning TensorView (pointer + dtype + shape + strides in elements).
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
// Row-major strides of `shape`, in elements.
Shape ContiguousStrides(const Shape& shape);
std::string ShapeToString(const Shape& shape);

class TensorView {
 public:
  TensorView() = default;
  // Row-major view of `data`.
  TensorView(void* data, DType dtype, Shape shape);
  TensorView(void* data, DType dtype, Shape shape, Shape strides);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t stride(int i) const { return strides_[i < 0 ? i + rank() : i]; }
  int64_t num_elements() const { return NumElements(shape_); }
  bool is_contiguous() const { return strides_ == ContiguousStrides(shape_); }

  void* raw_data() const { return data_; }
  // Typed access; the dtype must match T (checked in debug builds).
  template <typename T>
  T* data() const;

  // Rows [begin, end) of the first dimension.
  TensorView Slice(int64_t begin, int64_t end) const;

 private:
  void* data_ = nullptr;
  DType dtype_ = DType::kF32;
  Shape shape_;
  Shape strides_;
};

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
  int64_t dim(int i) const { return view().dim(i); }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t size_bytes() const { return num_elements() * DTypeSize(dtype_); }

  template <typename T>
  T* data() {
    return view().data<T>();
  }
  template <typename T>
  const T* data() const {
    return view().data<T>();
  }
  TensorView view() const {
    return TensorView(const_cast<void*>(buffer_.data()), dtype_, shape_);
  }

 private:
  AlignedBuffer buffer_;
  DType dtype_ = DType::kF32;
  Shape shape_;
};

template <typename T>
T* TensorView::data() const {
#ifndef NDEBUG
  if (DTypeOf<T>() != dtype_) __builtin_trap();
#endif
  return static_cast<T*>(data_);
}

}  // namespace heed

#endif  // HEED_CORE_TENSOR_TENSOR_H_
