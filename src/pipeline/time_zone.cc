#include "pipeline/time_zone.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

#include "common/file.h"

namespace zflow::pipeline {
namespace {

using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr std::int64_t kSecondsPerDay = 86400;
// Far larger than any TZif file (the biggest in tzdata are a few KB).
constexpr std::size_t kMaxTzifBytes = 1 << 20;

// Big-endian reads over the TZif bytes; any read past the end sets `failed`.
class TzifReader {
 public:
  explicit TzifReader(std::string_view data) : data_(data) {}

  bool failed() const { return failed_; }
  std::size_t pos() const { return pos_; }
  std::string_view Rest() const { return data_.substr(std::min(pos_, data_.size())); }

  std::string_view Bytes(std::size_t n) {
    if (failed_ || data_.size() - pos_ < n) {
      failed_ = true;
      return {};
    }
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint8_t U8() {
    std::string_view b = Bytes(1);
    return b.empty() ? 0 : static_cast<std::uint8_t>(b[0]);
  }
  std::uint64_t Unsigned(std::size_t n) {
    std::uint64_t v = 0;
    for (char c : Bytes(n)) v = (v << 8) | static_cast<std::uint8_t>(c);
    return v;
  }
  std::int32_t I32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(Unsigned(4))); }
  std::int64_t I64() { return static_cast<std::int64_t>(Unsigned(8)); }
  bool Skip(std::uint64_t n) {
    if (failed_ || data_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    pos_ += static_cast<std::size_t>(n);
    return true;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

struct TzifHeader {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

std::optional<TzifHeader> ReadHeader(TzifReader& r) {
  if (r.Bytes(4) != "TZif") return std::nullopt;
  TzifHeader h;
  h.version = static_cast<char>(r.U8());
  r.Skip(15);
  h.isutcnt = static_cast<std::uint32_t>(r.I32());
  h.isstdcnt = static_cast<std::uint32_t>(r.I32());
  h.leapcnt = static_cast<std::uint32_t>(r.I32());
  h.timecnt = static_cast<std::uint32_t>(r.I32());
  h.typecnt = static_cast<std::uint32_t>(r.I32());
  h.charcnt = static_cast<std::uint32_t>(r.I32());
  if (r.failed()) return std::nullopt;
  return h;
}

// The size of a data block with `time_size`-byte times (4 in version 1, 8 later).
std::uint64_t BlockSize(const TzifHeader& h, std::uint64_t time_size) {
  return std::uint64_t{h.timecnt} * time_size + h.timecnt + std::uint64_t{h.typecnt} * 6 +
         h.charcnt + std::uint64_t{h.leapcnt} * (time_size + 4) + h.isstdcnt + h.isutcnt;
}

// POSIX TZ string pieces. Each parser advances `s` past what it read.
bool ParseNumber(std::string_view& s, int max, int* out) {
  std::size_t n = 0;
  while (n < s.size() && n < 3 && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0) return false;
  std::from_chars(s.data(), s.data() + n, *out);
  s.remove_prefix(n);
  return *out <= max;
}

// [+-]hh[:mm[:ss]] as seconds; hours up to `max_hours`.
bool ParseHms(std::string_view& s, int max_hours, std::int32_t* out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!ParseNumber(s, max_hours, &h)) return false;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    if (!ParseNumber(s, 59, &m)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!ParseNumber(s, 59, &sec)) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return true;
}

bool ParseZoneAbbreviation(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    std::size_t close = s.find('>');
    if (close == std::string_view::npos || close == 1) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < s.size() && ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

bool ParseRuleDate(std::string_view& s, TimeZone::PosixRule::Date* out) {
  using Kind = TimeZone::PosixRule::Date::Kind;
  if (s.empty()) return false;
  if (s[0] == 'M') {
    s.remove_prefix(1);
    out->kind = Kind::kMonthWeekDay;
    if (!ParseNumber(s, 12, &out->month) || out->month < 1 || s.empty() || s[0] != '.') {
      return false;
    }
    s.remove_prefix(1);
    if (!ParseNumber(s, 5, &out->week) || out->week < 1 || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!ParseNumber(s, 6, &out->weekday)) return false;
  } else if (s[0] == 'J') {
    s.remove_prefix(1);
    out->kind = Kind::kJulian1;
    if (!ParseNumber(s, 365, &out->day) || out->day < 1) return false;
  } else {
    out->kind = Kind::kJulian0;
    if (!ParseNumber(s, 365, &out->day)) return false;
  }
  out->time = 7200;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    // RFC 8536 extends POSIX: rule times from -167 to 167 hours.
    if (!ParseHms(s, 167, &out->time)) return false;
  }
  return true;
}

// Local seconds since the epoch at which `date` (plus its time) falls in `year`.
std::int64_t LocalSecondsOf(const TimeZone::PosixRule::Date& date, int year) {
  using namespace std::chrono;
  using Kind = TimeZone::PosixRule::Date::Kind;
  const std::chrono::year y{year};
  sys_days day;
  switch (date.kind) {
    case Kind::kJulian1:
      day =
          sys_days(y / January / 1) + days(date.day - 1 + (y.is_leap() && date.day >= 60 ? 1 : 0));
      break;
    case Kind::kJulian0:
      day = sys_days(y / January / 1) + days(date.day);
      break;
    case Kind::kMonthWeekDay: {
      const month m{static_cast<unsigned>(date.month)};
      sys_days first = sys_days(y / m / 1);
      int first_weekday = static_cast<int>(weekday(first).c_encoding());
      int d = 1 + (date.weekday - first_weekday + 7) % 7 + 7 * (date.week - 1);
      int last = static_cast<int>(static_cast<unsigned>((y / m / std::chrono::last).day()));
      while (d > last) d -= 7;
      day = first + days(d - 1);
      break;
    }
  }
  return day.time_since_epoch().count() * kSecondsPerDay + date.time;
}

bool IsZoneNameCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '_' || c == '-' || c == '+';
}

// A name that stays inside the zoneinfo directory: no absolute path, no "." or ".." parts.
bool IsZoneName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  if (!std::all_of(name.begin(), name.end(), IsZoneNameCharacter)) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Status UnknownZone(std::string_view name, std::string_view dir) {
  return InvalidArgumentError(fmt::format(
      "unknown time zone \"{}\": not an IANA time zone name in {}; expected a name such as "
      "\"UTC\", \"America/New_York\", \"Europe/London\" or \"Asia/Kolkata\"",
      name, dir));
}

}  // namespace

std::optional<TimeZone::PosixRule> TimeZone::PosixRule::Parse(std::string_view tz) {
  PosixRule rule;
  std::string_view s = tz;
  std::int32_t std_west = 0;
  if (!ParseZoneAbbreviation(s) || !ParseHms(s, 24, &std_west)) return std::nullopt;
  rule.std_offset = -std_west;
  if (s.empty()) return rule;
  if (!ParseZoneAbbreviation(s)) return std::nullopt;
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    std::int32_t dst_west = 0;
    if (!ParseHms(s, 24, &dst_west)) return std::nullopt;
    rule.dst_offset = -dst_west;
  }
  // POSIX leaves the rules out of "EST5EDT" to the implementation; TZif footers always have them.
  if (s.empty() || s[0] != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!ParseRuleDate(s, &rule.dst_start) || s.empty() || s[0] != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!ParseRuleDate(s, &rule.dst_end) || !s.empty()) return std::nullopt;
  return rule;
}

std::int32_t TimeZone::PosixRule::OffsetAt(std::int64_t t) const {
  if (!has_dst) return std_offset;
  // The switches of the years around t, in UTC; the last one at or before t decides. Ties put
  // the end of DST first, so a rule whose DST never ends ("J1/0,J365/25") stays in DST.
  struct Switch {
    std::int64_t at;
    bool to_dst;
  };
  int year = static_cast<int>(
      std::chrono::year_month_day(
          std::chrono::floor<std::chrono::days>(sys_seconds(std::chrono::seconds(t + std_offset))))
          .year());
  std::array<Switch, 6> switches{};
  std::size_t n = 0;
  for (int y = year - 1; y <= year + 1; ++y) {
    switches[n++] = {LocalSecondsOf(dst_start, y) - std_offset, true};
    switches[n++] = {LocalSecondsOf(dst_end, y) - dst_offset, false};
  }
  std::sort(switches.begin(), switches.end(), [](const Switch& a, const Switch& b) {
    return a.at != b.at ? a.at < b.at : (!a.to_dst && b.to_dst);
  });
  std::int32_t offset = std_offset;
  for (const Switch& s : switches) {
    if (s.at > t) break;
    offset = s.to_dst ? dst_offset : std_offset;
  }
  return offset;
}

TimeZone TimeZone::Utc() {
  TimeZone zone;
  zone.name_ = "UTC";
  zone.offsets_ = {0};
  return zone;
}

Result<TimeZone> TimeZone::Load(std::string_view name, std::string_view zoneinfo_dir) {
  if (name == "UTC") return Utc();
  if (!IsZoneName(name)) return UnknownZone(name, zoneinfo_dir);
  std::string path = fmt::format("{}/{}", zoneinfo_dir, name);
  Result<FileContents> file = ReadFileCapped(path, kMaxTzifBytes);
  if (!file.ok()) {
    StatusCode code = file.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument) {
      return UnknownZone(name, zoneinfo_dir);
    }
    return Status(code, fmt::format("time zone \"{}\": {}", name, file.status().message()));
  }
  // zoneinfo also holds tables (zone.tab, tzdata.zi): only TZif files are zones.
  if (!file->data.starts_with("TZif")) return UnknownZone(name, zoneinfo_dir);
  Result<TimeZone> zone = FromTzif(name, file->data);
  if (!zone.ok()) {
    return Status(zone.status().code(), fmt::format("{} ({})", zone.status().message(), path));
  }
  return zone;
}

