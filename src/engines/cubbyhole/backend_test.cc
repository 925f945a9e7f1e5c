#include "engines/cubbyhole/backend.h"

#include <gtest/gtest.h>

#include "logical/inmem_storage.h"

namespace coffer::cubbyhole {
namespace {

using logical::Operation;

class CubbyholeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logical::BackendConfig config;
    config.storage = &storage_;
    config.mount_path = "cubbyhole/";
    backend_ = std::move(*NewCubbyholeBackend(config));
  }

  StatusOr<logical::Response> Call(Operation op, const std::string& path, const std::string& accessor,
                                   nlohmann::json data = nlohmann::json::object()) {
    logical::Request req;
    req.operation = op;
    req.path = "cubbyhole/" + path;
    req.mount_point = "cubbyhole/";
    req.storage = &storage_;
    req.client_token_accessor = accessor;
    req.data = std::move(data);
    return backend_->HandleRequest(req);
  }

  logical::InmemStorage storage_;
  std::unique_ptr<logical::Backend> backend_;
};

TEST_F(CubbyholeTest, EachTokenSeesOnlyItsOwnEntries) {
  ASSERT_TRUE(Call(Operation::kCreate, "note", "acc-a", {{"v", "a"}}).ok());
  ASSERT_TRUE(Call(Operation::kCreate, "note", "acc-b", {{"v", "b"}}).ok());
  EXPECT_EQ(Call(Operation::kRead, "note", "acc-a")->DataJson()["v"], "a");
  EXPECT_EQ(Call(Operation::kRead, "note", "acc-b")->DataJson()["v"], "b");
  EXPECT_EQ(Call(Operation::kRead, "note", "acc-a")->lease_duration, 0);
  EXPECT_EQ(Call(Operation::kRead, "other", "acc-a").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Call(Operation::kDelete, "note", "acc-a").ok());
  EXPECT_EQ(Call(Operation::kRead, "note", "acc-a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Call(Operation::kRead, "note", "acc-b")->DataJson()["v"], "b");
  auto list = Call(Operation::kList, "", "acc-b");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->DataJson()["keys"], nlohmann::json::array({"note"}));
}

TEST_F(CubbyholeTest, NoTokenNoCubbyhole) {
  EXPECT_EQ(Call(Operation::kRead, "note", "").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::cubbyhole
