#include "common/ids.h"

#include <array>
#include <random>

namespace zflow {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";

std::mt19937_64& Generator() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return rng;
}

}  // namespace

std::string FormatUuid(std::uint64_t hi, std::uint64_t lo) {
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string RandomUuid() {
  std::uint64_t hi = Generator()();
  return FormatUuid(hi, Generator()());
}

std::string RandomHex(std::size_t digits) {
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    std::uint64_t draw = Generator()();
    for (int i = 0; i < 16 && out.size() < digits; ++i, draw >>= 4) out += kHex[draw & 15];
  }
  return out;
}

}  // namespace zflow
