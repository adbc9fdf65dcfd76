// Fused f32 attention for AVX2 + FMA, the same flash-attention scheme as the
// AVX-512 kernel (see avx512_attention.cc) sized for 16 ymm registers:
//   S = scale log2(e) Q_blk K_tileᵀ   kMr x 2 accumulators per 16 keys
//   online softmax in base 2 over tiles of kTile keys
//   O = O 2^(m_old - m_new) + P V_tile   kMr x 2 accumulators per 16 dims
// K is packed once per head as Kᵀ in blocks of 16 keys, so the score
// micro-kernel streams one contiguous block (a whole-row Kᵀ would put its
// rows a power of two apart at long lengths, all in the same cache sets);
// V is copied into contiguous rows. Four blocks of kMr query rows take each
// key tile in turn, so that the tile is read from memory once per 24 rows.
// Single-query problems (decoding) stream K and V rows directly. bf16 inputs
// take the portable path: AVX2 has no bf16 dot product.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/kernels/internal/head_problem.h"
#include "core/kernels/internal/isa_kernels.h"
#include "core/kernels/kernel_table.h"
#include "core/tensor/aligned_buffer.h"

// AVX2 code generation from here on: this include must follow every other
// one, so include sorting must not move it.
// clang-format off
#include "core/kernels/avx2_target.h"
#include "core/kernels/avx2_math.h"
// clang-format on

