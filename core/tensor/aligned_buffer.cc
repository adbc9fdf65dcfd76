#include "core/tensor/aligned_buffer.h"

#include <cstdlib>
#include <new>
#include <utility>

namespace heed {
namespace {

void* AllocateAligned(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t rounded =
      (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  void* p = std::aligned_alloc(kTensorAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();  // out of memory is fatal, as for new
  return p;
}

}  // namespace

AlignedBuffer::AlignedBuffer(size_t bytes)
    : data_(AllocateAligned(bytes)), size_(bytes) {}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void AlignedBuffer::Reserve(size_t bytes) {
  if (bytes <= size_) return;
  std::free(data_);
  data_ = AllocateAligned(bytes);
  size_ = bytes;
}

}  // namespace heed
