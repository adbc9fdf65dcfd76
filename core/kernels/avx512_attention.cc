// Fused attention for AVX-512, f32 and bf16 (vdpbf16ps), flash-attention style.
//
// For each group of 4 blocks of kMr query rows, keys are visited in tiles of
// kTile = 128, each tile by the 4 blocks in turn:
//   S = scale log2(e) Q_blk K_tileᵀ   register-blocked, kMr x 4 accumulators
//                                      per 64 keys
//   online softmax in base 2: running max m, running sum l, P = 2^(S - m)
//   O = O 2^(m_old - m_new) + P V_tile
// Base 2 folds log2(e) into the score scale, so each exponential is one
// rounding, one polynomial and one vscalefps. The rescale factors of all rows
// are computed together in one vector.
// K is packed once per head as Kᵀ in 64-key blocks (key index fastest), so the
// S micro-kernel broadcasts one query element and multiplies 64 keys with 4
// vector FMAs; V is copied into contiguous rows for f32 (head_dim fastest)
// and packed into key pairs for bf16.
// Single-query problems (decoding) skip the packing and stream K and V rows
// directly: they are memory-bound and every byte is read once.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/kernels/internal/head_problem.h"
#include "core/kernels/internal/isa_kernels.h"
#include "core/kernels/kernel_table.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/dtype.h"

// AVX-512 code generation from here on: this include must follow every other
// one, so include sorting must not move it.
// clang-format off
#include "core/kernels/avx512_target.h"
#include "core/kernels/avx512_math.h"
// clang-format on

