// Identifiers: UUIDs (version 4) and random hex strings.
#ifndef ZFLOW_COMMON_IDS_H_
#define ZFLOW_COMMON_IDS_H_

#include <cstdint>
#include <string>

namespace zflow {

// The UUID whose 128 bits are hi:lo, with the version (4) and variant (RFC 4122) bits set.
std::string FormatUuid(std::uint64_t hi, std::uint64_t lo);
// A fresh random UUID, unpredictable and different in every process (execution names, request
// ids).
std::string RandomUuid();
// `digits` random lowercase hex digits (task tokens).
std::string RandomHex(std::size_t digits);

}  // namespace zflow

#endif  // ZFLOW_COMMON_IDS_H_
