// A fully connected layer on oneDNN: y = act(x Wᵀ + b), with W as PyTorch's
// nn.Linear stores it ([out_features][in_features]). The weights are converted
// once, at creation, to the compute type and to the blocked layout oneDNN's
// kernels read fastest; primitives are cached per number of rows.
//
// Compute types: f32; bf16 (weights and activations rounded to bf16, f32
// accumulation and output); int8 (weights s8 with one scale per output
// channel, activations u8 with one scale per row, exact 32-bit sums, f32
// output). A row's int8 result never depends on the other rows of the call.
// int8 products run on heed's kernels::Int8Matmul from the avx2 level up
// (weights packed once, quantization and product in one parallel region;
// Int8UsesHeedProduct), on oneDNN at generic. Without VNNI (AVX2, AVX-512
// before Cascade Lake) the weights use 7 bits ([-63, 63]) so that x86's 16-bit
// pair sums cannot saturate (Int8WeightLevels).
#ifndef HEED_CORE_OPS_LINEAR_H_
#define HEED_CORE_OPS_LINEAR_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/ops/compute_type.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace heed::ops {

enum class Activation { kNone, kRelu, kGeluErf, kGeluTanh, kSwish };

struct LinearWeights {
  const float* weight = nullptr;  // [out_features][in_features]
  const float* bias = nullptr;    // [out_features], or nullptr
  int64_t out_features = 0;
  int64_t in_features = 0;
};

class Linear {
 public:
  static absl::StatusOr<std::unique_ptr<Linear>> Create(const LinearWeights& weights,
                                                        ComputeType compute_type,
                                                        Activation activation);

  // y[m][out_features] = act(x[m][in_features] Wᵀ + b); rows are contiguous.
  // Thread-safe: concurrent calls share the weights. More than
  // kMaxRowsPerCall rows run in chunks of that many.
  absl::Status Forward(const float* x, int64_t m, float* y) const;

  // Rows per matrix product. A primitive is made and cached per row count, so
  // an unbounded count (a batch of encoder inputs has any number of tokens)
  // would grow the cache with every new total; chunks keep it to at most this
  // many primitives per layer, and products this tall already reuse each
  // weight block across hundreds of rows.
  static constexpr int64_t kMaxRowsPerCall = 512;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  ComputeType compute_type() const { return compute_type_; }
  // Bytes of the converted weights (for memory accounting and roofline bounds).
  int64_t weight_bytes() const;
  // int8: the largest weight magnitude after quantization (127, or 63 without
  // VNNI); 0 for the other compute types.
  int weight_levels() const { return weight_levels_; }
  // oneDNN's name for the implementation that runs m rows, e.g. "brg:avx512_core".
  std::string ImplementationName(int64_t m) const;

  // float32 layers: whether GatherWeightRows can read the converted weights.
  bool can_gather_weight_rows() const { return !in_offsets_.empty(); }
  // Writes scale x W[r][:] (a row of the weights given to Create,
  // in_features values) for each r of `rows` into out, read from the
  // converted weights: a model whose embedding table is also its output
  // layer (tied weights) keeps the table once. An out-of-range row is
  // INVALID_ARGUMENT naming the token id and its position.
  absl::Status GatherWeightRows(std::span<const int32_t> rows, float scale,
                                float* out) const;

 private:
  struct Primitive {
    dnnl::matmul matmul;
    dnnl::matmul::primitive_desc pd;
    // int8 only: the activation, applied after dequantization.
    dnnl::eltwise_forward activation;
    dnnl::eltwise_forward::primitive_desc activation_pd;
  };

  Linear() = default;
  // Forward for m <= kMaxRowsPerCall rows.
  absl::Status ForwardRows(const float* x, int64_t m, float* y) const;
  absl::StatusOr<const Primitive*> PrimitiveFor(int64_t m) const;
  dnnl::matmul::primitive_desc MakePrimitiveDesc(
      int64_t m, const dnnl::memory::desc& weights_md) const;
  void DequantizeRows(const int32_t* sums, const float* row_scales, int64_t m,
                      float* y) const;
  // int8: the activation after dequantization, in place in y (no wait).
  void ApplyInt8Activation(const Primitive& p, float* y) const;
  // int8 on kernels::Int8Matmul: quantization and the product in one
  // parallel region, dequantization fused into the product.
  void ForwardPackedInt8(const float* x, int64_t m, float* y) const;
  // Where weight (k, n) lies in the converted weights' blocked layout:
  // in_offsets_[k] + OutOffset(n) elements (a blocked layout's offset is a
  // sum of one term per dimension).
  int64_t OutOffset(int64_t n) const;
  std::vector<int64_t> in_offsets_;

  int64_t in_features_ = 0;
  int64_t out_features_ = 0;
  ComputeType compute_type_ = ComputeType::kFloat32;
  Activation activation_ = Activation::kNone;
  dnnl::memory weights_;  // compute type, oneDNN's blocked layout
  dnnl::memory bias_;     // f32 [1][out_features], or empty
  int weight_levels_ = 0;
  std::vector<float> channel_scales_;        // int8: per-output-channel weight scales
  std::vector<int32_t> shift_compensation_;  // int8: 128 Σ_k q[n][k], the u8 shift
  struct FreeDeleter {
    void operator()(int8_t* p) const { std::free(p); }
  };
  // int8 on kernels::Int8Matmul: the weights in its packed layout (weights_
  // is then empty).
  std::unique_ptr<int8_t[], FreeDeleter> packed_int8_;

  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<int64_t, std::unique_ptr<Primitive>> primitives_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace heed::ops

#endif  // HEED_CORE_OPS_LINEAR_H_
