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

// Transposes the 8 x 8 block of floats in r[0..8) in place.
inline void Transpose8x8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    for (int h = 0; h < 2; ++h) {
      const __m256d a = _mm256_castps_pd(t[i + h]);
      const __m256d b = _mm256_castps_pd(t[i + h + 2]);
      r[i + 2 * h] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, b));
      r[i + 2 * h + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, b));
    }
  }
  // Now r[4q + w] holds, in 128-bit half H, column 4H + w of rows 4q..4q+3.
  for (int w = 0; w < 4; ++w) {
    t[w] = _mm256_permute2f128_ps(r[w], r[w + 4], 0x20);
    t[w + 4] = _mm256_permute2f128_ps(r[w], r[w + 4], 0x31);
  }
  for (int i = 0; i < 8; ++i) r[i] = t[i];
}

// Kᵀ in blocks of kNk keys: packed[(j / kNk) * head_dim * kNk + d * kNk + j % kNk]
// = k[j][d]; keys lk..lk_pad are zero. Transposed 8 x 8 at a time (a float at
// a time, packing took a twentieth of the kernel at length 128).
void PackKTransposed(const float* k, int64_t k_stride, int lk, int head_dim, int lk_pad,
                     float* packed) {
  for (int j = 0; j < lk_pad; j += 8) {
    float* block = packed + static_cast<int64_t>(j / kNk) * head_dim * kNk + j % kNk;
    for (int d = 0; d < head_dim; d += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) {
        r[i] = j + i < lk ? _mm256_loadu_ps(k + (j + i) * k_stride + d)
                          : _mm256_setzero_ps();
      }
      Transpose8x8(r);
      for (int i = 0; i < 8; ++i) _mm256_store_ps(block + (d + i) * kNk, r[i]);
    }
  }
}

// S[MR][0..16) = scale Q[MR] · Kᵀ for the 16 keys of one packed block; S rows
// are kTile apart. With kTrackMax, also folds each row's scores into its
// lanes of row_max (MR vectors of 8), which saves the softmax a pass.
template <int MR, bool kTrackMax>
inline void ScoreTile(const float* q, int64_t q_stride, const float* kt, int head_dim,
                      __m256 scale, float* s, float* row_max) {
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
    acc[r][0] = _mm256_mul_ps(acc[r][0], scale);
    acc[r][1] = _mm256_mul_ps(acc[r][1], scale);
    _mm256_store_ps(s + r * kTile, acc[r][0]);
    _mm256_store_ps(s + r * kTile + 8, acc[r][1]);
    if constexpr (kTrackMax) {
      _mm256_store_ps(row_max + 8 * r,
                      _mm256_max_ps(_mm256_load_ps(row_max + 8 * r),
                                    _mm256_max_ps(acc[r][0], acc[r][1])));
    }
  }
}

