#include "engines/auth/userpass/password_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/encoding.h"

namespace coffer::userpass {
namespace {

constexpr ScryptParams kCheap{.log2_n = 6, .r = 8, .p = 1};

TEST(PasswordHashTest, VerifiesOnlyTheRightPassword) {
  auto h = HashPassword("correct horse", kCheap);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->salt.size(), kSaltBytes);
  EXPECT_EQ(h->hash.size(), kHashBytes);
  EXPECT_EQ(h->params, kCheap);
  EXPECT_TRUE(*VerifyPassword("correct horse", *h));
  EXPECT_FALSE(*VerifyPassword("correct horse ", *h));
  EXPECT_FALSE(*VerifyPassword("Correct horse", *h));
  EXPECT_FALSE(*VerifyPassword("", *h));
}

TEST(PasswordHashTest, FreshSaltPerHash) {
  auto a = HashPassword("same", kCheap);
  auto b = HashPassword("same", kCheap);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->salt, b->salt);
  EXPECT_NE(a->hash, b->hash);
}

TEST(PasswordHashTest, JsonRoundTripKeepsParameters) {
  auto h = HashPassword("pw", ScryptParams{.log2_n = 5, .r = 4, .p = 2});
  ASSERT_TRUE(h.ok());
  nlohmann::json j = h->ToJson();
  EXPECT_EQ(j["algorithm"], "scrypt");
  EXPECT_EQ(j["log2_n"], 5);
  EXPECT_EQ(j["r"], 4);
  EXPECT_EQ(j["p"], 2);
  EXPECT_EQ(*Base64Decode(j["salt"].get<std::string>()), h->salt);
  auto back = PasswordHash::FromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->params, h->params);
  EXPECT_EQ(back->salt, h->salt);
  EXPECT_EQ(back->hash, h->hash);
  EXPECT_TRUE(*VerifyPassword("pw", *back));
}

// Records keep their own cost: raising the default later leaves old passwords working.
TEST(PasswordHashTest, VerifiesWithTheStoredParameters) {
  auto old_hash = HashPassword("pw", ScryptParams{.log2_n = 4, .r = 8, .p = 1});
  ASSERT_TRUE(old_hash.ok());
  auto restored = PasswordHash::FromJson(old_hash->ToJson());
  ASSERT_TRUE(restored.ok());
  EXPECT_TRUE(*VerifyPassword("pw", *restored));
}

TEST(PasswordHashTest, MalformedRecordsAreDataLossNotCrashes) {
  auto good = HashPassword("pw", kCheap);
  ASSERT_TRUE(good.ok());
  const nlohmann::json base = good->ToJson();
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = base;
    if (value.is_null()) {
      j.erase(key);
    } else {
      j[key] = std::move(value);
    }
    return j;
  };
  for (const nlohmann::json& bad :
       {nlohmann::json("scrypt"), nlohmann::json::object(), with("algorithm", "bcrypt"), with("algorithm", nullptr),
        with("log2_n", 0), with("log2_n", 40), with("log2_n", "14"), with("r", 0), with("r", 100000), with("p", 0),
        with("p", -1), with("salt", "!!!"), with("salt", Base64Encode("short")), with("hash", nullptr),
        with("hash", Base64Encode("tiny"))}) {
    SCOPED_TRACE(bad.dump());
    auto r = PasswordHash::FromJson(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  }
}

TEST(PasswordHashTest, DummyMatchesNothingAndHasTheRequestedCost) {
  PasswordHash dummy = DummyPasswordHash(kCheap);
  EXPECT_EQ(dummy.params, kCheap);
  EXPECT_EQ(dummy.salt.size(), kSaltBytes);
  EXPECT_EQ(dummy.hash.size(), kHashBytes);
  for (const char* pw : {"", "dummy", "password"}) EXPECT_FALSE(*VerifyPassword(pw, dummy));
  EXPECT_NE(DummyPasswordHash(kCheap).salt, dummy.salt);
}

TEST(PasswordHashTest, RejectsParametersOutOfRange) {
  EXPECT_EQ(HashPassword("pw", ScryptParams{.log2_n = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword("pw", ScryptParams{.log2_n = 30}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword("pw", ScryptParams{.log2_n = 10, .r = 0}).status().code(), StatusCode::kInvalidArgument);
}

TEST(PasswordHashTest, ConcurrencyLimitIsSane) {
  EXPECT_GE(MaxConcurrentHashes(), 4);
  EXPECT_LE(MaxConcurrentHashes(), 64);
}

// The default cost, measured: prints the median so the choice (30-60 ms wanted) can be checked
// on the machine at hand. Asserts only a generous sanity bound, since CI machines vary.
TEST(PasswordHashTest, DefaultCostIsInteractive) {
  EXPECT_EQ(kDefaultScryptParams, (ScryptParams{.log2_n = 14, .r = 8, .p = 1}));
  auto h = HashPassword("measure me", kDefaultScryptParams);
  ASSERT_TRUE(h.ok());
  // Wall time and this thread's CPU time: on a shared machine the wall time includes waiting
  // for a core, the CPU time is the cost itself.
  auto cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  };
  std::vector<double> ms, cpu;
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    double cpu_start = cpu_ms();
    ASSERT_TRUE(*VerifyPassword("measure me", *h));
    cpu.push_back(cpu_ms() - cpu_start);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("scrypt N=2^14 r=8 p=1 over 5 hashes: wall median %.1f ms (min %.1f, max %.1f), CPU median %.1f ms\n",
              ms[2], ms[0], ms[4], cpu[2]);
  EXPECT_GT(ms[0], 2.0);     // not accidentally cheap
  EXPECT_LT(ms[2], 2000.0);  // not absurd
}

}  // namespace
}  // namespace coffer::userpass
