#include "net/http_call.h"

#include <gtest/gtest.h>

namespace coffer::net {
namespace {

TEST(HttpCall, OnlyHttpAndHttps) {
  for (const char* url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://x", "127.0.0.1:1/x", ""}) {
    HttpCall call;
    call.url = url;
    auto r = Perform(call);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << url;
  }
  HttpCall patch;
  patch.method = "PATCH";
  patch.url = "http://127.0.0.1:1/";
  EXPECT_EQ(Perform(patch).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpCall, TransportErrorsNameTheUrlWithoutSecrets) {
  HttpCall call;
  call.url = "http://user:hunter2@127.0.0.1:1/jwks?token=abc";
  call.headers = {"Authorization: Bearer super-secret-reviewer"};
  call.timeout_seconds = 5;
  auto r = Perform(call);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  const std::string m = r.status().message();
  EXPECT_NE(m.find("GET http://127.0.0.1:1/jwks"), std::string::npos) << m;
  EXPECT_EQ(m.find("hunter2"), std::string::npos);
  EXPECT_EQ(m.find("token=abc"), std::string::npos);
  EXPECT_EQ(m.find("super-secret"), std::string::npos);
}

}  // namespace
}  // namespace coffer::net
