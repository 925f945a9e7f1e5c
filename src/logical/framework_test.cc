#include "logical/framework.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "logical/inmem_storage.h"

namespace coffer::logical {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// ---- FieldData conversions -----------------------------------------------------------------

// Parses {"f": value} against one field of `type`; keeps schema and data alive for the result.
struct OneField {
  explicit OneField(FieldType type, json value, json default_value = nullptr)
      : schema{Field{"f", type, "", std::move(default_value)}}, data(json{{"f", std::move(value)}}) {}
  StatusOr<FieldData> Parse() const { return FieldData::Parse(schema, data, {}); }
  std::vector<Field> schema;
  json data;
};

std::string ErrorOf(FieldType type, json value) {
  OneField f(type, std::move(value));
  auto fd = f.Parse();
  if (fd.ok()) return "<accepted>";
  EXPECT_EQ(fd.status().code(), StatusCode::kInvalidArgument);
  return fd.status().message();
}

TEST(FieldDataTest, StringAcceptsStringsAndConvertsScalars) {
  struct Case {
    json in;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{{"abc", "abc"},
                                         {"", ""},
                                         {42, "42"},
                                         {-7, "-7"},
                                         {1.5, "1.5"},
                                         {1e20, "100000000000000000000"},
                                         {0.1, "0.1"},
                                         {json(18446744073709551615ull), "18446744073709551615"},
                                         {true, "true"},
                                         {false, "false"},
                                         {"ünïcødé ✓", "ünïcødé ✓"}}) {
    SCOPED_TRACE(c.in.dump());
    OneField f(FieldType::kString, c.in);
    auto fd = f.Parse();
    ASSERT_TRUE(fd.ok()) << fd.status().message();
    EXPECT_EQ(fd->GetString("f"), c.want);
  }
  EXPECT_EQ(ErrorOf(FieldType::kString, json::array({"a"})), "field \"f\": expected a string, got a list");
  EXPECT_EQ(ErrorOf(FieldType::kString, json::object({{"secret", "x"}})),
            "field \"f\": expected a string, got an object");
}

TEST(FieldDataTest, IntAcceptsIntegralNumbersAndNumericStrings) {
  struct Case {
    json in;
    int64_t want;
  };
  for (const Case& c : std::vector<Case>{{42, 42},
                                         {-7, -7},
                                         {"42", 42},
                                         {"-7", -7},
                                         {"+5", 5},
                                         {42.0, 42},
                                         {"9223372036854775807", INT64_MAX},
                                         {0, 0}}) {
    SCOPED_TRACE(c.in.dump());
    OneField f(FieldType::kInt, c.in);
    auto fd = f.Parse();
    ASSERT_TRUE(fd.ok()) << fd.status().message();
    EXPECT_EQ(fd->GetInt("f"), c.want);
  }
  for (const json& bad : {json(1.5), json("abc"), json("1.5"), json(true), json(""), json(" 4"), json("4x"),
                          json("9223372036854775808"), json(18446744073709551615ull), json("+-1"), json::array({1})}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_THAT(ErrorOf(FieldType::kInt, bad), HasSubstr("field \"f\": expected an integer, got "));
  }
  EXPECT_EQ(ErrorOf(FieldType::kInt, 1.5), "field \"f\": expected an integer, got 1.5");
  EXPECT_EQ(ErrorOf(FieldType::kInt, "abc"), "field \"f\": expected an integer, got \"abc\"");
  EXPECT_EQ(ErrorOf(FieldType::kInt, true), "field \"f\": expected an integer, got true");
}

TEST(FieldDataTest, BoolAcceptsGoForms) {
  struct Case {
    json in;
    bool want;
  };
  for (const Case& c : std::vector<Case>{{true, true},
                                         {false, false},
                                         {"true", true},
                                         {"false", false},
                                         {"1", true},
                                         {"0", false},
                                         {"t", true},
                                         {"f", false},
                                         {"TRUE", true},
                                         {"False", false},
                                         {1, true},
                                         {0, false}}) {
    SCOPED_TRACE(c.in.dump());
    OneField f(FieldType::kBool, c.in);
    auto fd = f.Parse();
    ASSERT_TRUE(fd.ok()) << fd.status().message();
    EXPECT_EQ(fd->GetBool("f"), c.want);
  }
  for (const json& bad : {json("yes"), json(""), json(2), json(0.5), json("abc"), json::object()}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_THAT(ErrorOf(FieldType::kBool, bad), HasSubstr("field \"f\": expected a boolean"));
  }
}

TEST(FieldDataTest, DurationAcceptsSecondsAndDurationStrings) {
  struct Case {
    json in;
    int64_t want;
  };
  for (const Case& c : std::vector<Case>{{30, 30},
                                         {"30", 30},
                                         {"30s", 30},
                                         {"1h", 3600},
                                         {"1h30m", 5400},
                                         {"768h", 2764800},
                                         {"7d", 604800},
                                         {2.9, 2},
                                         {"", 0},
                                         {0, 0}}) {
    SCOPED_TRACE(c.in.dump());
    OneField f(FieldType::kDuration, c.in);
    auto fd = f.Parse();
    ASSERT_TRUE(fd.ok()) << fd.status().message();
    EXPECT_EQ(fd->GetDurationSeconds("f"), c.want);
  }
  OneField ttl(FieldType::kDuration, "30x");
  ttl.schema[0].name = "ttl";
  ttl.data = json{{"ttl", "30x"}};
  auto fd = ttl.Parse();
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().message(),
            "field \"ttl\": expected a duration such as \"30s\", \"1h\" or a number of seconds, got \"30x\"");
  for (const json& bad : {json(true), json("1y"), json("h"), json::array({"1h"}), json(1e300)}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_THAT(ErrorOf(FieldType::kDuration, bad), HasSubstr("expected a duration"));
  }
}

