// "Did you mean ...?" for mistyped command names: the nearest names by edit distance.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coffer::cli {

// Levenshtein distance (insert, delete, substitute; each costs 1), byte-wise.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidates closest to `typed` whose distance is at most max(2, typed.size() / 3), nearest
// first (ties keep candidate order); empty when nothing is close.
std::vector<std::string> Suggest(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace coffer::cli