namespace heed::kernels::avx512 {
namespace {

constexpr int kMr = 6;      // query rows per micro-tile
constexpr int kNk = 64;     // keys per score micro-kernel: four 16-float vectors
constexpr int kTile = 128;  // keys per online-softmax step
constexpr int kMaxHeadDim = 256;
constexpr int kGroup = 4;  // micro-tiles that share each key tile (QueryGroup)

// Per-thread packing buffers, reused across calls.
struct Scratch {
  AlignedBuffer packed_k;
  AlignedBuffer packed_v;
  AlignedBuffer scores;
};
thread_local Scratch t_scratch;

int RoundUp(int x, int m) { return (x + m - 1) / m * m; }

// Element type traits: the packed unit is one float, or a pair of bf16 that
// vdpbf16ps multiplies and adds in one lane.
template <typename T>
struct Packing;
template <>
struct Packing<float> {
  static constexpr int kPerUnit = 1;
};
template <>
struct Packing<bf16> {
  static constexpr int kPerUnit = 2;
};

// Transposes the 16 x 16 block of 32-bit units in r[0..16) in place.
inline void Transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    for (int h = 0; h < 2; ++h) {
      const __m512d a = _mm512_castps_pd(t[i + h]);
      const __m512d b = _mm512_castps_pd(t[i + h + 2]);
      r[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      r[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
  }
  // Now r[4q + w] holds, in 128-bit lane L, column 4L + w of rows 4q..4q+3.
  // Two rounds of lane shuffles gather each column's 16 rows.
  for (int i = 0; i < 4; ++i) {
    for (int h = 0; h < 2; ++h) {
      t[i + 8 * h] = _mm512_shuffle_f32x4(r[i + 8 * h], r[i + 8 * h + 4], 0x88);
      t[i + 8 * h + 4] = _mm512_shuffle_f32x4(r[i + 8 * h], r[i + 8 * h + 4], 0xdd);
    }
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// Kᵀ in blocks of kNk keys, each block contiguous:
// packed[(j / kNk) * units * kNk + u * kNk + j % kNk] = unit u (one float, or
// bf16 pair 2u, 2u+1) of key row j; rows lk..lk_pad are zero. (Whole Kᵀ rows
// of lk_pad keys put the rows the score micro-kernel reads a power of two
// apart at long lengths, all in the same L1 sets.) Transposed 16 x 16 units
// at a time: a unit at a time, packing took a twentieth of the kernel at
// length 512.
template <typename T>
void PackKTransposed(const T* k, int64_t k_stride, int lk, int head_dim, int lk_pad,
                     uint32_t* packed) {
  const int units = head_dim / Packing<T>::kPerUnit;  // a multiple of 16
  for (int j = 0; j < lk_pad; j += 16) {
    uint32_t* block = packed + static_cast<int64_t>(j / kNk) * units * kNk + j % kNk;
    for (int u = 0; u < units; u += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) {
        r[i] = j + i < lk
                   ? _mm512_loadu_ps(
                         reinterpret_cast<const float*>(k + (j + i) * k_stride) + u)
                   : _mm512_setzero_ps();
      }
      Transpose16x16(r);
      for (int i = 0; i < 16; ++i) {
        _mm512_store_ps(reinterpret_cast<float*>(block + (u + i) * kNk), r[i]);
      }
    }
  }
}

// bf16 V in key pairs: packed[(j/2) * head_dim + d] = (v[j][d], v[j+1][d]);
// a missing odd row is zero.
void PackVPairs(const bf16* v, int64_t v_stride, int lk, int head_dim, uint16_t* packed) {
  const int lk_even = RoundUp(lk, 2);
  for (int j = 0; j < lk_even; j += 2) {
    const uint16_t* r0 = reinterpret_cast<const uint16_t*>(v + j * v_stride);
    const uint16_t* r1 =
        j + 1 < lk ? reinterpret_cast<const uint16_t*>(v + (j + 1) * v_stride) : nullptr;
    uint16_t* out = packed + static_cast<int64_t>(j / 2) * head_dim * 2;
    for (int d = 0; d < head_dim; ++d) {
      out[2 * d] = r0[d];
      out[2 * d + 1] = r1 != nullptr ? r1[d] : 0;
    }
  }
}

// S[MR][0..64) = scale Q[MR] · Kᵀ for the 64 keys of one packed block; S rows
// are kTile apart. With kTrackMax, also folds each row's scores into its
// lanes of row_max (MR vectors of 16), which saves the softmax a pass.
template <int MR, bool kTrackMax, typename T>
inline void ScoreTile(const T* q, int64_t q_stride, const uint32_t* kt, int head_dim,
                      __m512 scale, float* s, float* row_max) {
  __m512 acc[MR][4];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  }
  const int units = head_dim / Packing<T>::kPerUnit;
  for (int u = 0; u < units; ++u) {
    const uint32_t* ku = kt + u * kNk;
    __m512i kv[4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) kv[c] = _mm512_load_si512(ku + 16 * c);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const uint32_t* qrow = reinterpret_cast<const uint32_t*>(q + r * q_stride);
      const __m512i qb = _mm512_set1_epi32(static_cast<int>(qrow[u]));
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        if constexpr (std::is_same_v<T, float>) {
          acc[r][c] = _mm512_fmadd_ps(_mm512_castsi512_ps(qb), _mm512_castsi512_ps(kv[c]),
                                      acc[r][c]);
        } else {
          acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)qb, (__m512bh)kv[c]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      acc[r][c] = _mm512_mul_ps(acc[r][c], scale);
      _mm512_store_ps(s + r * kTile + 16 * c, acc[r][c]);
    }
    if constexpr (kTrackMax) {
      const __m512 m01 = _mm512_max_ps(acc[r][0], acc[r][1]);
      const __m512 m23 = _mm512_max_ps(acc[r][2], acc[r][3]);
      _mm512_store_ps(row_max + 16 * r, _mm512_max_ps(_mm512_load_ps(row_max + 16 * r),
                                                      _mm512_max_ps(m01, m23)));
    }
  }
}

// The maximum of x's lanes, in every lane.
inline __m512 BroadcastMax(__m512 x) {
  x = _mm512_max_ps(x, _mm512_shuffle_f32x4(x, x, 0x4e));
  x = _mm512_max_ps(x, _mm512_shuffle_f32x4(x, x, 0xb1));
  x = _mm512_max_ps(x, _mm512_permute_ps(x, 0x4e));
  return _mm512_max_ps(x, _mm512_permute_ps(x, 0xb1));
}

// o[MR][dc .. dc+16*NV) = o * alpha + P · V over `keys` keys of the tile.
// f32: v rows as stored. bf16: P rounded to bf16 pairs, V packed in key pairs.
template <int MR, int NV, typename T>
inline void ValueTile(const float* p, const float* alpha, const T* v, int64_t v_stride,
                      const uint16_t* v_pairs, int keys, int dc, int head_dim, float* o) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const __m512 a = _mm512_set1_ps(alpha[r]);
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) {
      acc[r][c] = _mm512_mul_ps(_mm512_load_ps(o + r * kMaxHeadDim + dc + 16 * c), a);
    }
  }
  if constexpr (std::is_same_v<T, float>) {
    for (int j = 0; j < keys; ++j) {
      const float* vj = v + j * v_stride + dc;
      __m512 vv[NV];
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) vv[c] = _mm512_loadu_ps(vj + 16 * c);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m512 pb = _mm512_set1_ps(p[r * kTile + j]);
#pragma GCC unroll 4
        for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(pb, vv[c], acc[r][c]);
      }
    }
  } else {
    // P as bf16 pairs (p[2i], p[2i+1]) per 32-bit lane.
    alignas(64) uint32_t p_pairs[MR][kTile / 2];
    const int chunks = (keys + 31) / 32;
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      for (int c = 0; c < chunks; ++c) {
        const __m512 lo = _mm512_load_ps(p + r * kTile + 32 * c);
        const __m512 hi = _mm512_load_ps(p + r * kTile + 32 * c + 16);
        _mm512_store_si512(&p_pairs[r][16 * c], (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
      }
    }
    const int pairs = (keys + 1) / 2;
    for (int jp = 0; jp < pairs; ++jp) {
      const uint16_t* vp = v_pairs + static_cast<int64_t>(jp) * head_dim * 2 + 2 * dc;
      __m512i vv[NV];
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) vv[c] = _mm512_loadu_si512(vp + 32 * c);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m512i pb = _mm512_set1_epi32(static_cast<int>(p_pairs[r][jp]));
#pragma GCC unroll 4
        for (int c = 0; c < NV; ++c) {
          acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)pb, (__m512bh)vv[c]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c)
      _mm512_store_ps(o + r * kMaxHeadDim + dc + 16 * c, acc[r][c]);
  }
}

