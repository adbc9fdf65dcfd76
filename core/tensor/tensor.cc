#include "core/tensor/tensor.h"

#include <cstring>

#include "absl/strings/str_join.h"

namespace heed {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape ContiguousStrides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

std::string ShapeToString(const Shape& shape) {
  return "[" + absl::StrJoin(shape, ", ") + "]";
}

TensorView::TensorView(void* data, DType dtype, Shape shape)
    : data_(data),
      dtype_(dtype),
      shape_(std::move(shape)),
      strides_(ContiguousStrides(shape_)) {}

TensorView::TensorView(void* data, DType dtype, Shape shape, Shape strides)
    : data_(data),
      dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)) {}

TensorView TensorView::Slice(int64_t begin, int64_t end) const {
  Shape shape = shape_;
  shape[0] = end - begin;
  char* base = static_cast<char*>(data_) + begin * strides_[0] * DTypeSize(dtype_);
  return TensorView(base, dtype_, std::move(shape), strides_);
}

Tensor::Tensor(DType dtype, Shape shape)
    : buffer_(NumElements(shape) * DTypeSize(dtype)),
      dtype_(dtype),
      shape_(std::move(shape)) {}

Tensor Tensor::Zeros(DType dtype, Shape shape) {
  Tensor t(dtype, std::move(shape));
  if (t.size_bytes() > 0) std::memset(t.buffer_.data(), 0, t.size_bytes());
  return t;
}

}  // namespace heed
