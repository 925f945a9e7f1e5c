#include "seal/shamir.h"

#include <set>

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace coffer::shamir {
namespace {

bool SameBytes(const SecretBytes& a, const SecretBytes& b) {
  return ConstantTimeEquals(AsStringView(a), AsStringView(b));
}

std::vector<SecretBytes> Pick(const std::vector<SecretBytes>& shares, unsigned mask) {
  std::vector<SecretBytes> picked;
  for (size_t i = 0; i < shares.size(); ++i) {
    if (mask & (1u << i)) picked.push_back(shares[i]);
  }
  return picked;
}

std::vector<SecretBytes> MustSplit(const SecretBytes& secret, int parts, int threshold) {
  auto shares = Split(secret, parts, threshold);
  EXPECT_TRUE(shares.ok()) << shares.status().ToString();
  return shares.ok() ? *shares : std::vector<SecretBytes>();
}

void ExpectInvalid(const Status& status, const std::string& message) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), message);
}

TEST(ShamirTest, SharesHaveVaultLayout) {
  SecretBytes secret = crypto::RandomSecret(32);
  std::vector<SecretBytes> shares = MustSplit(secret, 5, 3);
  ASSERT_EQ(shares.size(), 5u);
  std::set<uint8_t> xs;
  for (const SecretBytes& share : shares) {
    ASSERT_EQ(share.size(), 33u);
    EXPECT_NE(share.back(), 0);
    xs.insert(share.back());
  }
  EXPECT_EQ(xs.size(), 5u);
}

// Hand-computed shares in Vault's format (y bytes, then x): secret {0x42, 0x13} with the
// polynomials 0x42 + 0x01 x and 0x13 + 0x05 x over GF(2^8).
TEST(ShamirTest, CombinesHandComputedVaultFormatShares) {
  const std::vector<SecretBytes> shares = {
      {0x43, 0x16, 0x01},
      {0x40, 0x19, 0x02},
      {0x41, 0x1c, 0x03},
  };
  const SecretBytes expected = {0x42, 0x13};
  for (unsigned mask : {3u, 5u, 6u, 7u}) {
    auto secret = Combine(Pick(shares, mask));
    ASSERT_TRUE(secret.ok()) << secret.status().ToString();
    EXPECT_TRUE(SameBytes(*secret, expected)) << "mask " << mask;
  }
}

TEST(ShamirTest, EveryQualifiedSubsetRecoversAndSmallerOnesDoNot) {
  SecretBytes secret = crypto::RandomSecret(32);
  for (int n = 2; n <= 5; ++n) {
    for (int t = 2; t <= n; ++t) {
      std::vector<SecretBytes> shares = MustSplit(secret, n, t);
      ASSERT_EQ(shares.size(), static_cast<size_t>(n));
      for (unsigned mask = 1; mask < (1u << n); ++mask) {
        std::vector<SecretBytes> subset = Pick(shares, mask);
        auto combined = Combine(subset);
        if (subset.size() < 2) {
          EXPECT_FALSE(combined.ok());
          continue;
        }
        ASSERT_TRUE(combined.ok()) << combined.status().ToString();
        if (static_cast<int>(subset.size()) >= t) {
          EXPECT_TRUE(SameBytes(*combined, secret)) << "n=" << n << " t=" << t << " mask=" << mask;
        } else {
          EXPECT_FALSE(SameBytes(*combined, secret)) << "n=" << n << " t=" << t << " mask=" << mask;
        }
      }
    }
  }
}

TEST(ShamirTest, BelowThresholdNeverReproducesTheSecret) {
  for (int trial = 0; trial < 200; ++trial) {
    SecretBytes secret = crypto::RandomSecret(32);
    std::vector<SecretBytes> shares = MustSplit(secret, 5, 3);
    auto two = Combine({shares[trial % 5], shares[(trial + 1) % 5]});
    ASSERT_TRUE(two.ok());
    ASSERT_FALSE(SameBytes(*two, secret)) << "trial " << trial;
    auto three = Combine({shares[trial % 5], shares[(trial + 2) % 5], shares[(trial + 4) % 5]});
    ASSERT_TRUE(three.ok());
    ASSERT_TRUE(SameBytes(*three, secret)) << "trial " << trial;
  }
}

