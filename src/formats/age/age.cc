#include "formats/age/age.h"

#include <cstring>
#include <string>

#include "crypto/chacha20poly1305.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "formats/age/armor.h"

namespace coffer::age {
namespace {

using crypto::ChaCha20Poly1305;

constexpr std::string_view kVersionLine = "age-encryption.org/v1\n";
constexpr std::string_view kIntro = "age-encryption.org/";
constexpr size_t kTagSize = ChaCha20Poly1305::kTagSize;
constexpr size_t kEncChunkSize = kChunkSize + kTagSize;
constexpr size_t kNonceSize = 16;
// Bounds on hostile headers: a line (stanza arguments may be long for future types) and the
// whole header.
constexpr size_t kMaxHeaderLine = 64 * 1024;
constexpr size_t kMaxHeaderSize = 16 * 1024 * 1024;

Status HeaderError(std::string what) { return DataLoss("failed to parse header: " + what); }

// The next header line; an over-long line is a header error (I/O and armor errors pass through).
StatusOr<std::string> HeaderLine(BufferedReader& in) {
  auto line = in.ReadLine(kMaxHeaderLine);
  if (!line.ok() && line.status().message() == "line too long") return HeaderError("line too long");
  return line;
}

bool IsB64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

std::string EncodeStanza(const Stanza& s) {
  std::string out = "->";
  for (const auto& a : s.args) out += " " + a;
  out += "\n";
  std::string b64 = B64Encode(s.body);
  for (size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += "\n";
  }
  // The body always ends with a line shorter than 64 columns (possibly empty).
  if (b64.size() % 64 == 0) out += "\n";
  return out;
}

SecretBytes HeaderMacKey(const SecretBytes& file_key) {
  return crypto::HkdfSha256(AsStringView(file_key), "", "header", 32);
}

// Checks the shape of the stanza types we implement, so a malformed one is a header error
// whatever identities are used.
Status ValidateKnownStanza(const Stanza& s) {
  const std::string& type = s.args[0];
  if (type == "X25519") {
    if (s.args.size() != 2) return HeaderError("invalid X25519 stanza: want one argument");
    auto share = B64DecodeStrict(s.args[1]);
    if (!share.ok() || share->size() != 32) return HeaderError("invalid X25519 stanza: malformed ephemeral share");
    if (s.body.size() != kFileKeySize + kTagSize) return HeaderError("invalid X25519 stanza: wrong body length");
  } else if (type == "scrypt") {
    if (s.args.size() != 3) return HeaderError("invalid scrypt stanza: want two arguments");
    auto salt = B64DecodeStrict(s.args[1]);
    if (!salt.ok() || salt->size() != 16) return HeaderError("invalid scrypt stanza: malformed salt");
    const std::string& wf = s.args[2];
    bool decimal = !wf.empty() && wf.size() <= 2 && wf[0] >= '1' && wf[0] <= '9';
    for (char c : wf) decimal = decimal && c >= '0' && c <= '9';
    if (!decimal) return HeaderError("invalid scrypt stanza: malformed work factor");
    if (s.body.size() != kFileKeySize + kTagSize) return HeaderError("invalid scrypt stanza: wrong body length");
  }
  return OkStatus();
}

void ChunkNonce(uint64_t counter, bool last, uint8_t nonce[12]) {
  std::memset(nonce, 0, 12);
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<uint8_t>(counter >> (8 * i));
  nonce[11] = last ? 1 : 0;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

// ---- encryption ----

Status Encrypt(const std::vector<const Recipient*>& recipients, Reader& in, Writer& raw_out, bool armor) {
  if (recipients.empty()) return InvalidArgument("no recipients specified");
  for (const Recipient* r : recipients) {
    if (r->IsPassphrase() && recipients.size() != 1) {
      return InvalidArgument("a passphrase recipient must be the only recipient");
    }
  }
  SecretBytes file_key = crypto::RandomSecret(kFileKeySize);
  std::string header(kVersionLine);
  for (const Recipient* r : recipients) {
    ASSIGN_OR_RETURN(Stanza s, r->Wrap(file_key));
    header += EncodeStanza(s);
  }
  header += "---";
  std::string mac = crypto::HmacSha256(AsStringView(HeaderMacKey(file_key)), header);
  header += " " + B64Encode(mac) + "\n";

  std::unique_ptr<ArmorWriter> armor_writer;
  if (armor) armor_writer = std::make_unique<ArmorWriter>(raw_out);
  Writer& out = armor ? static_cast<Writer&>(*armor_writer) : raw_out;

  std::string nonce = crypto::RandomBytes(kNonceSize);
  SecretBytes payload_key = crypto::HkdfSha256(AsStringView(file_key), nonce, "payload", 32);
  ASSIGN_OR_RETURN(auto aead, ChaCha20Poly1305::New(payload_key));
  header += nonce;
  RETURN_IF_ERROR(out.Write(header));

  // One byte of look-ahead tells whether a full chunk is the last one.
  std::vector<uint8_t> buf(kChunkSize + 1);
  std::vector<uint8_t> sealed(kEncChunkSize);
  ASSIGN_OR_RETURN(size_t n, ReadFull(in, buf.data(), buf.size()));
  uint8_t chunk_nonce[12];
  for (uint64_t counter = 0;; ++counter) {
    bool last = n <= kChunkSize;
    size_t len = last ? n : kChunkSize;
    ChunkNonce(counter, last, chunk_nonce);
    aead->Seal(chunk_nonce, buf.data(), len, sealed.data());
    RETURN_IF_ERROR(out.Write(sealed.data(), len + kTagSize));
    if (last) break;
    buf[0] = buf[kChunkSize];
    ASSIGN_OR_RETURN(size_t more, ReadFull(in, buf.data() + 1, kChunkSize));
    n = 1 + more;
  }
  SecureWipe(buf.data(), buf.size());
  if (armor_writer) RETURN_IF_ERROR(armor_writer->Close());
  return out.Flush();
}

// ---- decryption ----

struct Decryptor::Impl {
  explicit Impl(Reader& in) : raw(in) {}
  BufferedReader raw;
  std::unique_ptr<ArmorReader> armor;
  std::unique_ptr<BufferedReader> armored_buf;
  BufferedReader* in = nullptr;  // where the header and payload are read from
  std::vector<Stanza> stanzas;
  std::string header_for_mac;  // the header up to and including "---"
  std::string mac;
  bool used = false;

  Status ParseHeader();
};

Status Decryptor::Impl::ParseHeader() {
  ASSIGN_OR_RETURN(std::string line, HeaderLine(*in));
  if (line != kVersionLine) {
    if (line.compare(0, kIntro.size(), kIntro) == 0 && line.back() == '\n') {  // non-empty here
      return HeaderError("unsupported version (only age-encryption.org/v1 is supported)");
    }
    return HeaderError("not an age file (missing age-encryption.org/v1 line)");
  }
  header_for_mac = line;
  for (;;) {
    ASSIGN_OR_RETURN(line, HeaderLine(*in));
    if (line.empty() || line.back() != '\n') return HeaderError("unexpected end of header");
    if (header_for_mac.size() + line.size() > kMaxHeaderSize) return HeaderError("header too large");
    if (line.compare(0, 3, "---") == 0) {
      if (stanzas.empty()) return HeaderError("no recipient stanzas");
      if (line.size() != 3 + 1 + 43 + 1 || line[3] != ' ') return HeaderError("malformed MAC line");
      auto mac_bytes = B64DecodeStrict(std::string_view(line).substr(4, 43));
      if (!mac_bytes.ok() || mac_bytes->size() != 32) return HeaderError("malformed MAC");
      mac = std::move(*mac_bytes);
      header_for_mac += "---";
      return OkStatus();
    }
    if (line.compare(0, 3, "-> ") != 0) return HeaderError("malformed line (want a stanza or the MAC)");
    header_for_mac += line;
    Stanza s;
    std::string_view rest = std::string_view(line).substr(3, line.size() - 4);
    for (;;) {
      size_t sp = rest.find(' ');
      std::string_view arg = rest.substr(0, sp);
      if (arg.empty()) return HeaderError("empty stanza argument");
      for (char c : arg) {
        if (c < 0x21 || c > 0x7e) return HeaderError("invalid character in stanza argument");
      }
      s.args.emplace_back(arg);
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
    std::string body_b64;
    for (;;) {
      ASSIGN_OR_RETURN(line, HeaderLine(*in));
      if (line.empty() || line.back() != '\n') return HeaderError("unexpected end of header");
      if (header_for_mac.size() + line.size() > kMaxHeaderSize) return HeaderError("header too large");
      header_for_mac += line;
      size_t len = line.size() - 1;
      if (len > 64) return HeaderError("stanza body line longer than 64 columns");
      for (size_t i = 0; i < len; ++i) {
        if (!IsB64Char(line[i])) return HeaderError("invalid character in stanza body");
      }
      body_b64.append(line, 0, len);
      if (len < 64) break;
    }
    auto body = B64DecodeStrict(body_b64);
    if (!body.ok()) return HeaderError("malformed stanza body");
    s.body = std::move(*body);
    RETURN_IF_ERROR(ValidateKnownStanza(s));
    stanzas.push_back(std::move(s));
  }
}

Decryptor::Decryptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Decryptor::~Decryptor() = default;

StatusOr<std::unique_ptr<Decryptor>> Decryptor::Open(Reader& in) {
  auto impl = std::make_unique<Impl>(in);
  // Armor is recognised by its BEGIN line, possibly after whitespace.
  bool armored = false;
  for (size_t want = 64;; want *= 2) {
    ASSIGN_OR_RETURN(std::string_view p, impl->raw.Peek(want));
    size_t k = 0;
    while (k < p.size() && IsSpace(p[k])) ++k;
    if (k < p.size() || p.size() < want || want >= 32 * 1024) {
      // Any line of dashes is taken for armor, so a damaged BEGIN line is an armor error.
      armored = p.substr(k).substr(0, 5) == "-----";
      break;
    }
  }
  if (armored) {
    impl->armor = std::make_unique<ArmorReader>(impl->raw);
    impl->armored_buf = std::make_unique<BufferedReader>(*impl->armor);
    impl->in = impl->armored_buf.get();
  } else {
    impl->in = &impl->raw;
  }
  RETURN_IF_ERROR(impl->ParseHeader());
  bool has_scrypt = false;
  for (const Stanza& s : impl->stanzas) has_scrypt = has_scrypt || s.args[0] == "scrypt";
  if (has_scrypt && impl->stanzas.size() != 1) {
    return HeaderError("an scrypt recipient must be the only one in the header");
  }
  return std::unique_ptr<Decryptor>(new Decryptor(std::move(impl)));
}

const std::vector<Stanza>& Decryptor::stanzas() const { return impl_->stanzas; }
bool Decryptor::armored() const { return impl_->armor != nullptr; }
bool Decryptor::passphrase_encrypted() const {
  return impl_->stanzas.size() == 1 && impl_->stanzas[0].args[0] == "scrypt";
}

Status Decryptor::Decrypt(const std::vector<const Identity*>& identities, Writer& out) {
  if (impl_->used) return InternalError("Decryptor::Decrypt called twice");
  impl_->used = true;
  std::optional<SecretBytes> file_key;
  for (const Identity* id : identities) {
    ASSIGN_OR_RETURN(file_key, id->Unwrap(impl_->stanzas));
    if (file_key) break;
  }
  if (!file_key) return PermissionDenied("no identity matched any of the recipients");
  if (file_key->size() != kFileKeySize) return DataLoss("invalid file key length");
  std::string mac = crypto::HmacSha256(AsStringView(HeaderMacKey(*file_key)), impl_->header_for_mac);
  if (!ConstantTimeEquals(mac, impl_->mac)) return DataLoss("header MAC mismatch");

  BufferedReader& in = *impl_->in;
  uint8_t nonce[kNonceSize];
  ASSIGN_OR_RETURN(size_t got, ReadFull(in, nonce, kNonceSize));
  if (got != kNonceSize) return DataLoss("failed to read payload nonce: file is truncated");
  SecretBytes payload_key = crypto::HkdfSha256(
      AsStringView(*file_key), std::string_view(reinterpret_cast<char*>(nonce), kNonceSize), "payload", 32);
  ASSIGN_OR_RETURN(auto aead, ChaCha20Poly1305::New(payload_key));

  std::vector<uint8_t> buf(kEncChunkSize + 1);
  std::vector<uint8_t> plain(kChunkSize);
  ASSIGN_OR_RETURN(size_t n, ReadFull(in, buf.data(), buf.size()));
  uint8_t chunk_nonce[12];
  for (uint64_t counter = 0;; ++counter) {
    bool last = n <= kEncChunkSize;
    if (last) {
      if (n < kTagSize) {
        return DataLoss(counter == 0 && n == 0 ? "payload has no chunks: file is truncated"
                                               : "payload chunk is truncated");
      }
      if (n == kTagSize && counter > 0) {
        return DataLoss("last payload chunk is empty (not allowed after the first chunk)");
      }
      ChunkNonce(counter, true, chunk_nonce);
      if (!aead->Open(chunk_nonce, buf.data(), n, plain.data())) {
        ChunkNonce(counter, false, chunk_nonce);
        if (n == kEncChunkSize && aead->Open(chunk_nonce, buf.data(), n, plain.data())) {
          return DataLoss("payload is truncated (the last chunk is missing)");
        }
        return DataLoss("failed to decrypt and authenticate payload chunk");
      }
      RETURN_IF_ERROR(out.Write(plain.data(), n - kTagSize));
      break;
    }
    ChunkNonce(counter, false, chunk_nonce);
    if (!aead->Open(chunk_nonce, buf.data(), kEncChunkSize, plain.data())) {
      ChunkNonce(counter, true, chunk_nonce);
      if (aead->Open(chunk_nonce, buf.data(), kEncChunkSize, plain.data())) {
        return DataLoss("trailing data after end of encrypted file");
      }
      return DataLoss("failed to decrypt and authenticate payload chunk");
    }
    RETURN_IF_ERROR(out.Write(plain.data(), kChunkSize));
    buf[0] = buf[kEncChunkSize];
    ASSIGN_OR_RETURN(size_t more, ReadFull(in, buf.data() + 1, kEncChunkSize));
    n = 1 + more;
  }
  SecureWipe(plain.data(), plain.size());
  return out.Flush();
}

Status Decrypt(const std::vector<const Identity*>& identities, Reader& in, Writer& out) {
  ASSIGN_OR_RETURN(auto d, Decryptor::Open(in));
  return d->Decrypt(identities, out);
}

}  // namespace coffer::age