// The maximum of x's lanes, in every lane.
inline __m256 BroadcastMax(__m256 x) {
  x = _mm256_max_ps(x, _mm256_permute2f128_ps(x, x, 0x01));
  x = _mm256_max_ps(x, _mm256_permute_ps(x, 0x4e));
  return _mm256_max_ps(x, _mm256_permute_ps(x, 0xb1));
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
// one tile of keys. As in the AVX-512 kernel, maxima and sums stay in
// vectors, reduced across lanes once per tile (maximum) and at the end (sum).
template <int MR>
struct RowBlock {
  alignas(32) float s[MR * kTile];
  alignas(32) float o[MR * kMaxHeadDim];
  alignas(32) float l[MR * 8];  // each row's running sum, spread over lanes
  alignas(32) float m[8];       // running maxima, row r in lane r
  alignas(32) float alpha[8];   // this tile's rescale factors, row r in lane r
  int i0 = 0;
  int keys_end = 0;  // the last row of the block sees the most keys

  void Begin(const HeadProblem<float>& p, int first_row) {
    i0 = first_row;
    keys_end = std::clamp(i0 + MR - 1 + p.causal_offset + 1, 0, p.lk);
    _mm256_store_ps(m, _mm256_set1_ps(-INFINITY));
    for (int r = 0; r < MR; ++r) {
      _mm256_store_ps(l + 8 * r, _mm256_setzero_ps());
      std::memset(o + r * kMaxHeadDim, 0, p.head_dim * sizeof(float));
    }
  }

  // How many keys of the tile at j0 row r sees (possibly none or negative).
  int Visible(const HeadProblem<float>& p, int r, int j0) const {
    return std::min(std::clamp(i0 + r + p.causal_offset + 1, 0, p.lk) - j0, kTile);
  }

  void Tile(const HeadProblem<float>& p, const float* kt, int j0) {
    const float* q = p.q + i0 * p.q_stride;
    const __m256 scale = _mm256_set1_ps(p.scale * 1.44269504f);  // log2(e)
    const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
    const int tile_keys = std::min(kTile, keys_end - j0);
    // ScoreTile computes whole blocks of kNk keys. Unless every row sees all
    // of them (the first row sees the fewest), some scores are masked after.
    const bool masked = Visible(p, 0, j0) < RoundUp(tile_keys, kNk);
    alignas(32) float row_max[MR * 8];
    for (int r = 0; r < MR; ++r) _mm256_store_ps(row_max + 8 * r, neg_inf);
    for (int c0 = 0; c0 < tile_keys; c0 += kNk) {
      const float* block = kt + static_cast<int64_t>(j0 + c0) * p.head_dim;
      if (masked) {
        ScoreTile<MR, false>(q, p.q_stride, block, p.head_dim, scale, s + c0, row_max);
      } else {
        ScoreTile<MR, true>(q, p.q_stride, block, p.head_dim, scale, s + c0, row_max);
      }
    }
    const int vectors = (tile_keys + 7) / 8;
    if (masked) {
      // -inf for the keys a row must not see, and the maxima of the others.
      for (int r = 0; r < MR; ++r) {
        const int visible = Visible(p, r, j0);
        float* sr = s + r * kTile;
        __m256 vmax = neg_inf;
        for (int c = 0; c < vectors; ++c) {
          const __m256 live = _mm256_castsi256_ps(FirstLanes(visible - 8 * c));
          const __m256 v = _mm256_blendv_ps(neg_inf, _mm256_load_ps(sr + 8 * c), live);
          _mm256_store_ps(sr + 8 * c, v);
          vmax = _mm256_max_ps(vmax, v);
        }
        _mm256_store_ps(row_max + 8 * r, vmax);
      }
    }
    // The new running maxima and the rescale factors 2^(m - m_new) of all
    // rows at once; 1 while a row has seen no visible key (m_new = -inf),
    // where the subtraction would be NaN.
    __m256 tile_max = neg_inf;
    for (int r = 0; r < MR; ++r) {
      const __m256 lane_r = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(r)));
      tile_max = _mm256_blendv_ps(tile_max, BroadcastMax(_mm256_load_ps(row_max + 8 * r)),
                                  lane_r);
    }
    const __m256 m_old = _mm256_load_ps(m);
    const __m256 m_new = _mm256_max_ps(m_old, tile_max);
    const __m256 seen = _mm256_cmp_ps(m_new, neg_inf, _CMP_NEQ_OQ);
    _mm256_store_ps(alpha,
                    _mm256_blendv_ps(_mm256_set1_ps(1.0f),
                                     Exp2NonPositive(_mm256_sub_ps(m_old, m_new)), seen));
    _mm256_store_ps(m, m_new);
    for (int r = 0; r < MR; ++r) {
      float* sr = s + r * kTile;
      __m256 vsum = _mm256_setzero_ps();
      if (m[r] == -INFINITY) {
        // Nothing visible yet: -inf - -inf would be NaN; the row adds nothing.
        for (int c = 0; c < vectors; ++c) _mm256_store_ps(sr + 8 * c, vsum);
      } else {
        const __m256 mv = _mm256_set1_ps(m[r]);
        for (int c = 0; c < vectors; ++c) {
          // Masked lanes hold -inf, and 2^-inf = 0.
          const __m256 e = Exp2NonPositive(_mm256_sub_ps(_mm256_load_ps(sr + 8 * c), mv));
          vsum = _mm256_add_ps(vsum, e);
          _mm256_store_ps(sr + 8 * c, e);
        }
      }
      _mm256_store_ps(l + 8 * r, _mm256_fmadd_ps(_mm256_load_ps(l + 8 * r),
                                                 _mm256_set1_ps(alpha[r]), vsum));
    }
    const int keys = std::min(tile_keys, p.lk - j0);
    ValueTileAllChunks<MR>(s, alpha, p.v + j0 * p.v_stride, p.v_stride, keys, p.head_dim,
                           o);
  }

  void Finish(const HeadProblem<float>& p) const {
    for (int r = 0; r < MR; ++r) {
      float* out = p.out + (i0 + r) * p.out_stride;
      const float sum = ReduceAdd(_mm256_load_ps(l + 8 * r));
      const __m256 inv = _mm256_set1_ps(sum > 0.0f ? 1.0f / sum : 0.0f);
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
