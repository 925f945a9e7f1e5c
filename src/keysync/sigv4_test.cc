// The SigV4 signer against AWS's published signing test suite (aws-sig-v4-test-suite, as kept in
// awslabs/aws-c-auth tests/aws-signing-test-suite/v4/<case>/): header-signed-request.txt gives
// the Authorization header; the canonical-request and string-to-sign files check the steps.
#include "keysync/sigv4.h"

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace coffer::keysync::sigv4 {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kScope[] = "20150830/us-east-1/service/aws4_request";
constexpr char kStsToken[] =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwt"
    "hAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNV"
    "XAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA"
    "==";
constexpr char kUnreserved[] = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::chrono::system_clock::time_point SuiteTime() {
  return std::chrono::system_clock::from_time_t(1440938160);  // 2015-08-30T12:36:00Z
}

Signer SuiteSigner(std::string token = "") {
  Credentials c{"AKIDEXAMPLE", SecretString(kSecret), SecretString(token.begin(), token.end())};
  return Signer(std::move(c), "us-east-1", "service", SuiteTime);
}

std::string HeaderOf(const Request& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

std::string Authz(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + std::string(kScope) +
         ", SignedHeaders=" + std::string(signed_headers) + ", Signature=" + std::string(signature);
}

struct HeaderCase {
  const char* name;
  Request request;
  std::string body;
  std::string token;
  std::string signed_headers;
  std::string signature;
};

class HeaderSigning : public ::testing::TestWithParam<HeaderCase> {};

TEST_P(HeaderSigning, MatchesTheSuiteAuthorizationHeader) {
  const HeaderCase& c = GetParam();
  Request r = c.request;
  SuiteSigner(c.token).Sign(r, c.body);
  EXPECT_EQ(HeaderOf(r, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(HeaderOf(r, "Authorization"), Authz(c.signed_headers, c.signature));
  if (!c.token.empty()) {
    EXPECT_EQ(HeaderOf(r, "X-Amz-Security-Token"), c.token);
  }
}

using H = std::vector<std::pair<std::string, std::string>>;
const H kHost = {{"Host", "example.amazonaws.com"}};
H WithHost(H extra) {
  H h = kHost;
  h.insert(h.end(), extra.begin(), extra.end());
  return h;
}

INSTANTIATE_TEST_SUITE_P(
    Suite, HeaderSigning,
    ::testing::Values(
        HeaderCase{"get_vanilla",
                   {"GET", "/", "", kHost},
                   "",
                   "",
                   "host;x-amz-date",
                   "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        HeaderCase{"get_vanilla_query_order_key_case",
                   {"GET", "/", "Param2=value2&Param1=value1", kHost},
                   "",
                   "",
                   "host;x-amz-date",
                   "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
        HeaderCase{"get_vanilla_query_unreserved",
                   {"GET", "/", std::string(kUnreserved) + "=" + kUnreserved, kHost},
                   "",
                   "",
                   "host;x-amz-date",
                   "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
        HeaderCase{"get_utf8",
                   {"GET", "/\xE1\x88\xB4", "", kHost},
                   "",
                   "",
                   "host;x-amz-date",
                   "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
        HeaderCase{"get_header_value_trim",
                   {"GET", "/", "", WithHost({{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}})},
                   "",
                   "",
                   "host;my-header1;my-header2;x-amz-date",
                   "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
        HeaderCase{
            "get_header_key_duplicate",
            {"GET", "/", "", WithHost({{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}})},
            "",
            "",
            "host;my-header1;x-amz-date",
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
        // The suite's parser turns the folded lines "value1\n  value2\n     value3" into three values.
        HeaderCase{
            "get_header_value_multiline",
            {"GET", "/", "", WithHost({{"My-Header1", "value1"}, {"My-Header1", "value2"}, {"My-Header1", "value3"}})},
            "",
            "",
            "host;my-header1;x-amz-date",
            "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"},
        HeaderCase{"post_vanilla",
                   {"POST", "/", "", kHost},
                   "",
                   "",
                   "host;x-amz-date",
                   "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        // post-header-key-case: the caller's X-AMZ-DATE is replaced; the signature is post-vanilla's.
        HeaderCase{"post_header_key_case",
                   {"POST", "/", "", WithHost({{"X-AMZ-DATE", "20150830T123600Z"}})},
                   "",
                   "",
                   "host;x-amz-date",
                   "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        HeaderCase{"post_x_www_form_urlencoded",
                   {"POST",
                    "/",
                    "",
                    {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Host", "example.amazonaws.com"},
                     {"Content-Length", "13"},
                     {"x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}}},
                   "Param1=value1",
                   "",
                   "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
                   "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"},
        HeaderCase{"get_vanilla_with_session_token",
                   {"GET", "/", "", kHost},
                   "",
                   "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
                   "host;x-amz-date;x-amz-security-token",
                   "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
        HeaderCase{"post_sts_header_before",
                   {"POST", "/", "", kHost},
                   "",
                   kStsToken,
                   "host;x-amz-date;x-amz-security-token",
                   "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"}),
    [](const ::testing::TestParamInfo<HeaderCase>& info) { return std::string(info.param.name); });

// The suite's canonical-request / string-to-sign pairs. The query-signing cases carry the
// X-Amz-* parameters in the query and sign only the headers listed; the canonical request is
// built by the same code as for header signing.
struct StepCase {
  const char* name;
  Request request;
  std::string payload_hash;
  std::string canonical_request;
  std::string string_to_sign_hash;
};

class Steps : public ::testing::TestWithParam<StepCase> {};

TEST_P(Steps, CanonicalRequestAndStringToSign) {
  const StepCase& c = GetParam();
  const std::string creq = CanonicalRequest(c.request, c.payload_hash);
  EXPECT_EQ(creq, c.canonical_request) << "canonical request";
  EXPECT_EQ(StringToSign("20150830T123600Z", kScope, c.canonical_request),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n" + std::string(kScope) + "\n" + c.string_to_sign_hash)
      << "string to sign";
}

const std::string kQ =
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request"
    "&X-Amz-Date=20150830T123600Z";

INSTANTIATE_TEST_SUITE_P(
    Suite, Steps,
    ::testing::Values(
        StepCase{"get_vanilla",
                 {"GET", "/", kQ + "&X-Amz-SignedHeaders=host", kHost},
                 kEmptyHash,
                 "GET\n/\n" + kQ + "&X-Amz-SignedHeaders=host\nhost:example.amazonaws.com\n\nhost\n" + kEmptyHash,
                 "50e4af3247eb1fc9666ecb6ddd6837244e375e11e3ac919f08e01ee0a03c1d56"},
        StepCase{"get_vanilla_query_order_key_case",
                 {"GET", "/", "Param2=value2&Param1=value1&" + kQ + "&X-Amz-SignedHeaders=host", kHost},
                 kEmptyHash,
                 "GET\n/\nParam1=value1&Param2=value2&" + kQ +
                     "&X-Amz-SignedHeaders=host\nhost:example.amazonaws.com\n\nhost\n" + kEmptyHash,
                 "eb1512f5ed1470925b7b1072c2108953680032d6bc3ccbef8eb7c6fdf1639827"},
        StepCase{
            "get_vanilla_query_unreserved",
            {"GET", "/", std::string(kUnreserved) + "=" + kUnreserved + "&" + kQ + "&X-Amz-SignedHeaders=host", kHost},
            kEmptyHash,
            "GET\n/\n" + std::string(kUnreserved) + "=" + kUnreserved + "&" + kQ +
                "&X-Amz-SignedHeaders=host\nhost:example.amazonaws.com\n\nhost\n" + kEmptyHash,
            "8f98081ae4d79cd54ca4a1d36e2356f7cb99fdf91dfe307d8f72faf0b9554928"},
        StepCase{
            "get_utf8",
            {"GET", "/\xE1\x88\xB4", kQ + "&X-Amz-SignedHeaders=host", kHost},
            kEmptyHash,
            "GET\n/%E1%88%B4\n" + kQ + "&X-Amz-SignedHeaders=host\nhost:example.amazonaws.com\n\nhost\n" + kEmptyHash,
            "4148d48eedde44fc6b52c92dcab505640ab9350b6ac42891703d9e3575b770ab"},
        StepCase{"get_header_value_trim",
                 {"GET", "/", kQ + "&X-Amz-SignedHeaders=host%3Bmy-header1%3Bmy-header2",
                  WithHost({{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}})},
                 kEmptyHash,
                 "GET\n/\n" + kQ +
                     "&X-Amz-SignedHeaders=host%3Bmy-header1%3Bmy-header2\nhost:example.amazonaws.com\n"
                     "my-header1:value1\nmy-header2:\"a b c\"\n\nhost;my-header1;my-header2\n" +
                     kEmptyHash,
                 "79b6cafb02b93e8b4cfc53cbf6dcf562477c321fe4af691f077f9213ad23876e"},
        StepCase{"get_header_key_duplicate",
                 {"GET", "/", kQ + "&X-Amz-SignedHeaders=host%3Bmy-header1",
                  WithHost({{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}})},
                 kEmptyHash,
                 "GET\n/\n" + kQ +
                     "&X-Amz-SignedHeaders=host%3Bmy-header1\nhost:example.amazonaws.com\n"
                     "my-header1:value2,value2,value1\n\nhost;my-header1\n" +
                     kEmptyHash,
                 "f886b1c161d47c16ca226b43daafb78d40e6d6a3c10a8fd89695498e2724ef70"},
        StepCase{
            "get_vanilla_with_session_token",
            {"GET", "/",
             kQ + "&X-Amz-Expires=3600&X-Amz-Security-Token=6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b7"
                  "3ebf194267&X-Amz-SignedHeaders=host%3Bx-amz-security-token",
             WithHost({{"X-Amz-Security-Token", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"}})},
            kEmptyHash,
            "GET\n/\n" + kQ +
                "&X-Amz-Expires=3600&X-Amz-Security-Token=6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73eb"
                "f194267&X-Amz-SignedHeaders=host%3Bx-amz-security-token\nhost:example.amazonaws.com\n"
                "x-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\n"
                "host;x-amz-security-token\n" +
                kEmptyHash,
            "3ccf911b8d0ca9c791608b8f1550af1402a28ccc3a68f0d2023d6d7e334f2e72"},
        // Header signing (header-canonical-request.txt / header-string-to-sign.txt of this case).
        StepCase{"post_x_www_form_urlencoded_header",
                 {"POST",
                  "/",
                  "",
                  {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Host", "example.amazonaws.com"},
                   {"Content-Length", "13"},
                   {"X-Amz-Date", "20150830T123600Z"}}},
                 kEmptyHash,
                 "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\n"
                 "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                 "content-length;content-type;host;x-amz-date\n" +
                     std::string(kEmptyHash),
                 "0eccf3fbe5a3c5d3df1d87c98cdf5dbde190d26aabdd91c9407db930a0c00896"}),
    [](const ::testing::TestParamInfo<StepCase>& info) { return std::string(info.param.name); });

// AWS's documented signing-key derivation example (secret of the suite, 20120215, us-east-1, iam).
TEST(SigningKey, MatchesTheDocumentedDerivation) {
  SecretBytes key = SigningKey(kSecret, "20120215", "us-east-1", "iam");
  EXPECT_EQ(HexEncode(AsStringView(key)), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(CanonicalHeaders, LowerSortsTrimsFoldsAndJoins) {
  auto [block, list] = CanonicalHeaders({{"X-B", "  two\n   lines "}, {"host", "h"}, {"x-b", "again"}, {"A", ""}});
  EXPECT_EQ(block, "a:\nhost:h\nx-b:two lines,again\n");
  EXPECT_EQ(list, "a;host;x-b");
}

TEST(CanonicalQuery, EncodesAndSortsByNameThenValue) {
  Request r{"GET", "/a b/c", "b=2&a=%7e+x&a=1&empty&sp=a%20b", kHost};
  std::string creq = CanonicalRequest(r, kEmptyHash);
  EXPECT_EQ(creq.substr(0, creq.find("\nhost:")), "GET\n/a%20b/c\na=1&a=~%2Bx&b=2&empty=&sp=a%20b");
}

TEST(Signer, ReplacesStaleSignerHeadersAndSignsTheBody) {
  Request r{"POST", "/", "", WithHost({{"authorization", "old"}, {"x-amz-security-token", "old"}})};
  SuiteSigner().Sign(r, "");
  ASSERT_EQ(r.headers.size(), 3u);  // Host, X-Amz-Date, Authorization: the stale ones are gone
  EXPECT_EQ(HeaderOf(r, "Authorization"),
            Authz("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
  Request with_body{"POST", "/", "", kHost};
  SuiteSigner().Sign(with_body, "{}");
  EXPECT_NE(HeaderOf(with_body, "Authorization"), HeaderOf(r, "Authorization"));
}

TEST(AmzDate, FormatsUtc) { EXPECT_EQ(AmzDate(SuiteTime()), "20150830T123600Z"); }

}  // namespace
}  // namespace coffer::keysync::sigv4
