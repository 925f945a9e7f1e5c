#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engines/kv/backend.h"
#include "logical/inmem_storage.h"
#include "logical/storage.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kViewPrefix[] = "logical/0c6e1f2a/";

// Fails writes with an error that, like every storage error, names no value.
class BrokenStorage : public logical::InmemStorage {
 public:
  Status Put(std::string_view, std::string_view) override { return Unavailable("storage: disk full"); }
};

class KvV1Test : public ::testing::Test {
 protected:
  KvV1Test() : view_(&parent_, kViewPrefix) { backend_ = NewBackend(logical::kDefaultLeaseTtlSeconds); }

  std::unique_ptr<logical::Backend> NewBackend(int64_t default_ttl) {
    logical::BackendConfig config;
    config.storage = &view_;
    config.options = {{"version", "1"}};
    config.mount_path = "secret/";
    config.default_lease_ttl_seconds = default_ttl;
    auto backend = NewKvV1Backend(config);
    EXPECT_TRUE(backend.ok());
    return std::move(backend).value();
  }

  Request Req(Operation op, const std::string& rel, json data = json::object()) {
    Request req;
    req.operation = op;
    req.mount_point = "secret/";
    req.mount_type = "kv";
    req.path = "secret/" + rel;
    req.data = std::move(data);
    req.storage = &view_;
    return req;
  }

  StatusOr<Response> Do(Operation op, const std::string& rel, json data = json::object()) {
    Request req = Req(op, rel, std::move(data));
    return backend_->HandleRequest(req);
  }

  void Write(const std::string& rel, json data) {
    auto r = Do(Operation::kUpdate, rel, std::move(data));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r->Empty());
  }

  logical::InmemStorage parent_;
  logical::StorageView view_;
  std::unique_ptr<logical::Backend> backend_;
};

TEST_F(KvV1Test, WriteAnswersEmptyAndReadReturnsTheObject) {
  auto w = Do(Operation::kCreate, "foo", {{"foo", "bar"}});
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->Empty());  // the API answers 204

  auto r = Do(Operation::kRead, "foo");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->DataJson(), (json{{"foo", "bar"}}));
  EXPECT_EQ(r->lease_duration, 2764800);
  EXPECT_EQ(r->lease_id, "");
  EXPECT_FALSE(r->renewable);
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST_F(KvV1Test, StoresCompactJsonAtThePathInsideTheMountView) {
  Write("app/db", {{"user", "admin"}, {"port", 5432}});
  EXPECT_THAT(parent_.Keys(), ElementsAre(std::string(kViewPrefix) + "app/db"));
  EXPECT_EQ(**parent_.Get(std::string(kViewPrefix) + "app/db"), R"({"port":5432,"user":"admin"})");
}

TEST_F(KvV1Test, OverwriteReplacesTheWholeObject) {
  Write("foo", {{"a", 1}, {"b", 2}});
  Write("foo", {{"c", 3}});
  EXPECT_EQ(Do(Operation::kRead, "foo")->DataJson(), (json{{"c", 3}}));
}

TEST_F(KvV1Test, ReadingAnAbsentSecretIsNotFoundWithNoMessage) {
  for (const char* rel : {"missing", "a/b/c", "", "folder/"}) {
    SCOPED_TRACE(rel);
    auto r = Do(Operation::kRead, rel);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(r.status().message(), "");  // rendered as {"errors":[]}
  }
}

TEST_F(KvV1Test, ListShowsKeysAndFolders) {
  Write("a", {{"v", 1}});
  Write("b/c", {{"v", 1}});
  Write("b/d/e", {{"v", 1}});
  Write("b/d/f", {{"v", 1}});
  Write("b/d", {{"v", 1}});

  EXPECT_EQ(Do(Operation::kList, "")->data, (json{{"keys", {"a", "b/"}}}));
  EXPECT_EQ(Do(Operation::kList, "b/")->data, (json{{"keys", {"c", "d", "d/"}}}));
  EXPECT_EQ(Do(Operation::kList, "b")->data, (json{{"keys", {"c", "d", "d/"}}}));
  EXPECT_EQ(Do(Operation::kList, "b/d/")->data, (json{{"keys", {"e", "f"}}}));

  // "LIST /v1/secret" addresses the mount root too.
  Request root = Req(Operation::kList, "");
  root.path = "secret";
  EXPECT_EQ(backend_->HandleRequest(root)->data, (json{{"keys", {"a", "b/"}}}));
}

