// The unit of work every attention implementation computes: one head of one
// sequence. The public functions in attention.cc split batches into these and
// spread them over threads; the per-ISA kernels only see this.
#ifndef HEED_CORE_KERNELS_INTERNAL_HEAD_PROBLEM_H_
#define HEED_CORE_KERNELS_INTERNAL_HEAD_PROBLEM_H_

#include <cstdint>
#include <cstring>

namespace heed::kernels {

template <typename T>
struct HeadProblem {
  const T* q;  // row i at q + i * q_stride, head_dim elements
  int64_t q_stride;
  const T* k;
  int64_t k_stride;
  const T* v;
  int64_t v_stride;
  float* out;
  int64_t out_stride;
  int lq;
  int lk;
  int head_dim;
  float scale;
  // Query i sees keys j <= i + causal_offset; lk or more means no mask.
  int causal_offset;
  float* probs;  // [lq][lk], or nullptr
};

// `p` with its V rows copied into `dst` (lk x head_dim floats, contiguous).
// In the model's layout the rows are heads x head_dim floats apart (2 KB at
// d_model 512), which maps the column the P·V product reads from every row
// of a key tile into the same few L1 sets.
inline HeadProblem<float> WithContiguousV(const HeadProblem<float>& p, float* dst) {
  for (int j = 0; j < p.lk; ++j) {
    std::memcpy(dst + static_cast<int64_t>(j) * p.head_dim, p.v + j * p.v_stride,
                p.head_dim * sizeof(float));
  }
  HeadProblem<float> packed = p;
  packed.v = dst;
  packed.v_stride = p.head_dim;
  return packed;
}

}  // namespace heed::kernels

#endif  // HEED_CORE_KERNELS_INTERNAL_HEAD_PROBLEM_H_
