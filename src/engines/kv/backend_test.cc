#include "engines/kv/backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "logical/inmem_storage.h"

namespace coffer::kv {
namespace {

using logical::Operation;
using nlohmann::json;
using ::testing::HasSubstr;

StatusOr<std::unique_ptr<logical::Backend>> WithOptions(std::map<std::string, std::string> options) {
  logical::BackendConfig config;
  config.options = std::move(options);
  config.mount_path = "secret/";
  return NewKvBackend(config);
}

// A version-1 backend writes, reads back and rejects PATCH.
void ExpectKvV1(logical::Backend& backend) {
  logical::InmemStorage storage;
  logical::Request write;
  write.operation = Operation::kUpdate;
  write.mount_point = "secret/";
  write.path = "secret/foo";
  write.data = {{"k", "v"}};
  write.storage = &storage;
  ASSERT_TRUE(backend.HandleRequest(write).ok());
  logical::Request read = write;
  read.operation = Operation::kRead;
  read.data = json::object();
  auto r = backend.HandleRequest(read);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->DataJson(), (json{{"k", "v"}}));
  logical::Request patch = write;
  patch.operation = Operation::kPatch;
  EXPECT_EQ(backend.HandleRequest(patch).status().code(), StatusCode::kUnsupportedOperation);
}

TEST(NewKvBackendTest, VersionOneWhenAbsentEmptyOrOne) {
  for (const auto& options :
       std::vector<std::map<std::string, std::string>>{{}, {{"version", ""}}, {{"version", "1"}}, {{"other", "x"}}}) {
    auto backend = WithOptions(options);
    ASSERT_TRUE(backend.ok()) << backend.status().message();
    ExpectKvV1(**backend);
  }
}

TEST(NewKvBackendTest, VersionTwoIsVersioned) {
  logical::InmemStorage storage;
  logical::BackendConfig config;
  config.options = {{"version", "2"}};
  config.mount_path = "secret/";
  config.storage = &storage;
  auto backend = NewKvBackend(config);
  ASSERT_TRUE(backend.ok()) << backend.status().message();
  logical::Request write;
  write.operation = Operation::kUpdate;
  write.mount_point = "secret/";
  write.path = "secret/data/foo";
  write.data = {{"data", {{"k", "v"}}}};
  write.storage = &storage;
  auto w = (*backend)->HandleRequest(write);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->data["version"], 1);
  logical::Request v1_style = write;
  v1_style.path = "secret/foo";
  auto r = (*backend)->HandleRequest(v1_style);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->raw_status, 404);  // a v2 mount has no unversioned paths
}

TEST(NewKvBackendTest, OtherVersionsNameTheAllowedValues) {
  for (const char* version : {"3", "v1", "1.0", " 1"}) {
    SCOPED_TRACE(version);
    auto backend = WithOptions({{"version", version}});
    ASSERT_FALSE(backend.ok());
    EXPECT_EQ(backend.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(backend.status().message(), HasSubstr("allowed values are \"1\" and \"2\""));
  }
  auto long_version = WithOptions({{"version", std::string(300, '9')}});
  EXPECT_LT(long_version.status().message().size(), 100u);
}

TEST(NewKvBackendTest, NegativeDefaultLeaseTtlIsRejected) {
  logical::BackendConfig config;
  config.default_lease_ttl_seconds = -1;
  EXPECT_EQ(NewKvV1Backend(config).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::kv