TEST(FieldDataTest, StringSliceAcceptsArraysAndCommaSeparatedText) {
  struct Case {
    json in;
    std::vector<std::string> want;
  };
  for (const Case& c : std::vector<Case>{{json::array({"a", "b c"}), {"a", "b c"}},
                                         {json::array(), {}},
                                         {"a, b,,c ", {"a", "b", "c"}},
                                         {"single", {"single"}},
                                         {"", {}},
                                         {" , ", {}},
                                         {R"(["x,y", "z"])", {"x,y", "z"}}}) {
    SCOPED_TRACE(c.in.dump());
    OneField f(FieldType::kStringSlice, c.in);
    auto fd = f.Parse();
    ASSERT_TRUE(fd.ok()) << fd.status().message();
    EXPECT_EQ(fd->GetStringSlice("f"), c.want);
  }
  for (const json& bad :
       {json::array({"a", 1}), json(true), json(3), json::object(), json("[1, 2]"), json("[broken")}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_THAT(ErrorOf(FieldType::kStringSlice, bad), HasSubstr("expected a list of strings"));
  }
}

TEST(FieldDataTest, MapNeedsAnObjectOrObjectText) {
  OneField f(FieldType::kMap, json{{"a", 1}, {"b", {{"c", true}}}});
  auto fd = f.Parse();
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(fd->GetJson("f"), (json{{"a", 1}, {"b", {{"c", true}}}}));
  OneField text(FieldType::kMap, R"({"a": [1, 2]})");
  auto fd2 = text.Parse();
  ASSERT_TRUE(fd2.ok());
  EXPECT_EQ(fd2->GetJson("f"), (json{{"a", {1, 2}}}));
  for (const json& bad : {json("abc"), json("[1]"), json::array({1}), json(1), json("")}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_THAT(ErrorOf(FieldType::kMap, bad), HasSubstr("expected a JSON object"));
  }
}

