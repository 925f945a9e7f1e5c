#include "s3/xml.h"

#include <cstdint>

namespace coffer::s3 {

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c ? c->text : std::string();
}

namespace {

Status Malformed(std::string_view what) { return DataLoss("malformed XML: " + std::string(what)); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsNameChar(char c) {
  return !(IsSpace(c) || c == '>' || c == '/' || c == '<' || c == '=' || c == '"' || c == '\'');
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view doc) : s_(doc) {}

  StatusOr<XmlElement> Document() {
    RETURN_IF_ERROR(SkipMisc());
    if (pos_ >= s_.size() || s_[pos_] != '<') return Malformed("no root element");
    XmlElement root;
    RETURN_IF_ERROR(Element(&root, 0));
    RETURN_IF_ERROR(SkipMisc());
    if (pos_ != s_.size()) return Malformed("content after the root element");
    return root;
  }

 private:
  bool StartsWith(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }

  Status SkipUntil(std::string_view end) {
    size_t e = s_.find(end, pos_);
    if (e == std::string_view::npos) return Malformed("unterminated markup");
    pos_ = e + end.size();
    return OkStatus();
  }

  // Whitespace, declarations, comments, DOCTYPE and processing instructions outside elements.
  Status SkipMisc() {
    for (;;) {
      while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
      if (StartsWith("<?")) {
        RETURN_IF_ERROR(SkipUntil("?>"));
      } else if (StartsWith("<!--")) {
        RETURN_IF_ERROR(SkipUntil("-->"));
      } else if (StartsWith("<!")) {
        RETURN_IF_ERROR(SkipUntil(">"));
      } else {
        return OkStatus();
      }
    }
  }

  StatusOr<std::string> Name() {
    size_t b = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    if (pos_ == b) return Malformed("expected a name");
    std::string_view n = s_.substr(b, pos_ - b);
    if (size_t colon = n.rfind(':'); colon != std::string_view::npos) n = n.substr(colon + 1);
    return std::string(n);
  }

  Status Entity(std::string* out) {
    size_t semi = s_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Malformed("bad entity reference");
    std::string_view ent = s_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (ent == "lt") out->push_back('<');
    else if (ent == "gt") out->push_back('>');
    else if (ent == "amp") out->push_back('&');
    else if (ent == "quot") out->push_back('"');
    else if (ent == "apos") out->push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      uint32_t cp = 0;
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      std::string_view digits = ent.substr(hex ? 2 : 1);
      if (digits.empty()) return Malformed("bad character reference");
      for (char c : digits) {
        uint32_t d;
        if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
        else if (hex && c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
        else return Malformed("bad character reference");
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF) return Malformed("bad character reference");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return Malformed("bad character reference");
      AppendUtf8(cp, out);
    } else {
      return Malformed("unknown entity");
    }
    return OkStatus();
  }

  // At '<' of a start tag.
  Status Element(XmlElement* el, int depth) {
    if (depth >= kMaxXmlDepth) return Malformed("nested too deeply");
    ++pos_;  // '<'
    ASSIGN_OR_RETURN(el->name, Name());
    // Attributes are skipped (quoted values may contain '>').
    for (;;) {
      if (pos_ >= s_.size()) return Malformed("unterminated start tag");
      char c = s_[pos_];
      if (c == '"' || c == '\'') {
        size_t e = s_.find(c, pos_ + 1);
        if (e == std::string_view::npos) return Malformed("unterminated attribute value");
        pos_ = e + 1;
      } else if (c == '/') {
        if (pos_ + 1 >= s_.size() || s_[pos_ + 1] != '>') return Malformed("bad empty-element tag");
        pos_ += 2;
        return OkStatus();
      } else if (c == '>') {
        ++pos_;
        break;
      } else if (c == '<') {
        return Malformed("'<' inside a tag");
      } else {
        ++pos_;
      }
    }
    // Content.
    for (;;) {
      if (pos_ >= s_.size()) return Malformed("unterminated element <" + el->name + ">");
      char c = s_[pos_];
      if (c == '&') {
        RETURN_IF_ERROR(Entity(&el->text));
      } else if (c != '<') {
        el->text.push_back(c);
        ++pos_;
      } else if (StartsWith("</")) {
        pos_ += 2;
        ASSIGN_OR_RETURN(std::string end, Name());
        while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
        if (pos_ >= s_.size() || s_[pos_] != '>') return Malformed("bad end tag");
        ++pos_;
        if (end != el->name) return Malformed("end tag does not match <" + el->name + ">");
        return OkStatus();
      } else if (StartsWith("<![CDATA[")) {
        size_t e = s_.find("]]>", pos_ + 9);
        if (e == std::string_view::npos) return Malformed("unterminated CDATA");
        el->text.append(s_.substr(pos_ + 9, e - pos_ - 9));
        pos_ = e + 3;
      } else if (StartsWith("<!--")) {
        RETURN_IF_ERROR(SkipUntil("-->"));
      } else if (StartsWith("<?")) {
        RETURN_IF_ERROR(SkipUntil("?>"));
      } else {
        el->children.emplace_back();
        RETURN_IF_ERROR(Element(&el->children.back(), depth + 1));
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<XmlElement> ParseXml(std::string_view doc) {
  if (doc.size() > kMaxXmlSize) return Malformed("document too large");
  return Parser(doc).Document();
}

}  // namespace coffer::s3
