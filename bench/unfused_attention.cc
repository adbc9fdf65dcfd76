#include "bench/unfused_attention.h"

#include "core/ops/onednn_engine.h"

namespace heed::bench {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

UnfusedAttention::UnfusedAttention(int len, int heads, int head_dim, float scale)
    // heed's engine, not one of its own: creating that one caps oneDNN at the
    // level the benchmark runs at (an engine made here first would leave
    // oneDNN uncapped, and the baseline would run AVX-512 code at --isa=avx2).
    : engine_(ops::CpuEngine()), stream_(engine_) {
  const long L = len, H = heads, D = head_dim;
  // Views of the token-major layout as [H][L][D] and Kᵀ as [H][D][L].
  const dnnl::memory::desc q_md({H, L, D}, dt::f32, dims{D, H * D, 1});
  const dnnl::memory::desc kt_md({H, D, L}, dt::f32, dims{D, 1, H * D});
  const dnnl::memory::desc s_md({H, L, L}, dt::f32, dims{L * L, L, 1});
  const dnnl::memory::desc v_md({H, L, D}, dt::f32, dims{D, H * D, 1});
  dnnl::primitive_attr scaled;
  scaled.set_output_scales(0, {scale});
  qk_pd_ = dnnl::matmul::primitive_desc(dnnl::matmul::desc(q_md, kt_md, s_md), scaled,
                                        engine_);
  softmax_pd_ = dnnl::softmax_forward::primitive_desc(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, s_md, 2), engine_);
  pv_pd_ = dnnl::matmul::primitive_desc(dnnl::matmul::desc(s_md, v_md, q_md), engine_);
  qk_ = dnnl::matmul(qk_pd_);
  softmax_ = dnnl::softmax_forward(softmax_pd_);
  pv_ = dnnl::matmul(pv_pd_);
  scores_ = dnnl::memory(s_md, engine_);
}

void UnfusedAttention::Run(const float* q, const float* k, const float* v, float* out) {
  dnnl::memory q_mem(qk_pd_.src_desc(), engine_, const_cast<float*>(q));
  dnnl::memory k_mem(qk_pd_.weights_desc(), engine_, const_cast<float*>(k));
  dnnl::memory v_mem(pv_pd_.weights_desc(), engine_, const_cast<float*>(v));
  dnnl::memory o_mem(pv_pd_.dst_desc(), engine_, out);
  qk_.execute(
      stream_,
      {{DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, k_mem}, {DNNL_ARG_DST, scores_}});
  softmax_.execute(stream_, {{DNNL_ARG_SRC, scores_}, {DNNL_ARG_DST, scores_}});
  pv_.execute(
      stream_,
      {{DNNL_ARG_SRC, scores_}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, o_mem}});
  stream_.wait();
}

}  // namespace heed::bench