TEST(FieldDataTest, KVPairsAcceptsObjectsPairListsAndText) {
  using Pairs = std::map<std::string, std::string>;
  struct Case {
    json in;
    Pairs want;
  };
  for (const Case& c :
       std::vector<Case>{{json{{"a", "b"}, {"n", 1}, {"t", true}}, {{"a", "b"}, {"n", "1"}, {"t", "true"}}},
                         {json::array({"a=b", "c=d=e", "e="}), {{"a", "b"}, {"c", "d=e"}, {"e", ""}}},
                         {"a=b, c=d", {{"a", "b"}, {"c", "d"}}},
                         {R"({"x": "y"})", {{"x", "y"}}},
                         {"", {}}}) {
    SCOPED_TRACE(c.in.dump());
    OneField f(FieldType::kKVPairs, c.in);
    auto fd = f.Parse();
    ASSERT_TRUE(fd.ok()) << fd.status().message();
    EXPECT_EQ(fd->GetKVPairs("f"), c.want);
  }
  for (const json& bad : {json{{"a", json::object()}}, json{{"a", json::array()}}, json::array({"ab"}),
                          json::array({"=b"}), json::array({1}), json("novalue"), json(true)}) {
    SCOPED_TRACE(bad.dump());
    EXPECT_THAT(ErrorOf(FieldType::kKVPairs, bad), HasSubstr("expected an object of string values"));
  }
}

TEST(FieldDataTest, RawPassesAnythingThrough) {
  for (const json& v : {json(1), json("s"), json::array({1, "x"}), json{{"a", nullptr}}, json(false)}) {
    OneField f(FieldType::kRaw, v);
    auto fd = f.Parse();
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(fd->GetJson("f"), v);
  }
}

TEST(FieldDataTest, QueryParameterStringsConvertForEveryType) {
  std::vector<Field> schema = {{"s", FieldType::kString},   {"i", FieldType::kInt},         {"b", FieldType::kBool},
                               {"d", FieldType::kDuration}, {"l", FieldType::kStringSlice}, {"m", FieldType::kMap},
                               {"p", FieldType::kKVPairs},  {"r", FieldType::kRaw}};
  json query = {{"s", "x"},   {"i", "12"},         {"b", "true"}, {"d", "2m"},
                {"l", "a,b"}, {"m", R"({"k":1})"}, {"p", "k=v"},  {"r", "raw"}};
  auto fd = FieldData::Parse(schema, query, {});
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  EXPECT_EQ(fd->GetString("s"), "x");
  EXPECT_EQ(fd->GetInt("i"), 12);
  EXPECT_TRUE(fd->GetBool("b"));
  EXPECT_EQ(fd->GetDurationSeconds("d"), 120);
  EXPECT_THAT(fd->GetStringSlice("l"), ElementsAre("a", "b"));
  EXPECT_EQ(fd->GetJson("m"), (json{{"k", 1}}));
  EXPECT_EQ(fd->GetKVPairs("p"), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(fd->GetJson("r"), "raw");
}

TEST(FieldDataTest, LongValuesAreCutInErrors) {
  std::string long_value = std::string(200, 'a');
  std::string msg = ErrorOf(FieldType::kInt, long_value);
  EXPECT_THAT(msg, HasSubstr("got \"" + std::string(32, 'a') + "...\""));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr(std::string(33, 'a'))));
}

TEST(FieldDataTest, ErrorsStayValidUtf8WhateverTheInput) {
  // Invalid UTF-8 and a multi-byte character straddling the cut.
  std::string bytes = std::string(31, 'x') + "\xC3\xA9" + "\xFF\x01";
  std::string msg = ErrorOf(FieldType::kInt, bytes);
  EXPECT_EQ(msg, "field \"f\": expected an integer, got \"" + std::string(31, 'x') + "...\"");
  std::string msg2 = ErrorOf(FieldType::kInt, std::string("a\xFF\"b\n"));
  EXPECT_EQ(msg2, "field \"f\": expected an integer, got \"a\xEF\xBF\xBD\\\"b?\"");
  EXPECT_NO_THROW((void)json(msg2).dump());
}

TEST(FieldDataTest, RequiredFieldsMustBeSupplied) {
  std::vector<Field> schema = {{"name", FieldType::kString, "", nullptr, /*required=*/true}};
  json empty = json::object();
  auto fd = FieldData::Parse(schema, empty, {});
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fd.status().message(), "missing required field \"name\"");

  json null_value = {{"name", nullptr}};
  EXPECT_EQ(FieldData::Parse(schema, null_value, {}).status().message(), "missing required field \"name\"");

  auto from_capture = FieldData::Parse(schema, empty, {{"name", "web"}});
  ASSERT_TRUE(from_capture.ok());
  EXPECT_EQ(from_capture->GetString("name"), "web");
}

