// IPv4/IPv6 CIDR blocks for bound_cidrs settings: parsing with clear errors, and membership.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace coffer {

// The canonical form of a CIDR block ("10.0.0.0/8", "2001:db8::/32"). A bare address counts as
// a single-host block ("10.1.2.3" → "10.1.2.3/32"). InvalidArgument naming the value otherwise.
StatusOr<std::string> NormalizeCidr(std::string_view text);

// Whether `address` (an IPv4 or IPv6 address, without port) lies in `cidr` (a block that
// NormalizeCidr accepts). False for anything that does not parse.
bool CidrContains(std::string_view cidr, std::string_view address);

// Whether `address` lies in any of `cidrs`; true when `cidrs` is empty (no restriction).
bool AddressAllowed(const std::vector<std::string>& cidrs, std::string_view address);

}  // namespace coffer
