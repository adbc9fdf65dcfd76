// An owning, 64-byte-aligned byte buffer: one cache line and one AVX-512
// register, so aligned loads never split lines.
#ifndef HEED_CORE_TENSOR_ALIGNED_BUFFER_H_
#define HEED_CORE_TENSOR_ALIGNED_BUFFER_H_

#include <cstddef>

namespace heed {

inline constexpr size_t kTensorAlignment = 64;

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Uninitialized storage of `bytes` bytes (rounded up to the alignment).
  explicit AlignedBuffer(size_t bytes);
  ~AlignedBuffer();

  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t size() const { return size_; }

  // Grows to at least `bytes`, discarding the contents; never shrinks.
  void Reserve(size_t bytes);

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace heed

#endif  // HEED_CORE_TENSOR_ALIGNED_BUFFER_H_