TEST(FieldDataTest, DefaultsApplyOnlyWhenNotSupplied) {
  std::vector<Field> schema = {{"ttl", FieldType::kDuration, "", "1h"},
                               {"max", FieldType::kInt, "", 10},
                               {"tags", FieldType::kStringSlice, "", json::array({"a"})},
                               {"plain", FieldType::kString}};
  json data = {{"max", 3}};
  auto fd = FieldData::Parse(schema, data, {});
  ASSERT_TRUE(fd.ok());
  EXPECT_FALSE(fd->Has("ttl"));
  EXPECT_EQ(fd->GetDurationSeconds("ttl"), 3600);
  EXPECT_TRUE(fd->Has("max"));
  EXPECT_EQ(fd->GetInt("max"), 3);
  EXPECT_THAT(fd->GetStringSlice("tags"), ElementsAre("a"));
  EXPECT_EQ(fd->GetString("plain"), "");
  EXPECT_FALSE(fd->Has("plain"));
}

TEST(FieldDataTest, UnknownFieldsAreCollectedSorted) {
  std::vector<Field> schema = {{"known", FieldType::kString}};
  json data = {{"zeta", 1}, {"known", "x"}, {"alpha", nullptr}, {"mid", "y"}};
  auto fd = FieldData::Parse(schema, data, {});
  ASSERT_TRUE(fd.ok());
  EXPECT_THAT(fd->unknown(), ElementsAre("alpha", "mid", "zeta"));
  EXPECT_EQ(fd->raw(), data);
}

TEST(FieldDataTest, CapturesOverrideBodyFields) {
  std::vector<Field> schema = {{"name", FieldType::kString}};
  json data = {{"name", "from-body"}};
  auto fd = FieldData::Parse(schema, data, {{"name", "from-path"}});
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(fd->GetString("name"), "from-path");
  // A body value of the wrong type is not even looked at when the path supplies the field.
  json bad = {{"name", json::array()}};
  EXPECT_TRUE(FieldData::Parse(schema, bad, {{"name", "x"}}).ok());
}

TEST(FieldDataTest, DataMustBeAnObjectOrNull) {
  std::vector<Field> schema = {{"a", FieldType::kString}};
  json array = json::array({1});
  EXPECT_EQ(FieldData::Parse(schema, array, {}).status().code(), StatusCode::kInvalidArgument);
  json null_data;
  auto fd = FieldData::Parse(schema, null_data, {});
  ASSERT_TRUE(fd.ok());
  EXPECT_TRUE(fd->raw().is_object());
}

TEST(FieldDataTest, FirstMismatchInNameOrderIsReported) {
  std::vector<Field> schema = {{"b", FieldType::kInt}, {"a", FieldType::kBool}};
  json data = {{"b", "x"}, {"a", "y"}};
  EXPECT_THAT(FieldData::Parse(schema, data, {}).status().message(), HasSubstr("field \"a\""));
}

// ---- Request helpers -----------------------------------------------------------------------

TEST(RequestTest, OperationNamesAreCapabilityNames) {
  EXPECT_STREQ(OperationName(Operation::kRead), "read");
  EXPECT_STREQ(OperationName(Operation::kList), "list");
  EXPECT_STREQ(OperationName(Operation::kCreate), "create");
  EXPECT_STREQ(OperationName(Operation::kUpdate), "update");
  EXPECT_STREQ(OperationName(Operation::kPatch), "patch");
  EXPECT_STREQ(OperationName(Operation::kDelete), "delete");
  EXPECT_STREQ(OperationName(Operation::kHelp), "help");
}

TEST(RequestTest, RelativePathStripsTheMountPoint) {
  Request req;
  req.mount_point = "secret/";
  req.path = "secret/foo/bar";
  EXPECT_EQ(req.RelativePath(), "foo/bar");
  req.path = "secret/";
  EXPECT_EQ(req.RelativePath(), "");
  req.path = "secret";
  EXPECT_EQ(req.RelativePath(), "");
  req.mount_point = "auth/token/";
  req.path = "auth/token/lookup-self";
  EXPECT_EQ(req.RelativePath(), "lookup-self");
  req.mount_point = "";
  EXPECT_EQ(req.RelativePath(), "auth/token/lookup-self");
}