TEST_F(KvV1Test, ListingNothingIsNotFound) {
  EXPECT_EQ(Do(Operation::kList, "").status().code(), StatusCode::kNotFound);
  Write("x/y", {{"v", 1}});
  EXPECT_EQ(Do(Operation::kList, "nothing/").status().code(), StatusCode::kNotFound);
  // Listing a secret (not a folder) finds nothing below it.
  EXPECT_EQ(Do(Operation::kList, "x/y").status().code(), StatusCode::kNotFound);
}

TEST_F(KvV1Test, DeleteRemovesAndIsIdempotent) {
  Write("foo", {{"a", 1}});
  Write("keep", {{"a", 1}});
  auto d = Do(Operation::kDelete, "foo");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->Empty());
  EXPECT_EQ(Do(Operation::kRead, "foo").status().code(), StatusCode::kNotFound);
  auto again = Do(Operation::kDelete, "foo");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Empty());
  EXPECT_TRUE(Do(Operation::kDelete, "").ok());
  EXPECT_EQ(Do(Operation::kList, "")->data, (json{{"keys", {"keep"}}}));
  ASSERT_TRUE(Do(Operation::kDelete, "keep").ok());
  EXPECT_EQ(Do(Operation::kList, "").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(parent_.Keys(), IsEmpty());
}

TEST_F(KvV1Test, BodyMustBeANonEmptyObject) {
  for (const json& body : {json::array({1, 2}), json("text"), json(42)}) {
    SCOPED_TRACE(body.dump());
    auto r = Do(Operation::kUpdate, "foo", body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  auto empty = Do(Operation::kUpdate, "foo", json::object());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(), "missing data fields");
  EXPECT_THAT(parent_.Keys(), IsEmpty());
}

TEST_F(KvV1Test, WritingToTheRootOrAFolderIsRejected) {
  auto root = Do(Operation::kUpdate, "", {{"a", 1}});
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(root.status().message(), "missing path");

  auto folder = Do(Operation::kCreate, "dir/", {{"a", 1}});
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(folder.status().message(), HasSubstr("\"dir/\""));
  EXPECT_THAT(parent_.Keys(), IsEmpty());
}

TEST_F(KvV1Test, TtlFieldBecomesTheLeaseDuration) {
  struct Case {
    json data;
    int64_t want;
  };
  for (const Case& c : std::vector<Case>{{{{"ttl", "1h"}}, 3600},
                                         {{{"ttl", 90}}, 90},
                                         {{{"ttl", "90"}}, 90},
                                         {{{"ttl", "1h30m"}}, 5400},
                                         {{{"lease", "2m"}}, 120},
                                         {{{"ttl", "1h"}, {"lease", "2m"}}, 3600},
                                         {{{"ttl", "0s"}}, 0},
                                         {{{"ttl", "soon"}}, 2764800},
                                         {{{"ttl", true}}, 2764800},
                                         {{{"ttl", "-5m"}}, 2764800},
                                         {{{"TTL", "1h"}}, 2764800}}) {
    SCOPED_TRACE(c.data.dump());
    json data = c.data;
    data["password"] = "s3cret";
    Write("svc", data);
    auto r = Do(Operation::kRead, "svc");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->lease_duration, c.want);
    EXPECT_EQ(r->DataJson(), data);    // the ttl stays part of the secret
    EXPECT_EQ(r->lease_id, "");  // advisory only: never a lease
    EXPECT_FALSE(r->renewable);
  }
}

