// A tiny, tolerant XML reader for the few S3 response documents Coffer reads (ListBucketResult,
// Error, LocationConstraint). It builds a small element tree: names without namespace prefixes,
// text with the five predefined entities and numeric references decoded, attributes ignored.
// Declarations, comments, DOCTYPE and processing instructions are skipped; CDATA is text.
// Bounded: input size and nesting depth are capped, so hostile input cannot exhaust memory or
// the stack. Errors are Status values (kDataLoss "malformed XML: ...").
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer::s3 {

struct XmlElement {
  std::string name;  // local name ("Contents" for "s3:Contents")
  std::string text;  // concatenated character data directly inside this element
  std::vector<XmlElement> children;

  // The first direct child with this name, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  // The text of the first direct child with this name, or "" when there is none.
  std::string ChildText(std::string_view child_name) const;
};

inline constexpr size_t kMaxXmlSize = 16 * 1024 * 1024;
inline constexpr int kMaxXmlDepth = 32;

// Parses a whole document and returns its root element.
StatusOr<XmlElement> ParseXml(std::string_view doc);

}  // namespace coffer::s3
