#include "core/tensor/tensor.h"

#include <cstring>

#include "absl/strings/str_join.h"

namespace heed {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  return "[" + absl::StrJoin(shape, ", ") + "]";
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
