// EncoderLayer::ScratchCache: which scratch a forward pass gets, and which one
// the cache keeps for the next.
#include "core/models/encoder_layer.h"

#include <memory>

#include "gtest/gtest.h"

namespace heed::models {
namespace {

using Cache = EncoderLayer::ScratchCache;

TEST(ScratchCacheTest, AScratchGivenBackServesAnyPassThatFitsInIt) {
  Cache cache;
  std::unique_ptr<EncoderLayer::Scratch> first = cache.Take(100, 8, 32);
  ASSERT_EQ(first->tokens, 100);
  EXPECT_EQ(first->qkv.size(), 100u * 3 * 8);
  EXPECT_EQ(first->hidden.size(), 100u * 32);
  const EncoderLayer::Scratch* address = first.get();
  cache.GiveBack(std::move(first));
  std::unique_ptr<EncoderLayer::Scratch> smaller = cache.Take(40, 8, 32);
  EXPECT_EQ(smaller.get(), address);
  // While it is out, another pass gets its own.
  std::unique_ptr<EncoderLayer::Scratch> concurrent = cache.Take(40, 8, 32);
  EXPECT_NE(concurrent.get(), address);
  EXPECT_EQ(concurrent->tokens, 40);
}

TEST(ScratchCacheTest, KeepsTheLargestUpToItsCap) {
  Cache cache;
  std::unique_ptr<EncoderLayer::Scratch> small = cache.Take(10, 4, 16);
  std::unique_ptr<EncoderLayer::Scratch> large = cache.Take(50, 4, 16);
  const EncoderLayer::Scratch* large_address = large.get();
  cache.GiveBack(std::move(large));
  cache.GiveBack(std::move(small));  // smaller than the one kept: dropped
  EXPECT_EQ(cache.Take(50, 4, 16).get(), large_address);

  // A pass over the cap (one huge request) does not pin its memory.
  Cache capped;
  std::unique_ptr<EncoderLayer::Scratch> huge =
      capped.Take(Cache::kMaxCachedTokens + 1, 1, 1);
  capped.GiveBack(std::move(huge));
  std::unique_ptr<EncoderLayer::Scratch> next = capped.Take(1, 1, 1);
  EXPECT_EQ(next->tokens, 1);
}

}  // namespace
}  // namespace heed::models