namespace heed::kernels::avx2 {
namespace {

constexpr int kMr = 6;      // query rows per micro-tile
constexpr int kNk = 16;     // keys per score micro-kernel: two 8-float vectors
constexpr int kTile = 128;  // keys per online-softmax step
constexpr int kMaxHeadDim = 256;
constexpr int kGroup = 4;  // micro-tiles that share each key tile (QueryGroup)

struct Scratch {
  AlignedBuffer packed_k;
  AlignedBuffer packed_v;
  AlignedBuffer scores;
};
thread_local Scratch t_scratch;

int RoundUp(int x, int m) { return (x + m - 1) / m * m; }

// Kᵀ in blocks of kNk keys: packed[(j / kNk) * head_dim * kNk + d * kNk + j % kNk]
// = k[j][d]; keys lk..lk_pad are zero.
void PackKTransposed(const float* k, int64_t k_stride, int lk, int head_dim, int lk_pad,
                     float* packed) {
  std::memset(packed, 0, static_cast<size_t>(lk_pad) * head_dim * sizeof(float));
  for (int j = 0; j < lk; ++j) {
    const float* row = k + j * k_stride;
    float* block = packed + static_cast<int64_t>(j / kNk) * head_dim * kNk + j % kNk;
    for (int d = 0; d < head_dim; ++d) block[d * kNk] = row[d];
  }
}

// S[MR][0..16) = Q[MR] · Kᵀ for the 16 keys of one packed block, unscaled;
// S rows are kTile apart.
template <int MR>
inline void ScoreTile(const float* q, int64_t q_stride, const float* kt, int head_dim,
                      float* s) {
  __m256 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int d = 0; d < head_dim; ++d) {
    const float* kd = kt + d * kNk;
    const __m256 k0 = _mm256_load_ps(kd);
    const __m256 k1 = _mm256_load_ps(kd + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 qb = _mm256_broadcast_ss(q + r * q_stride + d);
      acc[r][0] = _mm256_fmadd_ps(qb, k0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(qb, k1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    _mm256_store_ps(s + r * kTile, acc[r][0]);
    _mm256_store_ps(s + r * kTile + 8, acc[r][1]);
  }
}

// o[MR][dc .. dc+8*NV) = o * alpha + P · V over `keys` keys of the tile.
template <int MR, int NV>
inline void ValueTile(const float* p, const float* alpha, const float* v,
                      int64_t v_stride, int keys, int dc, float* o) {
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const __m256 a = _mm256_set1_ps(alpha[r]);
#pragma GCC unroll 2
    for (int c = 0; c < NV; ++c) {
      acc[r][c] = _mm256_mul_ps(_mm256_load_ps(o + r * kMaxHeadDim + dc + 8 * c), a);
    }
  }
  for (int j = 0; j < keys; ++j) {
    const float* vj = v + j * v_stride + dc;
    __m256 vv[NV];
#pragma GCC unroll 2
    for (int c = 0; c < NV; ++c) vv[c] = _mm256_loadu_ps(vj + 8 * c);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 pb = _mm256_broadcast_ss(p + r * kTile + j);
#pragma GCC unroll 2
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm256_fmadd_ps(pb, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
    for (int c = 0; c < NV; ++c)
      _mm256_store_ps(o + r * kMaxHeadDim + dc + 8 * c, acc[r][c]);
  }
}

template <int MR>
void ValueTileAllChunks(const float* p, const float* alpha, const float* v,
                        int64_t v_stride, int keys, int head_dim, float* o) {
  int dc = 0;
  for (; dc + 16 <= head_dim; dc += 16)
    ValueTile<MR, 2>(p, alpha, v, v_stride, keys, dc, o);
  if (dc < head_dim) ValueTile<MR, 1>(p, alpha, v, v_stride, keys, dc, o);
}

// The online-softmax state of MR query rows starting at row i0; Tile folds in
// one tile of keys.
template <int MR>
struct RowBlock {
  alignas(32) float s[MR * kTile];
  alignas(32) float o[MR * kMaxHeadDim];
  alignas(32) float m[8], m_new[8], alpha[8];
  float l[MR];
  int i0 = 0;
  int keys_end = 0;  // the last row of the block sees the most keys

  void Begin(const HeadProblem<float>& p, int first_row) {
    i0 = first_row;
    keys_end = std::clamp(i0 + MR - 1 + p.causal_offset + 1, 0, p.lk);
    for (int r = 0; r < 8; ++r) m[r] = m_new[r] = -INFINITY;
    for (int r = 0; r < MR; ++r) {
      l[r] = 0.0f;
      std::memset(o + r * kMaxHeadDim, 0, p.head_dim * sizeof(float));
    }
  }

  void Tile(const HeadProblem<float>& p, const float* kt, int j0) {
    const float* q = p.q + i0 * p.q_stride;
    const __m256 scale = _mm256_set1_ps(p.scale * 1.44269504f);  // log2(e)
    const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
    const int tile_keys = std::min(kTile, keys_end - j0);
    for (int c0 = 0; c0 < tile_keys; c0 += kNk) {
      ScoreTile<MR>(q, p.q_stride, kt + static_cast<int64_t>(j0 + c0) * p.head_dim,
                    p.head_dim, s + c0);
    }
    const int vectors = (tile_keys + 7) / 8;
    // Scale, mask, and each row's new running maximum.
    for (int r = 0; r < MR; ++r) {
      const int visible =
          std::min(std::clamp(i0 + r + p.causal_offset + 1, 0, p.lk) - j0, kTile);
      float* sr = s + r * kTile;
      __m256 vmax = neg_inf;
      for (int c = 0; c < vectors; ++c) {
        const __m256 live = _mm256_castsi256_ps(FirstLanes(visible - 8 * c));
        const __m256 v = _mm256_blendv_ps(
            neg_inf, _mm256_mul_ps(_mm256_load_ps(sr + 8 * c), scale), live);
        _mm256_store_ps(sr + 8 * c, v);
        vmax = _mm256_max_ps(vmax, v);
      }
      m_new[r] = std::max(m[r], ReduceMax(vmax));
    }
    // Rescale factors 2^(m - m_new) of all rows at once; 1 while a row has
    // seen no visible key (m_new = -inf), where the subtraction would be NaN.
    const __m256 vm_new = _mm256_load_ps(m_new);
    const __m256 seen = _mm256_cmp_ps(vm_new, neg_inf, _CMP_NEQ_OQ);
    _mm256_store_ps(
        alpha, _mm256_blendv_ps(_mm256_set1_ps(1.0f),
                                Exp2NonPositive(_mm256_sub_ps(_mm256_load_ps(m), vm_new)),
                                seen));
    _mm256_store_ps(m, vm_new);
    for (int r = 0; r < MR; ++r) {
      float* sr = s + r * kTile;
      __m256 vsum = _mm256_setzero_ps();
      if (m_new[r] == -INFINITY) {
        // Nothing visible yet: -inf - -inf would be NaN; the row adds nothing.
        for (int c = 0; c < vectors; ++c) _mm256_store_ps(sr + 8 * c, vsum);
        continue;
      }
      const __m256 mv = _mm256_set1_ps(m_new[r]);
      for (int c = 0; c < vectors; ++c) {
        // Masked lanes hold -inf, and 2^-inf = 0.
        const __m256 e = Exp2NonPositive(_mm256_sub_ps(_mm256_load_ps(sr + 8 * c), mv));
        vsum = _mm256_add_ps(vsum, e);
        _mm256_store_ps(sr + 8 * c, e);
      }
      l[r] = l[r] * alpha[r] + ReduceAdd(vsum);
    }
    const int keys = std::min(tile_keys, p.lk - j0);
    ValueTileAllChunks<MR>(s, alpha, p.v + j0 * p.v_stride, p.v_stride, keys, p.head_dim,
                           o);
  }

  void Finish(const HeadProblem<float>& p) const {
    for (int r = 0; r < MR; ++r) {
      float* out = p.out + (i0 + r) * p.out_stride;
      const __m256 inv = _mm256_set1_ps(l[r] > 0.0f ? 1.0f / l[r] : 0.0f);
      for (int d = 0; d < p.head_dim; d += 8) {
        _mm256_storeu_ps(out + d,
                         _mm256_mul_ps(_mm256_load_ps(o + r * kMaxHeadDim + d), inv));
      }
    }
  }
};

// G blocks of MR query rows from row i0, which take each key tile in turn:
// the tile's Kᵀ and V are read from memory once for all G blocks and then
// hit the cache (one block at a time streamed all of K and V per 6 rows,
// from L3 once they outgrow L2 at long lengths).
template <int MR, int G>
void QueryGroup(const HeadProblem<float>& p, int i0, const float* kt) {
  RowBlock<MR> blocks[G];
  for (int g = 0; g < G; ++g) blocks[g].Begin(p, i0 + g * MR);
  for (int j0 = 0; j0 < blocks[G - 1].keys_end; j0 += kTile) {
    for (int g = 0; g < G; ++g) {
      if (j0 < blocks[g].keys_end) blocks[g].Tile(p, kt, j0);
    }
  }
  for (int g = 0; g < G; ++g) blocks[g].Finish(p);
}

// Single query, no packing: scores by row dot products, then the weighted sum
// of value rows. Reads K and V exactly once.
void DecodeRow(const HeadProblem<float>& p, int i) {
  const int visible = std::clamp(i + p.causal_offset + 1, 0, p.lk);
  float* out = p.out + i * p.out_stride;
  if (visible == 0) {
    std::memset(out, 0, p.head_dim * sizeof(float));
    return;
  }
  t_scratch.scores.Reserve(RoundUp(visible, 8) * sizeof(float));
  float* scores = static_cast<float*>(t_scratch.scores.data());
  const float* q = p.q + i * p.q_stride;
  const int vectors = p.head_dim / 8;
  for (int j = 0; j < visible; ++j) {
    const float* kj = p.k + j * p.k_stride;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int c = 0;
    for (; c + 2 <= vectors; c += 2) {
      acc0 =
          _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * c), _mm256_loadu_ps(kj + 8 * c), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * c + 8),
                             _mm256_loadu_ps(kj + 8 * c + 8), acc1);
    }
    if (c < vectors) {
      acc0 =
          _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * c), _mm256_loadu_ps(kj + 8 * c), acc0);
    }
    scores[j] = ReduceAdd(_mm256_add_ps(acc0, acc1)) * p.scale;
  }
  Softmax(scores, 1, visible);

  __m256 acc[kMaxHeadDim / 8];
  for (int c = 0; c < vectors; ++c) acc[c] = _mm256_setzero_ps();
  for (int j = 0; j < visible; ++j) {
    const __m256 pb = _mm256_broadcast_ss(scores + j);
    const float* vj = p.v + j * p.v_stride;
    for (int c = 0; c < vectors; ++c) {
      acc[c] = _mm256_fmadd_ps(pb, _mm256_loadu_ps(vj + 8 * c), acc[c]);
    }
  }
  for (int c = 0; c < vectors; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

}  // namespace

