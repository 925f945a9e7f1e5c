#include "cli/flags.h"

#include <gtest/gtest.h>

namespace coffer::cli {
namespace {

struct Fixture {
  std::string s;
  bool b = false;
  int64_t n = 0;
  std::string d;
  std::vector<std::string> list;
  std::map<std::string, std::string> map;
  FlagSet f;
  Fixture() {
    f.String("str", &s, "a string");
    f.Bool("force", &b, "a bool");
    f.Int("version", &n, "an int");
    f.Duration("ttl", &d, "a duration");
    f.StringList("policy", &list, "a list", true);
    f.StringMap("options", &map, "a map");
  }
};

TEST(FlagsTest, GoForms) {
  Fixture x;
  ASSERT_EQ(x.f.Parse({"-str=a", "--version", "3", "-force", "-ttl=1h", "path", "k=v"}), FlagSet::ParseResult::kOk)
      << x.f.error();
  EXPECT_EQ(x.s, "a");
  EXPECT_EQ(x.n, 3);
  EXPECT_TRUE(x.b);
  EXPECT_EQ(x.d, "1h");
  EXPECT_EQ(x.f.args(), (std::vector<std::string>{"path", "k=v"}));
  EXPECT_TRUE(x.f.IsSet("str"));
  EXPECT_FALSE(x.f.IsSet("options"));
}

TEST(FlagsTest, BoolTakesOnlyEqualsValue) {
  Fixture x;
  ASSERT_EQ(x.f.Parse({"-force", "false"}), FlagSet::ParseResult::kOk);
  EXPECT_TRUE(x.b);
  EXPECT_EQ(x.f.args(), std::vector<std::string>{"false"});
  Fixture y;
  y.b = true;
  ASSERT_EQ(y.f.Parse({"-force=false"}), FlagSet::ParseResult::kOk);
  EXPECT_FALSE(y.b);
  Fixture z;
  ASSERT_EQ(z.f.Parse({"-force=maybe"}), FlagSet::ParseResult::kError);
  EXPECT_EQ(z.f.error(), "invalid boolean value \"maybe\" for -force: parse error");
}

TEST(FlagsTest, StopsAtFirstPositionalAndDoubleDash) {
  Fixture x;
  ASSERT_EQ(x.f.Parse({"a", "-str=x"}), FlagSet::ParseResult::kOk);
  EXPECT_EQ(x.s, "");
  EXPECT_EQ(x.f.args(), (std::vector<std::string>{"a", "-str=x"}));
  Fixture y;
  ASSERT_EQ(y.f.Parse({"--", "-str=x"}), FlagSet::ParseResult::kOk);
  EXPECT_EQ(y.f.args(), (std::vector<std::string>{"-str=x"}));
  Fixture z;
  ASSERT_EQ(z.f.Parse({"-", "x"}), FlagSet::ParseResult::kOk);
  EXPECT_EQ(z.f.args(), (std::vector<std::string>{"-", "x"}));
}

TEST(FlagsTest, ValueMayStartWithDash) {
  Fixture x;
  ASSERT_EQ(x.f.Parse({"-str", "-x"}), FlagSet::ParseResult::kOk);
  EXPECT_EQ(x.s, "-x");
}

TEST(FlagsTest, Errors) {
  Fixture a;
  EXPECT_EQ(a.f.Parse({"-nope"}), FlagSet::ParseResult::kError);
  EXPECT_EQ(a.f.error(), "flag provided but not defined: -nope");
  Fixture b;
  EXPECT_EQ(b.f.Parse({"-str"}), FlagSet::ParseResult::kError);
  EXPECT_EQ(b.f.error(), "flag needs an argument: -str");
  Fixture c;
  EXPECT_EQ(c.f.Parse({"-version=abc"}), FlagSet::ParseResult::kError);
  EXPECT_EQ(c.f.error(), "invalid value \"abc\" for flag -version: parse error");
  Fixture d;
  EXPECT_EQ(d.f.Parse({"---x"}), FlagSet::ParseResult::kError);
  EXPECT_EQ(d.f.error(), "bad flag syntax: ---x");
  Fixture e;
  EXPECT_EQ(e.f.Parse({"-ttl=soon"}), FlagSet::ParseResult::kError);
  Fixture h;
  EXPECT_EQ(h.f.Parse({"-h"}), FlagSet::ParseResult::kHelp);
  Fixture h2;
  EXPECT_EQ(h2.f.Parse({"--help"}), FlagSet::ParseResult::kHelp);
  Fixture m;
  EXPECT_EQ(m.f.Parse({"-options", "novalue"}), FlagSet::ParseResult::kError);
}

TEST(FlagsTest, RepeatableFlags) {
  Fixture x;
  ASSERT_EQ(x.f.Parse({"-policy=a,b", "-policy", "c", "-options", "version=2", "-options=x=y=z"}),
            FlagSet::ParseResult::kOk);
  EXPECT_EQ(x.list, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(x.map.at("version"), "2");
  EXPECT_EQ(x.map.at("x"), "y=z");
}

TEST(FlagsTest, HelpLayout) {
  std::string s;
  bool b = false;
  FlagSet f;
  f.Section("Common Options");
  f.String("mount", &s, "Specifies the path where the KV backend is mounted.");
  f.Bool("force", &b, "Allow the operation.");
  std::string help = f.Help();
  EXPECT_EQ(help,
            "Common Options:\n\n"
            "  -mount=<string>\n"
            "      Specifies the path where the KV backend is mounted.\n\n"
            "  -force\n"
            "      Allow the operation. The default is false.");
}

TEST(FlagsTest, TrailingFlagWarning) {
  EXPECT_EQ(TrailingFlagWarning({"secret/x", "-", "-format=json"}), "");
  EXPECT_EQ(TrailingFlagWarning({"secret/x", "-mount=kv", "--force"}),
            "Command flags must be provided before positional arguments. The following arguments will not be "
            "parsed as flags: [-mount=kv,--force]");
}

TEST(FlagsTest, Wrap) { EXPECT_EQ(WrapWithPadding("aaa bbb ccc", 2, 8), "  aaa\n  bbb\n  ccc"); }

}  // namespace
}  // namespace coffer::cli