TEST_F(KvV1Test, DefaultLeaseDurationFollowsTheMount) {
  backend_ = NewBackend(600);
  Write("svc", {{"k", "v"}});
  EXPECT_EQ(Do(Operation::kRead, "svc")->lease_duration, 600);
}

TEST_F(KvV1Test, ExistenceCheck) {
  Request absent = Req(Operation::kCreate, "foo", {{"a", 1}});
  EXPECT_EQ(*backend_->ExistenceCheck(absent), std::optional<bool>(false));
  Write("foo", {{"a", 1}});
  Request present = Req(Operation::kUpdate, "foo", {{"a", 2}});
  EXPECT_EQ(*backend_->ExistenceCheck(present), std::optional<bool>(true));
  Request root = Req(Operation::kUpdate, "", {{"a", 2}});
  EXPECT_EQ(*backend_->ExistenceCheck(root), std::optional<bool>(false));
  Request prefix_of_key = Req(Operation::kUpdate, "fo", {{"a", 2}});
  EXPECT_EQ(*backend_->ExistenceCheck(prefix_of_key), std::optional<bool>(false));
}

TEST_F(KvV1Test, PatchIsUnsupported) {
  Write("foo", {{"a", 1}});
  auto r = Do(Operation::kPatch, "foo", {{"a", 2}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupportedOperation);
  EXPECT_EQ(Do(Operation::kRead, "foo")->DataJson(), (json{{"a", 1}}));
}

TEST_F(KvV1Test, EveryJsonTypeRoundTripsExactly) {
  const std::string text = R"({
    "string": "plain", "unicode": "ünïcødé ✓ 🔑 日本語", "escapes": "quote\" backslash\\ tab\t nl\n",
    "int": 42, "negative": -7, "zero": 0, "big": 9007199254740993, "max_u64": 18446744073709551615,
    "min_i64": -9223372036854775808, "float": 1.5, "tiny": 1e-7, "third": 0.3333333333333333,
    "true": true, "false": false, "null": null,
    "array": [1, "two", [3.5, null], {"k": "v"}], "empty_array": [], "empty_object": {},
    "nested": {"a": {"b": {"c": ["deep"]}}},
    "path": "a body field named path is data too"
  })";
  const json body = json::parse(text);
  Write("types", body);
  auto r = Do(Operation::kRead, "types");
  ASSERT_TRUE(r.ok());
  const json data = r->DataJson();
  EXPECT_EQ(data, body);
  EXPECT_EQ(data.dump(), body.dump());
  // The read splices the stored text: it must be exactly what rendering the document gives.
  EXPECT_EQ(r->raw_data, body.dump(-1, ' ', false, json::error_handler_t::replace));
  EXPECT_EQ(data["big"].get<uint64_t>(), 9007199254740993u);
  EXPECT_EQ(data["max_u64"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_TRUE(data["float"].is_number_float());
  EXPECT_TRUE(data["int"].is_number_integer());
  EXPECT_EQ(data["unicode"], "ünïcødé ✓ 🔑 日本語");
  EXPECT_EQ(data["path"], "a body field named path is data too");
}

TEST_F(KvV1Test, SplicedReadsRenderExactlyWhatTheParsedDocumentWould) {
  // What the envelope renders for "data": the stored text when spliced, else Dump(data).
  auto rendered = [](const logical::Response& r) {
    return r.raw_data.empty() ? r.data.dump(-1, ' ', false, json::error_handler_t::replace) : r.raw_data;
  };
  for (const char* text : {R"({"a":"b"})", R"({"z":1,"a":2,"m":{"y":[1,2,{"b":null}],"x":"}"}})",
                           R"({"k":"with \"quotes\", {braces} and [brackets]","n":-0.0,"e":1e300})",
                           R"({"ttl":"5m","nested":{"ttl":"1h","lease":"2h"}})",
                           R"({"lease":7,"x":{"ttl":1}})", R"({"ttl":{"not":"a duration"}})",
                           R"({"u":"\u0001 ctl","t":true,"f":false,"nul":null,"arr":[[],[{}]]})"}) {
    SCOPED_TRACE(text);
    json body = json::parse(text);
    Write("doc", body);
    auto r = Do(Operation::kRead, "doc");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r->raw_data.empty());  // HandleWrite's output always takes the splice path
    EXPECT_EQ(rendered(*r), body.dump(-1, ' ', false, json::error_handler_t::replace));
    // The advisory TTL comes from the top-level members only.
    int64_t want = 2764800;
    if (body.contains("ttl") && body["ttl"].is_string()) want = body["ttl"] == "5m" ? 300 : want;
    else if (!body.contains("ttl") && body.contains("lease")) want = body["lease"].get<int64_t>();
    EXPECT_EQ(r->lease_duration, want);
  }
}