template <int MR, typename T>
void ValueTileAllChunks(const float* p, const float* alpha, const T* v, int64_t v_stride,
                        const uint16_t* v_pairs, int keys, int head_dim, float* o) {
  int dc = 0;
  for (; dc + 64 <= head_dim; dc += 64) {
    ValueTile<MR, 4, T>(p, alpha, v, v_stride, v_pairs, keys, dc, head_dim, o);
  }
  switch ((head_dim - dc) / 16) {
    case 3:
      ValueTile<MR, 3, T>(p, alpha, v, v_stride, v_pairs, keys, dc, head_dim, o);
      break;
    case 2:
      ValueTile<MR, 2, T>(p, alpha, v, v_stride, v_pairs, keys, dc, head_dim, o);
      break;
    case 1:
      ValueTile<MR, 1, T>(p, alpha, v, v_stride, v_pairs, keys, dc, head_dim, o);
      break;
    default:
      break;
  }
}

// The online-softmax state of MR query rows starting at row i0; Tile folds in
// one tile of keys. Maxima and sums stay in vectors (one per row, reduced
// across lanes once per tile for the maximum and once at the end for the
// sum): reducing both to scalars every tile was most of the softmax's 15 %
// of the kernel's time at length 512.
template <int MR, typename T>
struct RowBlock {
  alignas(64) float s[MR * kTile];
  alignas(64) float o[MR * kMaxHeadDim];
  alignas(64) float l[MR * 16];  // each row's running sum, spread over lanes
  alignas(64) float m[16];       // running maxima, row r in lane r
  alignas(64) float alpha[16];   // this tile's rescale factors, row r in lane r
  int i0 = 0;
  int keys_end = 0;  // the last row of the block sees the most keys

