#include "s3/xml.h"

#include <gtest/gtest.h>

#include "s3/client.h"

namespace coffer::s3 {
namespace {

TEST(XmlTest, ParsesListBucketResultWithPagination) {
  std::string doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
<Contents><Key>secrets/a&amp;b.json</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
<ETag>&quot;abc&quot;</ETag><Size>42</Size></Contents>
<Contents><Key>secrets/c.json</Key><Size>7</Size></Contents>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>)";
  auto page = ParseListObjectsV2(doc);
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "secrets/a&b.json");
  EXPECT_EQ(page->objects[0].etag, "abc");
  EXPECT_EQ(page->objects[0].size, 42u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "tok/+=");
}

TEST(XmlTest, EntitiesCdataCommentsAndPrefixes) {
  auto r = ParseXml("<!-- c --><s3:A><B>&#65;&#x42;<![CDATA[<x>]]></B><C/><!-- d --></s3:A>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "A");
  EXPECT_EQ(r->ChildText("B"), "AB<x>");
  EXPECT_NE(r->Child("C"), nullptr);
}

TEST(XmlTest, RejectsMalformed) {
  for (const char* bad : {"", "<a>", "<a></b>", "<a>&bogus;</a>", "<a>&#0;</a>", "<a b=\"x></a>", "<a></a><b/>",
                          "<a><![CDATA[x</a>", "<a>&#x110000;</a>"}) {
    EXPECT_FALSE(ParseXml(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_FALSE(ParseXml(deep).ok());
}

TEST(XmlTest, ErrorDocuments) {
  S3Error e = ParseS3Error(
      "<Error><Code>AuthorizationHeaderMalformed</Code><Message>m</Message><Region>eu-west-1</Region></Error>");
  EXPECT_EQ(e.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(e.region, "eu-west-1");
  EXPECT_EQ(ParseS3Error("not xml").code, "");
}

}  // namespace
}  // namespace coffer::s3
