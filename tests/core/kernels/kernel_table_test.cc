// Which functions each level's table installs. The only functions with
// AVX512_BF16 instructions are the bf16 attention's, and the only ones with
// VNNI instructions are Int8MatmulVnni's (tests/tools/isa_census_test.py
// checks that on the built server); here, that the tables reach them from
// their level up only, so a Skylake-SP (avx512, neither extension) never
// calls them. Comparing table entries runs no kernel, so this holds on any
// CPU that runs the test.
#include "core/kernels/kernel_table.h"

#include "core/cpu/cpu_features.h"
#include "gtest/gtest.h"

namespace heed::kernels {
namespace {

using cpu::Isa;

TEST(KernelTableTest, Bf16AttentionOnlyAtAvx512Bf16) {
  const auto portable = GenericKernels().attention_head_bf16;
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Vnni}) {
    EXPECT_EQ(KernelsFor(isa).attention_head_bf16, portable) << cpu::IsaName(isa);
  }
  EXPECT_NE(KernelsFor(Isa::kAvx512Bf16).attention_head_bf16, portable);
}

TEST(KernelTableTest, VnniProductOnlyFromAvx512Vnni) {
  const auto vnni = KernelsFor(Isa::kAvx512Vnni).int8_matmul;
  EXPECT_EQ(KernelsFor(Isa::kAvx512Bf16).int8_matmul, vnni);
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    EXPECT_NE(KernelsFor(isa).int8_matmul, vnni) << cpu::IsaName(isa);
  }
  // Without VNNI, AVX-512 and AVX2 each have their own product.
  EXPECT_NE(KernelsFor(Isa::kAvx512).int8_matmul, KernelsFor(Isa::kAvx2).int8_matmul);
  EXPECT_NE(KernelsFor(Isa::kAvx2).int8_matmul, GenericKernels().int8_matmul);
}

TEST(KernelTableTest, LevelsPickTheirOwnF32Kernels) {
  const KernelTable& generic = GenericKernels();
  const KernelTable& avx2 = KernelsFor(Isa::kAvx2);
  const KernelTable& avx512 = KernelsFor(Isa::kAvx512);
  EXPECT_EQ(&KernelsFor(Isa::kGeneric), &generic);
  EXPECT_EQ(&avx2, &Avx2Kernels());
  auto all_differ = [](auto a, auto b, auto c) { return a != b && b != c && a != c; };
  EXPECT_TRUE(all_differ(generic.attention_head_f32, avx2.attention_head_f32,
                         avx512.attention_head_f32));
  EXPECT_TRUE(all_differ(generic.layer_norm, avx2.layer_norm, avx512.layer_norm));
  EXPECT_TRUE(all_differ(generic.softmax, avx2.softmax, avx512.softmax));
  EXPECT_TRUE(all_differ(generic.log_softmax, avx2.log_softmax, avx512.log_softmax));
  EXPECT_TRUE(all_differ(generic.arg_max, avx2.arg_max, avx512.arg_max));
  EXPECT_TRUE(all_differ(generic.gelu, avx2.gelu, avx512.gelu));
  EXPECT_TRUE(all_differ(generic.add, avx2.add, avx512.add));
  EXPECT_TRUE(all_differ(generic.scaled_copy, avx2.scaled_copy, avx512.scaled_copy));
  EXPECT_TRUE(all_differ(generic.quantize_row_u8, avx2.quantize_row_u8,
                         avx512.quantize_row_u8));
  EXPECT_TRUE(all_differ(generic.dequantize_row, avx2.dequantize_row,
                         avx512.dequantize_row));
  // The AVX-512 levels differ only in the two entries above.
  for (Isa isa : {Isa::kAvx512Vnni, Isa::kAvx512Bf16}) {
    const KernelTable& t = KernelsFor(isa);
    EXPECT_EQ(t.attention_head_f32, avx512.attention_head_f32) << cpu::IsaName(isa);
    EXPECT_EQ(t.layer_norm, avx512.layer_norm) << cpu::IsaName(isa);
    EXPECT_EQ(t.to_bf16, avx512.to_bf16) << cpu::IsaName(isa);
    EXPECT_EQ(t.quantize_row_u8, avx512.quantize_row_u8) << cpu::IsaName(isa);
  }
}

}  // namespace
}  // namespace heed::kernels