  void Begin(const HeadProblem<T>& p, int first_row) {
    i0 = first_row;
    keys_end = std::clamp(i0 + MR - 1 + p.causal_offset + 1, 0, p.lk);
    _mm512_store_ps(m, _mm512_set1_ps(-INFINITY));
    for (int r = 0; r < MR; ++r) {
      _mm512_store_ps(l + 16 * r, _mm512_setzero_ps());
      std::memset(o + r * kMaxHeadDim, 0, p.head_dim * sizeof(float));
    }
  }

  // How many keys of the tile at j0 row r sees (possibly none or negative).
  int Visible(const HeadProblem<T>& p, int r, int j0) const {
    return std::min(std::clamp(i0 + r + p.causal_offset + 1, 0, p.lk) - j0, kTile);
  }

  void Tile(const HeadProblem<T>& p, const uint32_t* kt, const uint16_t* v_pairs,
            int j0) {
    const int units = p.head_dim / Packing<T>::kPerUnit;
    const T* q = p.q + i0 * p.q_stride;
    const __m512 scale = _mm512_set1_ps(p.scale * 1.44269504f);  // log2(e)
    const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
    const int tile_keys = std::min(kTile, keys_end - j0);
    // ScoreTile computes whole blocks of kNk keys. Unless every row sees all
    // of them (the first row sees the fewest), some scores are masked after.
    const bool masked = Visible(p, 0, j0) < RoundUp(tile_keys, kNk);
    alignas(64) float row_max[MR * 16];
    for (int r = 0; r < MR; ++r) _mm512_store_ps(row_max + 16 * r, neg_inf);
    for (int c0 = 0; c0 < tile_keys; c0 += kNk) {
      const uint32_t* block = kt + static_cast<int64_t>(j0 + c0) * units;
      if (masked) {
        ScoreTile<MR, false, T>(q, p.q_stride, block, p.head_dim, scale, s + c0, row_max);
      } else {
        ScoreTile<MR, true, T>(q, p.q_stride, block, p.head_dim, scale, s + c0, row_max);
      }
    }
    const int vectors = (tile_keys + 15) / 16;
    if (masked) {
      // -inf for the keys a row must not see, and the maxima of the others.
      for (int r = 0; r < MR; ++r) {
        const int visible = Visible(p, r, j0);
        float* sr = s + r * kTile;
        __m512 vmax = neg_inf;
        for (int c = 0; c < vectors; ++c) {
          const __m512 v = _mm512_mask_mov_ps(neg_inf, FirstLanes(visible - 16 * c),
                                              _mm512_load_ps(sr + 16 * c));
          _mm512_store_ps(sr + 16 * c, v);
          vmax = _mm512_max_ps(vmax, v);
        }
        _mm512_store_ps(row_max + 16 * r, vmax);
      }
    }
    // The new running maxima and the rescale factors 2^(m - m_new) of all
    // rows at once; 1 while a row has seen no visible key (m_new = -inf),
    // where the subtraction would be NaN.
    __m512 tile_max = neg_inf;
    for (int r = 0; r < MR; ++r) {
      tile_max = _mm512_mask_blend_ps(static_cast<__mmask16>(1u << r), tile_max,
                                      BroadcastMax(_mm512_load_ps(row_max + 16 * r)));
    }
    const __m512 m_old = _mm512_load_ps(m);
    const __m512 m_new = _mm512_max_ps(m_old, tile_max);
    const __mmask16 seen = _mm512_cmp_ps_mask(m_new, neg_inf, _CMP_NEQ_OQ);
    _mm512_store_ps(alpha,
                    _mm512_mask_blend_ps(seen, _mm512_set1_ps(1.0f),
                                         Exp2NonPositive(_mm512_sub_ps(m_old, m_new))));
    _mm512_store_ps(m, m_new);
    for (int r = 0; r < MR; ++r) {
      float* sr = s + r * kTile;
      __m512 vsum = _mm512_setzero_ps();
      if (seen & (1u << r)) {
        // Masked scores are -inf, and 2^-inf = 0.
        const __m512 mv = _mm512_set1_ps(m[r]);
        for (int c = 0; c < vectors; ++c) {
          const __m512 e =
              Exp2NonPositive(_mm512_sub_ps(_mm512_load_ps(sr + 16 * c), mv));
          vsum = _mm512_add_ps(vsum, e);
          _mm512_store_ps(sr + 16 * c, e);
        }
      } else {
        for (int c = 0; c < vectors; ++c) _mm512_store_ps(sr + 16 * c, vsum);
      }
      _mm512_store_ps(l + 16 * r, _mm512_fmadd_ps(_mm512_load_ps(l + 16 * r),
                                                  _mm512_set1_ps(alpha[r]), vsum));
    }
    const int keys = std::min(tile_keys, p.lk - j0);
    const T* v = p.v + j0 * p.v_stride;
    const uint16_t* vp =
        v_pairs != nullptr ? v_pairs + static_cast<int64_t>(j0) * p.head_dim : nullptr;
    ValueTileAllChunks<MR, T>(s, alpha, v, p.v_stride, vp, keys, p.head_dim, o);
  }

