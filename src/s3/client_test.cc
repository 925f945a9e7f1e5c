#include "s3/client.h"

#include <gtest/gtest.h>

namespace coffer::s3 {
namespace {

TEST(RequestTest, PathStyleWithEndpoint) {
  ClientOptions o;
  o.bucket = "my.bucket";
  o.region = "eu-west-1";
  o.endpoint = "http://127.0.0.1:4568/";
  HttpRequest r = BuildRequest(o, "PUT", "secrets/a b/ü.json", {}, "{}", "application/json");
  EXPECT_EQ(r.url, "http://127.0.0.1:4568/my.bucket/secrets/a%20b/%C3%BC.json");
  EXPECT_EQ(r.headers[0], "x-amz-content-sha256: 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ(r.headers[1], "Content-Type: application/json");
  EXPECT_EQ(SigV4Param(o), "aws:amz:eu-west-1:s3");
}

TEST(RequestTest, VirtualHostedOnAwsAndQueryEncoding) {
  ClientOptions o;
  o.bucket = "bucket";
  o.region = "us-east-2";
  HttpRequest r = BuildRequest(o, "GET", "", {{"list-type", "2"}, {"continuation-token", "a+b/="}, {"prefix", "s/"}}, "", "");
  EXPECT_EQ(r.url, "https://bucket.s3.us-east-2.amazonaws.com/?continuation-token=a%2Bb%2F%3D&list-type=2&prefix=s%2F");
  EXPECT_EQ(r.headers[0],
            "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.headers.size(), 1u);  // nothing signed that is not sent
  EXPECT_EQ(BuildRequest(o, "PUT", "", {}, "", "").headers[1], "Content-Type: application/octet-stream");
  o.bucket = "has.dots";
  EXPECT_EQ(BuildRequest(o, "GET", "k", {}, "", "").url, "https://s3.us-east-2.amazonaws.com/has.dots/k");
}

TEST(ErrorTest, OneLineErrors) {
  ClientOptions o;
  o.bucket = "b";
  o.region = "us-east-1";
  Status wrong = TranslateError(o, 400, S3Error{"AuthorizationHeaderMalformed", "x", "eu-west-1", ""}, "k", "");
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("\"eu-west-1\""), std::string::npos);
  Status redirect = TranslateError(o, 301, S3Error{"PermanentRedirect", "", "", "b.s3.eu-west-2.amazonaws.com"}, "k",
                                   "eu-west-2");
  EXPECT_NE(redirect.message().find("eu-west-2"), std::string::npos);
  Status head = TranslateError(o, 400, S3Error{}, "", "eu-north-1");  // HEAD: no body, only the header
  EXPECT_EQ(head.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(head.message().find("\"eu-north-1\""), std::string::npos);
  EXPECT_EQ(TranslateError(o, 403, S3Error{"AccessDenied", "", "", ""}, "k", "").code(), StatusCode::kPermissionDenied);
  Status nb = TranslateError(o, 404, S3Error{"NoSuchBucket", "", "", ""}, "k", "");
  EXPECT_NE(nb.message().find("does not exist"), std::string::npos);
  EXPECT_TRUE(IsRetryable(503, S3Error{"SlowDown", "", "", ""}));
  EXPECT_TRUE(IsRetryable(500, S3Error{}));
  EXPECT_TRUE(IsRetryable(400, S3Error{"RequestTimeout", "", "", ""}));
  EXPECT_FALSE(IsRetryable(403, S3Error{"AccessDenied", "", "", ""}));
  EXPECT_FALSE(IsRetryable(501, S3Error{}));
}

TEST(ClientTest, UnreachableEndpointIsOneLine) {
  ClientOptions o;
  o.bucket = "b";
  o.endpoint = "http://127.0.0.1:1";
  o.max_retries = 1;
  o.min_backoff = std::chrono::milliseconds(1);
  Credentials c;
  c.access_key_id = "AKID";
  c.secret_access_key = "SECRETKEY";
  auto client = S3Client::Create(o, c);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  EXPECT_EQ(r.status().message().find("SECRETKEY"), std::string::npos);
}

}  // namespace
}  // namespace coffer::s3