// ---- FrameworkBackend ----------------------------------------------------------------------

Handler Echo(std::string tag) {
  return [tag](Request& req, const FieldData& fields) -> StatusOr<Response> {
    json captured = json::object();
    for (const char* name : {"name", "path", "a", "b"}) {
      if (fields.Has(name)) captured[name] = fields.GetString(name);
    }
    return Response::WithData(json{{"tag", tag}, {"captured", captured}});
  };
}

Request Req(Operation op, std::string rel, json data = json::object()) {
  Request req;
  req.operation = op;
  req.mount_point = "m/";
  req.path = "m/" + rel;
  req.data = std::move(data);
  return req;
}

class FrameworkTest : public ::testing::Test {
 protected:
  FrameworkTest()
      : backend_(
            {
                Path{.pattern = "config",
                     .fields = {{"ttl", FieldType::kDuration}, {"max", FieldType::kInt}},
                     .operations = {{Operation::kRead, Echo("config-read")},
                                    {Operation::kUpdate,
                                     [this](Request&, const FieldData& f) -> StatusOr<Response> {
                                       ++writes_;
                                       last_ttl_ = f.GetDurationSeconds("ttl");
                                       return Response();
                                     }}},
                     .help_synopsis = "Configure the thing.",
                     .help_description = "Longer words about configuring."},
                Path{.pattern = "roles/?",
                     .operations = {{Operation::kList, Echo("roles-list")}},
                     .help_synopsis = "List roles."},
                Path{.pattern = "roles/{name}",
                     .fields = {{"name", FieldType::kString}, {"policies", FieldType::kStringSlice}},
                     .operations = {{Operation::kRead, Echo("role-read")},
                                    {Operation::kUpdate, Echo("role-write")},
                                    {Operation::kDelete,
                                     [](Request&, const FieldData&) -> StatusOr<Response> { return Response(); }}},
                     .existence_check = [](Request&, const FieldData& f) -> StatusOr<bool> {
                       return f.GetString("name") == "exists";
                     },
                     .help_synopsis = "Manage one role."},
                Path{.pattern = "keys/{name}/rotate", .operations = {{Operation::kUpdate, Echo("rotate")}}},
                Path{.pattern = "data/{path+}",
                     .operations = {{Operation::kRead, Echo("data")}},
                     .takes_arbitrary_fields = true},
                Path{.pattern = "pair/{a}-{b}", .operations = {{Operation::kRead, Echo("pair")}}},
                Path{.pattern = "files/{path*}", .operations = {{Operation::kRead, Echo("files")}}},
            },
            "The test backend.") {}

  StatusOr<Response> Handle(Request req) { return backend_.HandleRequest(req); }

  int writes_ = 0;
  int64_t last_ttl_ = -1;
  FrameworkBackend backend_;
};

