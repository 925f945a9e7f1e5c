// SecretBytes: the container for every piece of key material (unseal key and shares, root key,
// keyring, tokens in flight). Its allocator wipes memory before freeing it, so a secret never
// lingers in a freed heap block. Compare secrets only with ConstantTimeEquals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <string>
#include <vector>

namespace coffer {

// Overwrites n bytes at p in a way the compiler cannot elide (OPENSSL_cleanse).
void SecureWipe(void* p, size_t n);

// True when a and b have equal length and contents; time depends only on the lengths.
bool ConstantTimeEquals(const void* a, size_t a_len, const void* b, size_t b_len);
inline bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return ConstantTimeEquals(a.data(), a.size(), b.data(), b.size());
}

template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept {
    SecureWipe(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
};

using SecretBytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;
using SecretString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

inline SecretBytes ToSecretBytes(std::string_view s) { return SecretBytes(s.begin(), s.end()); }
inline std::string_view AsStringView(const SecretBytes& b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace coffer