  void Finish(const HeadProblem<T>& p) const {
    for (int r = 0; r < MR; ++r) {
      float* out = p.out + (i0 + r) * p.out_stride;
      const float sum = _mm512_reduce_add_ps(_mm512_load_ps(l + 16 * r));
      const __m512 inv = _mm512_set1_ps(sum > 0.0f ? 1.0f / sum : 0.0f);
      for (int d = 0; d < p.head_dim; d += 16) {
        _mm512_storeu_ps(out + d,
                         _mm512_mul_ps(_mm512_load_ps(o + r * kMaxHeadDim + d), inv));
      }
    }
  }
};

// G blocks of MR query rows from row i0, which take each key tile in turn:
// the tile's Kᵀ and V are read from memory once for all G blocks and then
// hit the cache (one block at a time streamed all of K and V per 6 rows,
// from L3 once they outgrow L2 at long lengths).
template <int MR, int G, typename T>
void QueryGroup(const HeadProblem<T>& p, int i0, const uint32_t* kt,
                const uint16_t* v_pairs) {
  RowBlock<MR, T> blocks[G];
  for (int g = 0; g < G; ++g) blocks[g].Begin(p, i0 + g * MR);
  for (int j0 = 0; j0 < blocks[G - 1].keys_end; j0 += kTile) {
    for (int g = 0; g < G; ++g) {
      if (j0 < blocks[g].keys_end) blocks[g].Tile(p, kt, v_pairs, j0);
    }
  }
  for (int g = 0; g < G; ++g) blocks[g].Finish(p);
}

template <typename T>
void DecodeRow(const HeadProblem<T>& p, int i) {
  const int visible = std::clamp(i + p.causal_offset + 1, 0, p.lk);
  float* out = p.out + i * p.out_stride;
  if (visible == 0) {
    std::memset(out, 0, p.head_dim * sizeof(float));
    return;
  }
  t_scratch.scores.Reserve(RoundUp(visible, 16) * sizeof(float));
  float* scores = static_cast<float*>(t_scratch.scores.data());
  const T* q = p.q + i * p.q_stride;
  constexpr int kPerVector = std::is_same_v<T, float> ? 16 : 32;
  const int vectors = p.head_dim / kPerVector;
  __m512i qv[kMaxHeadDim / 16];
  for (int c = 0; c < vectors; ++c) qv[c] = _mm512_loadu_si512(q + c * kPerVector);

  int j = 0;
  for (; j < visible; ++j) {
    const T* kj = p.k + j * p.k_stride;
    __m512 acc = _mm512_setzero_ps();
    for (int c = 0; c < vectors; ++c) {
      const __m512i kv = _mm512_loadu_si512(kj + c * kPerVector);
      if constexpr (std::is_same_v<T, float>) {
        acc = _mm512_fmadd_ps(_mm512_castsi512_ps(qv[c]), _mm512_castsi512_ps(kv), acc);
      } else {
        acc = _mm512_dpbf16_ps(acc, (__m512bh)qv[c], (__m512bh)kv);
      }
    }
    scores[j] = _mm512_reduce_add_ps(acc) * p.scale;
  }
  Softmax(scores, 1, visible);

  const int out_vectors = p.head_dim / 16;
  __m512 acc[kMaxHeadDim / 16];
  for (int c = 0; c < out_vectors; ++c) acc[c] = _mm512_setzero_ps();
  for (j = 0; j < visible; ++j) {
    const __m512 pb = _mm512_set1_ps(scores[j]);
    const T* vj = p.v + j * p.v_stride;
    for (int c = 0; c < out_vectors; ++c) {
      __m512 vv;
      if constexpr (std::is_same_v<T, float>) {
        vv = _mm512_loadu_ps(vj + 16 * c);
      } else {
        vv = LoadBf16AsF32(vj + 16 * c);
      }
      acc[c] = _mm512_fmadd_ps(pb, vv, acc[c]);
    }
  }
  for (int c = 0; c < out_vectors; ++c) _mm512_storeu_ps(out + 16 * c, acc[c]);
}