TEST_F(FrameworkTest, LiteralPatternMatchesExactly) {
  auto r = Handle(Req(Operation::kRead, "config"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->data["tag"], "config-read");
  for (const char* rel : {"config/", "configs", "conf", "", "x/config"}) {
    SCOPED_TRACE(rel);
    auto miss = Handle(Req(Operation::kRead, rel));
    ASSERT_FALSE(miss.ok());
    EXPECT_EQ(miss.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(miss.status().message(), "unsupported path");
  }
}

TEST_F(FrameworkTest, OptionalTrailingSlash) {
  EXPECT_EQ(Handle(Req(Operation::kList, "roles"))->data["tag"], "roles-list");
  EXPECT_EQ(Handle(Req(Operation::kList, "roles/"))->data["tag"], "roles-list");
  EXPECT_FALSE(Handle(Req(Operation::kList, "roles//")).ok());
}

TEST_F(FrameworkTest, SegmentCaptureTakesOneSegment) {
  auto r = Handle(Req(Operation::kRead, "roles/web-app.1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data["tag"], "role-read");
  EXPECT_EQ(r->data["captured"]["name"], "web-app.1");
  EXPECT_EQ(Handle(Req(Operation::kRead, "roles/a/b")).status().code(), StatusCode::kNotFound);

  auto rotate = Handle(Req(Operation::kUpdate, "keys/k1/rotate"));
  ASSERT_TRUE(rotate.ok());
  EXPECT_EQ(rotate->data["captured"]["name"], "k1");
  EXPECT_EQ(Handle(Req(Operation::kUpdate, "keys//rotate")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Handle(Req(Operation::kUpdate, "keys/a/b/rotate")).status().code(), StatusCode::kNotFound);
}

TEST_F(FrameworkTest, SegmentCapturesBacktrackBeforeLiterals) {
  auto r = Handle(Req(Operation::kRead, "pair/x-y-z"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data["captured"]["a"], "x-y");
  EXPECT_EQ(r->data["captured"]["b"], "z");
  EXPECT_EQ(Handle(Req(Operation::kRead, "pair/xy")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Handle(Req(Operation::kRead, "pair/x-")).status().code(), StatusCode::kNotFound);
}

TEST_F(FrameworkTest, RestCaptures) {
  auto plus = Handle(Req(Operation::kRead, "data/a/b/c"));
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ(plus->data["captured"]["path"], "a/b/c");
  EXPECT_EQ(Handle(Req(Operation::kRead, "data/")).status().code(), StatusCode::kNotFound);

  auto star = Handle(Req(Operation::kRead, "files/"));
  ASSERT_TRUE(star.ok());
  EXPECT_EQ(star->data["captured"]["path"], "");
  EXPECT_EQ(Handle(Req(Operation::kRead, "files/x/y/"))->data["captured"]["path"], "x/y/");
}

TEST_F(FrameworkTest, FirstMatchingPathWins) {
  FrameworkBackend b({Path{.pattern = "a/{name}", .operations = {{Operation::kRead, Echo("first")}}},
                      Path{.pattern = "a/special", .operations = {{Operation::kRead, Echo("second")}}},
                      Path{.pattern = "{path*}", .operations = {{Operation::kRead, Echo("catch-all")}}}},
                     "");
  Request req = Req(Operation::kRead, "a/special");
  EXPECT_EQ(b.HandleRequest(req)->data["tag"], "first");
  Request other = Req(Operation::kRead, "b/c");
  EXPECT_EQ(b.HandleRequest(other)->data["tag"], "catch-all");
}

TEST_F(FrameworkTest, MissingOperationIs405) {
  auto r = Handle(Req(Operation::kDelete, "config"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupportedOperation);
  EXPECT_EQ(r.status().message(), "unsupported operation");
  EXPECT_EQ(Handle(Req(Operation::kPatch, "roles/x")).status().code(), StatusCode::kUnsupportedOperation);
}

TEST_F(FrameworkTest, FieldsAreValidatedBeforeTheHandlerRuns) {
  auto bad = Handle(Req(Operation::kUpdate, "config", {{"ttl", "30x"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("field \"ttl\""));
  EXPECT_EQ(writes_, 0);

  auto good = Handle(Req(Operation::kUpdate, "config", {{"ttl", "2h"}}));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(writes_, 1);
  EXPECT_EQ(last_ttl_, 7200);
  EXPECT_TRUE(good->Empty());
}

TEST_F(FrameworkTest, UnknownFieldsWarnOnNonEmptyResponses) {
  auto r = Handle(Req(Operation::kRead, "config", {{"zz", 1}, {"aa", "x"}, {"max", 2}}));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->warnings, ElementsAre("Endpoint ignored these unrecognized parameters: [aa zz]"));

  // A write answered with 204 stays bare, as in Vault.
  auto w = Handle(Req(Operation::kUpdate, "config", {{"typo", 1}}));
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->Empty());

  auto none = Handle(Req(Operation::kRead, "config", {{"max", 2}}));
  EXPECT_THAT(none->warnings, IsEmpty());
}

TEST_F(FrameworkTest, ArbitraryFieldPathsDoNotWarn) {
  auto r = Handle(Req(Operation::kRead, "data/x", {{"anything", 1}}));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST_F(FrameworkTest, CaptureOverridingABodyFieldWarns) {
  auto r = Handle(Req(Operation::kUpdate, "roles/web", {{"name", "other"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data["captured"]["name"], "web");
  EXPECT_THAT(r->warnings, ElementsAre("Endpoint replaced the value of these parameters with the values "
                                       "captured from the endpoint's path: [name]"));
}

TEST_F(FrameworkTest, UndeclaredCapturesAreDeclaredAsStrings) {
  // keys/{name}/rotate declares no fields, yet the handler sees the capture and no warning.
  auto r = Handle(Req(Operation::kUpdate, "keys/k1/rotate"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data["captured"]["name"], "k1");
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST_F(FrameworkTest, HelpForAPath) {
  auto r = Handle(Req(Operation::kHelp, "config"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, (json{{"help", "Configure the thing.\n\nLonger words about configuring."}}));
  // Help needs no valid fields and no handler for the operation.
  auto role = Handle(Req(Operation::kHelp, "roles/x", {{"policies", json::object()}}));
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(role->data["help"], "Manage one role.");
  EXPECT_EQ(Handle(Req(Operation::kHelp, "nope")).status().code(), StatusCode::kNotFound);
}

TEST_F(FrameworkTest, HelpOnTheRootListsPaths) {
  auto r = Handle(Req(Operation::kHelp, ""));
  ASSERT_TRUE(r.ok());
  std::string help = r->data["help"];
  EXPECT_EQ(help.rfind("The test backend.", 0), 0u);
  EXPECT_THAT(help, HasSubstr("roles/{name}\n        Manage one role."));
  EXPECT_THAT(help, HasSubstr("config\n        Configure the thing."));
}

TEST_F(FrameworkTest, ExistenceCheck) {
  Request exists = Req(Operation::kCreate, "roles/exists");
  EXPECT_EQ(*backend_.ExistenceCheck(exists), std::optional<bool>(true));
  Request absent = Req(Operation::kCreate, "roles/other");
  EXPECT_EQ(*backend_.ExistenceCheck(absent), std::optional<bool>(false));
  Request no_check = Req(Operation::kUpdate, "config");
  EXPECT_EQ(*backend_.ExistenceCheck(no_check), std::nullopt);
  Request no_path = Req(Operation::kUpdate, "nowhere");
  EXPECT_EQ(*backend_.ExistenceCheck(no_path), std::nullopt);
  Request bad_field = Req(Operation::kUpdate, "roles/exists", {{"policies", 5}});
  EXPECT_EQ(backend_.ExistenceCheck(bad_field).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FrameworkTest, HandlerErrorsPassThrough) {
  FrameworkBackend b({Path{.pattern = "boom",
                           .operations = {{Operation::kRead,
                                           [](Request&, const FieldData&) -> StatusOr<Response> {
                                             return Unavailable("storage unavailable");
                                           }}}}},
                     "");
  Request req = Req(Operation::kRead, "boom", {{"unknown", 1}});
  auto r = b.HandleRequest(req);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(FrameworkTest, HandlersSeeTheRequestStorage) {
  InmemStorage storage;
  FrameworkBackend b({Path{.pattern = "put/{name}",
                           .operations = {{Operation::kUpdate,
                                           [](Request& req, const FieldData& f) -> StatusOr<Response> {
                                             RETURN_IF_ERROR(req.storage->Put(f.GetString("name"), "v"));
                                             return Response();
                                           }}}}},
                     "");
  Request req = Req(Operation::kUpdate, "put/k");
  req.storage = &storage;
  ASSERT_TRUE(b.HandleRequest(req).ok());
  EXPECT_THAT(storage.Keys(), ElementsAre("k"));
}

TEST(FrameworkDeathTest, MalformedPatternsAbortAtConstruction) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(FrameworkBackend({Path{.pattern = "roles/{name"}}, ""), "unclosed");
  EXPECT_DEATH(FrameworkBackend({Path{.pattern = "data/{path*}/more"}}, ""), "must end the pattern");
  EXPECT_DEATH(FrameworkBackend({Path{.pattern = "a/{}"}}, ""), "capture names");
  EXPECT_DEATH(FrameworkBackend({Path{.pattern = "a/{x}/{x}"}}, ""), "twice");
}

}  // namespace
}  // namespace coffer::logical