TEST(ShamirTest, SplittingTwiceGivesDifferentShares) {
  SecretBytes secret = crypto::RandomSecret(32);
  std::vector<SecretBytes> a = MustSplit(secret, 3, 2);
  std::vector<SecretBytes> b = MustSplit(secret, 3, 2);
  EXPECT_FALSE(SameBytes(a[0], b[0]) && SameBytes(a[1], b[1]) && SameBytes(a[2], b[2]));
}

TEST(ShamirTest, OneByteSecretAndMaximumParts) {
  SecretBytes one = {0x99};
  std::vector<SecretBytes> shares = MustSplit(one, 255, 255);
  ASSERT_EQ(shares.size(), 255u);
  std::set<uint8_t> xs;
  for (const SecretBytes& s : shares) xs.insert(s.back());
  EXPECT_EQ(xs.size(), 255u);  // every non-zero x used exactly once
  auto all = Combine(shares);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(SameBytes(*all, one));
}

TEST(ShamirTest, SplitValidatesLikeVault) {
  SecretBytes secret = crypto::RandomSecret(16);
  ExpectInvalid(Split(secret, 2, 3).status(), "parts cannot be less than threshold");
  ExpectInvalid(Split(secret, 256, 3).status(), "parts cannot exceed 255");
  ExpectInvalid(Split(secret, 5, 1).status(), "threshold must be at least 2");
  ExpectInvalid(Split(secret, 1, 1).status(), "threshold must be at least 2");
  ExpectInvalid(Split(SecretBytes(), 5, 3).status(), "cannot split an empty secret");
  EXPECT_TRUE(Split(secret, 2, 2).ok());
}

TEST(ShamirTest, CombineRejectsMalformedShareSets) {
  SecretBytes secret = crypto::RandomSecret(16);
  std::vector<SecretBytes> shares = MustSplit(secret, 3, 2);
  ExpectInvalid(Combine({}).status(), "less than two parts cannot be used to reconstruct the secret");
  ExpectInvalid(Combine({shares[0]}).status(),
                "less than two parts cannot be used to reconstruct the secret");
  ExpectInvalid(Combine({shares[0], shares[0]}).status(), "duplicate part detected");

  SecretBytes same_x = shares[1];
  same_x.back() = shares[0].back();
  ExpectInvalid(Combine({shares[0], same_x}).status(), "duplicate part detected");

  SecretBytes shorter(shares[1].begin() + 1, shares[1].end());
  ExpectInvalid(Combine({shares[0], shorter}).status(), "all parts must be the same length");
  ExpectInvalid(Combine({SecretBytes{1}, SecretBytes{2}}).status(),
                "parts must be at least two bytes");

  SecretBytes zero_x = shares[1];
  zero_x.back() = 0;
  ExpectInvalid(Combine({shares[0], zero_x}).status(), "part has an invalid x-coordinate of 0");
}

TEST(ShamirTest, CorruptedShareYieldsADifferentSecret) {
  SecretBytes secret = crypto::RandomSecret(32);
  std::vector<SecretBytes> shares = MustSplit(secret, 3, 2);
  for (size_t i = 0; i < secret.size(); ++i) {
    SecretBytes bad = shares[0];
    bad[i] ^= 0x01;
    auto combined = Combine({bad, shares[1]});
    ASSERT_TRUE(combined.ok());
    EXPECT_FALSE(SameBytes(*combined, secret)) << "byte " << i;
  }
  // A corrupted x-coordinate (any other free x) also yields a wrong secret.
  SecretBytes moved = shares[0];
  uint8_t x = 1;
  while (x == shares[0].back() || x == shares[1].back()) ++x;
  moved.back() = x;
  auto combined = Combine({moved, shares[1]});
  ASSERT_TRUE(combined.ok());
  EXPECT_FALSE(SameBytes(*combined, secret));
}

}  // namespace
}  // namespace coffer::shamir
