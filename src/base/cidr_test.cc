#include "base/cidr.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(CidrTest, NormalizesBlocksAndBareAddresses) {
  EXPECT_EQ(*NormalizeCidr("10.1.2.3/8"), "10.0.0.0/8");
  EXPECT_EQ(*NormalizeCidr("127.0.0.1"), "127.0.0.1/32");
  EXPECT_EQ(*NormalizeCidr("2001:db8::1/32"), "2001:db8::/32");
  EXPECT_EQ(*NormalizeCidr("0.0.0.0/0"), "0.0.0.0/0");
}

TEST(CidrTest, RejectsGarbageNamingTheValue) {
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0/8", "abc", "10.0.0.0/", "10.0.0.0/-1", "::1/129", "1.2.3.4/8x"}) {
    auto r = NormalizeCidr(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("invalid CIDR block"), std::string::npos);
  }
}

TEST(CidrTest, Membership) {
  EXPECT_TRUE(CidrContains("10.0.0.0/8", "10.200.1.1"));
  EXPECT_FALSE(CidrContains("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(CidrContains("127.0.0.1/32", "127.0.0.1"));
  EXPECT_FALSE(CidrContains("127.0.0.1/32", "127.0.0.2"));
  EXPECT_TRUE(CidrContains("192.168.1.0/25", "192.168.1.127"));
  EXPECT_FALSE(CidrContains("192.168.1.0/25", "192.168.1.128"));
  EXPECT_TRUE(CidrContains("::1/128", "::1"));
  EXPECT_TRUE(CidrContains("127.0.0.0/8", "::ffff:127.0.0.1"));
  EXPECT_FALSE(CidrContains("10.0.0.0/8", "::1"));
  EXPECT_FALSE(CidrContains("10.0.0.0/8", "not-an-ip"));
  EXPECT_TRUE(AddressAllowed({}, "1.2.3.4"));
  EXPECT_TRUE(AddressAllowed({"10.0.0.0/8", "127.0.0.1/32"}, "127.0.0.1"));
  EXPECT_FALSE(AddressAllowed({"10.0.0.0/8"}, "127.0.0.1"));
}

}  // namespace
}  // namespace coffer