Result<TimeZone> TimeZone::FromTzif(std::string_view name, std::string_view data) {
  auto corrupt = [&](std::string_view why) {
    return Status(StatusCode::kDataLoss,
                  fmt::format("time zone \"{}\": invalid TZif data: {}", name, why));
  };
  TzifReader r(data);
  std::optional<TzifHeader> h = ReadHeader(r);
  if (!h) return corrupt("no TZif header");
  std::uint64_t time_size = 4;
  if (h->version != '\0') {
    // Version 2 and later repeat the data with 64-bit times after the version 1 block.
    if (!r.Skip(BlockSize(*h, 4))) return corrupt("truncated version 1 data block");
    h = ReadHeader(r);
    if (!h) return corrupt("no second TZif header");
    time_size = 8;
  }
  if (h->typecnt == 0 || h->charcnt == 0) return corrupt("no local time types");
  if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
      (h->isutcnt != 0 && h->isutcnt != h->typecnt)) {
    return corrupt("indicator counts differ from the type count");
  }
  if (BlockSize(*h, time_size) > r.Rest().size()) return corrupt("truncated data block");

  std::vector<std::int64_t> times(h->timecnt);
  for (std::int64_t& t : times) t = time_size == 8 ? r.I64() : r.I32();
  std::string_view type_of = r.Bytes(h->timecnt);  // the local time type of each transition
  std::vector<std::int32_t> type_offsets(h->typecnt);
  for (std::int32_t& offset : type_offsets) {
    offset = r.I32();
    r.Skip(2);  // isdst, designation index
    // RFC 8536: -2^31 is not a valid offset; real ones are within a day or so.
    if (offset < -25 * 3600 || offset > 26 * 3600) return corrupt("UTC offset out of range");
  }
  r.Skip(std::uint64_t{h->charcnt} + std::uint64_t{h->leapcnt} * (time_size + 4) + h->isstdcnt +
         h->isutcnt);

  TimeZone zone;
  zone.name_ = std::string(name);
  zone.initial_offset_ = type_offsets[0];
  for (std::size_t i = 0; i < times.size(); ++i) {
    auto type = static_cast<std::uint8_t>(type_of[i]);
    if (type >= h->typecnt) return corrupt("transition to an undefined local time type");
    if (i > 0 && times[i] <= times[i - 1]) return corrupt("transition times out of order");
    zone.transitions_.push_back({times[i], type_offsets[type]});
  }
  zone.offsets_ = type_offsets;
  if (time_size == 8) {
    // Footer: "\n" POSIX TZ string "\n"; an empty string means no rule.
    std::string_view rest = r.Rest();
    std::size_t end = rest.size() >= 2 ? rest.find('\n', 1) : std::string_view::npos;
    if (rest.empty() || rest[0] != '\n' || end == std::string_view::npos) {
      return corrupt("no footer");
    }
    std::string_view tz = rest.substr(1, end - 1);
    if (!tz.empty()) {
      zone.rule_ = PosixRule::Parse(tz);
      if (!zone.rule_) return corrupt(fmt::format("unsupported footer TZ string \"{}\"", tz));
      zone.offsets_.push_back(zone.rule_->std_offset);
      if (zone.rule_->has_dst) zone.offsets_.push_back(zone.rule_->dst_offset);
    }
  }
  if (r.failed()) return corrupt("truncated data block");
  std::sort(zone.offsets_.begin(), zone.offsets_.end());
  zone.offsets_.erase(std::unique(zone.offsets_.begin(), zone.offsets_.end()), zone.offsets_.end());
  return zone;
}

std::chrono::seconds TimeZone::OffsetAt(sys_seconds t) const {
  std::int64_t s = t.time_since_epoch().count();
  if (transitions_.empty()) {
    return std::chrono::seconds(rule_ ? rule_->OffsetAt(s) : initial_offset_);
  }
  if (s < transitions_.front().at) return std::chrono::seconds(initial_offset_);
  if (rule_ && s >= transitions_.back().at) return std::chrono::seconds(rule_->OffsetAt(s));
  auto after = std::upper_bound(transitions_.begin(), transitions_.end(), s,
                                [](std::int64_t v, const Transition& tr) { return v < tr.at; });
  return std::chrono::seconds(std::prev(after)->offset);
}

std::optional<sys_seconds> TimeZone::FirstInstantAt(std::chrono::local_seconds local) const {
  // Every instant with this local time is local - o for an offset o the zone uses, at which
  // the zone's offset is o; the zone uses few offsets, so try them all.
  std::optional<sys_seconds> first;
  for (std::int32_t o : offsets_) {
    sys_seconds t(local.time_since_epoch() - std::chrono::seconds(o));
    if (OffsetAt(t).count() == o && (!first || t < *first)) first = t;
  }
  return first;
}

}  // namespace zflow::pipeline
