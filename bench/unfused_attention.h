// The baseline fused attention is measured against: oneDNN primitives run one
// after another, with the full score matrix in memory. Per sequence, batched
// over heads: S = scale Q Kᵀ (matmul), P = softmax(S) (softmax), O = P V (matmul).
#ifndef HEED_BENCH_UNFUSED_ATTENTION_H_
#define HEED_BENCH_UNFUSED_ATTENTION_H_

#include "oneapi/dnnl/dnnl.hpp"

namespace heed::bench {

class UnfusedAttention {
 public:
  // Token-major f32 q, k, v, out: [len][heads * head_dim] per sequence.
  UnfusedAttention(int len, int heads, int head_dim, float scale);
  void Run(const float* q, const float* k, const float* v, float* out);

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::matmul::primitive_desc qk_pd_, pv_pd_;
  dnnl::softmax_forward::primitive_desc softmax_pd_;
  dnnl::matmul qk_, pv_;
  dnnl::softmax_forward softmax_;
  dnnl::memory scores_;
};

}  // namespace heed::bench

#endif  // HEED_BENCH_UNFUSED_ATTENTION_H_