void AttentionHeadF32(const HeadProblem<float>& p) {
  if (p.probs != nullptr || p.head_dim % 8 != 0 || p.head_dim > kMaxHeadDim) {
    // Explainability output and unusual head sizes take the portable path.
    GenericKernels().attention_head_f32(p);
    return;
  }
  if (p.lq <= 2) {
    for (int i = 0; i < p.lq; ++i) DecodeRow(p, i);
    return;
  }
  const int lk_pad = RoundUp(std::max(p.lk, 1), kTile);
  t_scratch.packed_k.Reserve(static_cast<size_t>(p.head_dim) * lk_pad * sizeof(float));
  float* kt = static_cast<float*>(t_scratch.packed_k.data());
  PackKTransposed(p.k, p.k_stride, p.lk, p.head_dim, lk_pad, kt);
  t_scratch.packed_v.Reserve(static_cast<size_t>(p.head_dim) * p.lk * sizeof(float));
  const HeadProblem<float> packed =
      WithContiguousV(p, static_cast<float*>(t_scratch.packed_v.data()));
  // The first groups' query rows, which the score kernel reads right away
  // (strided too, and usually not in cache for a new head).
  for (int i = 0; i < std::min(p.lq, 4 * kMr * kGroup); ++i) {
    const char* row = reinterpret_cast<const char*>(p.q + i * p.q_stride);
    for (int b = 0; b < p.head_dim * static_cast<int>(sizeof(float)); b += 64) {
      _mm_prefetch(row + b, _MM_HINT_T0);
    }
  }
  int i0 = 0;
  for (; i0 + kMr * kGroup <= p.lq; i0 += kMr * kGroup)
    QueryGroup<kMr, kGroup>(packed, i0, kt);
  for (; i0 + kMr <= p.lq; i0 += kMr) QueryGroup<kMr, 1>(packed, i0, kt);
  switch (p.lq - i0) {
    case 5:
      QueryGroup<5, 1>(packed, i0, kt);
      break;
    case 4:
      QueryGroup<4, 1>(packed, i0, kt);
      break;
    case 3:
      QueryGroup<3, 1>(packed, i0, kt);
      break;
    case 2:
      QueryGroup<2, 1>(packed, i0, kt);
      break;
    case 1:
      QueryGroup<1, 1>(packed, i0, kt);
      break;
    default:
      break;
  }
}

}  // namespace heed::kernels::avx2