template <typename T>
void AttentionHead(const HeadProblem<T>& p) {
  constexpr int kPerVector = std::is_same_v<T, float> ? 16 : 32;
  if (p.probs != nullptr || p.head_dim % kPerVector != 0 || p.head_dim > kMaxHeadDim) {
    // Explainability output and unusual head sizes take the portable path.
    if constexpr (std::is_same_v<T, float>) {
      GenericKernels().attention_head_f32(p);
    } else {
      GenericKernels().attention_head_bf16(p);
    }
    return;
  }
  if (p.lq <= 2) {
    for (int i = 0; i < p.lq; ++i) DecodeRow(p, i);
    return;
  }
  const int lk_pad = RoundUp(std::max(p.lk, 1), kTile);
  const int units = p.head_dim / Packing<T>::kPerUnit;
  t_scratch.packed_k.Reserve(static_cast<size_t>(units) * lk_pad * sizeof(uint32_t));
  uint32_t* kt = static_cast<uint32_t*>(t_scratch.packed_k.data());
  PackKTransposed(p.k, p.k_stride, p.lk, p.head_dim, lk_pad, kt);
  uint16_t* v_pairs = nullptr;
  if constexpr (std::is_same_v<T, bf16>) {
    t_scratch.packed_v.Reserve(static_cast<size_t>(lk_pad) * p.head_dim *
                               sizeof(uint16_t));
    v_pairs = static_cast<uint16_t*>(t_scratch.packed_v.data());
    PackVPairs(p.v, p.v_stride, p.lk, p.head_dim, v_pairs);
  }
  HeadProblem<T> packed = p;
  if constexpr (std::is_same_v<T, float>) {
    t_scratch.packed_v.Reserve(static_cast<size_t>(p.head_dim) * p.lk * sizeof(float));
    packed = WithContiguousV(p, static_cast<float*>(t_scratch.packed_v.data()));
  }
  int i0 = 0;
  for (; i0 + kMr * kGroup <= p.lq; i0 += kMr * kGroup) {
    QueryGroup<kMr, kGroup, T>(packed, i0, kt, v_pairs);
  }
  for (; i0 + kMr <= p.lq; i0 += kMr) QueryGroup<kMr, 1, T>(packed, i0, kt, v_pairs);
  switch (p.lq - i0) {
    case 5:
      QueryGroup<5, 1, T>(packed, i0, kt, v_pairs);
      break;
    case 4:
      QueryGroup<4, 1, T>(packed, i0, kt, v_pairs);
      break;
    case 3:
      QueryGroup<3, 1, T>(packed, i0, kt, v_pairs);
      break;
    case 2:
      QueryGroup<2, 1, T>(packed, i0, kt, v_pairs);
      break;
    case 1:
      QueryGroup<1, 1, T>(packed, i0, kt, v_pairs);
      break;
    default:
      break;
  }
}

}  // namespace

void AttentionHeadF32(const HeadProblem<float>& p) { AttentionHead<float>(p); }
void AttentionHeadBf16(const HeadProblem<bf16>& p) { AttentionHead<bf16>(p); }

}  // namespace heed::kernels::avx512