TEST_F(KvV1Test, StoredTextOfAnotherShapeIsParsedAndRenderedCanonically) {
  // Not dump() output (whitespace, unsorted keys): the read parses it as before.
  ASSERT_TRUE(view_.Put("odd", R"({ "b": 1, "a": "x", "ttl": "1m" })").ok());
  auto r = Do(Operation::kRead, "odd");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->raw_data.empty());
  EXPECT_EQ(r->data.dump(), R"({"a":"x","b":1,"ttl":"1m"})");
  EXPECT_EQ(r->lease_duration, 60);
  // A corrupt value is still an internal error, never spliced.
  for (const char* bad : {R"({"a":tru})", R"({"a":1,"b"})", "[1]", "{\"a\":\"\n\"}"}) {
    SCOPED_TRACE(bad);
    ASSERT_TRUE(view_.Put("bad", bad).ok());
    auto b = Do(Operation::kRead, "bad");
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), StatusCode::kInternal);
  }
}

TEST_F(KvV1Test, InvalidUtf8IsAClientError) {
  auto r = Do(Operation::kUpdate, "bad", {{"v", std::string("\xFF\xFE")}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parent_.Keys(), IsEmpty());
}

TEST_F(KvV1Test, PathsCannotEscapeTheMountView) {
  ASSERT_TRUE(parent_.Put("logical/other-mount/secret", R"({"theirs":true})").ok());
  for (Operation op : {Operation::kRead, Operation::kUpdate, Operation::kDelete, Operation::kList}) {
    auto r = Do(op, "../other-mount/secret", {{"x", 1}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(parent_.Keys(), ElementsAre("logical/other-mount/secret"));
}

TEST_F(KvV1Test, StorageErrorsPropagateWithoutTheValue) {
  BrokenStorage broken;
  Request req = Req(Operation::kUpdate, "foo", {{"password", "hunter2-very-secret"}});
  req.storage = &broken;
  auto r = backend_->HandleRequest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), Not(HasSubstr("hunter2")));
}

TEST_F(KvV1Test, CorruptStoredEntryIsAnInternalErrorThatHidesTheBytes) {
  ASSERT_TRUE(view_.Put("broken", "not json: hunter2").ok());
  auto r = Do(Operation::kRead, "broken");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), Not(HasSubstr("hunter2")));
  ASSERT_TRUE(view_.Put("array", "[1,2]").ok());
  EXPECT_EQ(Do(Operation::kRead, "array").status().code(), StatusCode::kInternal);
}

TEST_F(KvV1Test, QueryParametersOnReadsAreIgnoredSilently) {
  Write("foo", {{"a", 1}});
  auto r = Do(Operation::kRead, "foo", {{"list", "false"}, {"version", "3"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->DataJson(), (json{{"a", 1}}));
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST_F(KvV1Test, HelpDescribesTheEngine) {
  auto path_help = Do(Operation::kHelp, "anything");
  ASSERT_TRUE(path_help.ok());
  EXPECT_THAT(path_help->data["help"].get<std::string>(), HasSubstr("ttl"));
  auto root_help = Do(Operation::kHelp, "");
  ASSERT_TRUE(root_help.ok());
  EXPECT_THAT(root_help->data["help"].get<std::string>(), HasSubstr("kv engine (version 1)"));
}

}  // namespace
}  // namespace coffer::kv
