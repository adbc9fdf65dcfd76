// Loading transformer weights from a checkpoint into compute-ready form:
// linear layers (converted once to the model's compute type), layer norms,
// embedding tables. Errors name the tensor, its expected shape and the file.
#ifndef HEED_CORE_MODELS_WEIGHTS_H_
#define HEED_CORE_MODELS_WEIGHTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/safetensors.h"
#include "core/ops/linear.h"
#include "core/tensor/tensor.h"

namespace heed::models {

struct LayerNormWeights {
  Tensor gamma;
  Tensor beta;
  float eps = 1e-5f;
  // y = LayerNorm(x) over rows of gamma.dim(0) values; y may equal x.
  void Apply(const float* x, float* y, int64_t rows) const;
};

class WeightLoader {
 public:
  // Linear layers use what `compute_type` runs as at this ISA level
  // (ops::ChooseComputeType: bfloat16 becomes float32 without AVX512_BF16).
  WeightLoader(const io::Checkpoint* checkpoint, ops::ComputeType compute_type)
      : checkpoint_(checkpoint),
        compute_type_(ops::ChooseComputeType(compute_type).used) {}

  absl::StatusOr<Tensor> Load(const std::string& name, const Shape& shape) const;
  // `prefix` + "weight" [out][in] and `prefix` + "bias" [out].
  absl::StatusOr<std::unique_ptr<ops::Linear>> Linear(const std::string& prefix,
                                                      int64_t out, int64_t in,
                                                      ops::Activation act) const;
  // Several linear layers of the same input fused into one whose outputs are
  // concatenated (e.g. q, k and v projections: one matrix multiplication).
  absl::StatusOr<std::unique_ptr<ops::Linear>> FusedLinear(
      const std::vector<std::string>& prefixes, int64_t out_each, int64_t in) const;
  // A projection whose weight is an existing [out][in] matrix and whose bias
  // is optional (e.g. the output projection tied to the embeddings).
  absl::StatusOr<std::unique_ptr<ops::Linear>> LinearFrom(const Tensor& weight,
                                                          const Tensor* bias) const;
  absl::StatusOr<LayerNormWeights> Norm(const std::string& prefix, int64_t n,
                                        float eps) const;
  bool Has(const std::string& name) const { return checkpoint_->Contains(name); }
  // The element type of decoding's queries and KV caches: bf16 where the
  // linear layers run bf16 and heed's kernels have vdpbf16ps (level
  // avx512_bf16), else f32 (the portable bf16 attention would be slower than
  // f32). Encoders keep f32 attention: reading bf16 Q/K/V made DistilBERT-base
  // at batch 32 about 10 % slower and Marian-base's encoding 20-40 % slower
  // (docs/benchmarks.md).
  DType attention_dtype() const;

 private:
  const io::Checkpoint* checkpoint_;
  ops::ComputeType compute_type_;
};

absl::StatusOr<ops::Activation> ActivationFromName(const std::string& name);

// Benchmarks measure what bf16 attention brings: false keeps models loaded
// afterwards on f32 attention even where attention_dtype() would pick bf16.
void EnableBf16Attention(bool enabled);

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_WEIGHTS_H_
