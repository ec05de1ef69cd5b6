// EventBridge schedule expressions: cron(Minutes Hours Day-of-month Month Day-of-week Year) and
// rate(value unit), with the rules of EventBridge rules and Scheduler.
#include <array>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "zflow/pipeline.h"

namespace zflow {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

struct Field {
  const char* name;
  int min;
  int max;
  const char* wildcards;  // besides , - * /
  std::array<const char*, 12> names;  // JAN..DEC / SUN..SAT, mapped to min, min+1, ...
};

constexpr Field kFields[] = {
    {"Minutes", 0, 59, "", {}},
    {"Hours", 0, 23, "", {}},
    {"Day-of-month", 1, 31, "?LW", {}},
    {"Month", 1, 12, "",
     {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    {"Day-of-week", 1, 7, "?L#", {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
    {"Year", 1970, 2199, "", {}},
};

// One value of a field: a number in range or a name (MON, JAN).
bool FieldValue(const Field& f, std::string_view s, int* out) {
  if (ParseInt(s, out)) return *out >= f.min && *out <= f.max;
  for (std::size_t i = 0; i < f.names.size() && f.names[i] != nullptr; ++i) {
    std::string_view n = f.names[i];
    if (s.size() == n.size()) {
      bool eq = true;
      for (std::size_t k = 0; k < n.size(); ++k) {
        char c = s[k];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        eq = eq && c == n[k];
      }
      if (eq) {
        *out = f.min + static_cast<int>(i);
        return true;
      }
    }
  }
  return false;
}

Status FieldError(const Field& f, std::string_view value, std::string_view why) {
  std::string expected = fmt::format("{}-{}", f.min, f.max);
  if (f.names[0] != nullptr) {
    expected += fmt::format(" or {}-{}", f.names[0],
                            f.names[f.max - f.min] != nullptr ? f.names[f.max - f.min] : "");
  }
  return InvalidArgumentError(fmt::format(
      "cron field {} \"{}\": {}; expected values {}, with , - * /{}", f.name, value, why,
      expected, std::string_view(f.wildcards).empty() ? "" : fmt::format(" {}", f.wildcards)));
}

bool Allows(const Field& f, char c) { return std::string_view(f.wildcards).find(c) != std::string_view::npos; }

Status CheckField(const Field& f, std::string_view value) {
  if (value == "*") return Status::Ok();
  if (value == "?") {
    return Allows(f, '?') ? Status::Ok() : FieldError(f, value, "'?' is not allowed here");
  }
  for (std::string_view item : Split(value, ',')) {
    if (item.empty()) return FieldError(f, value, "empty list item");
    int v = 0;
    if (f.name == std::string_view("Day-of-month")) {
      if (item == "L") continue;
      if (item.size() > 1 && item.back() == 'W') {
        if (!FieldValue(f, item.substr(0, item.size() - 1), &v)) {
          return FieldError(f, value, "W follows a day of the month");
        }
        continue;
      }
    }
    if (f.name == std::string_view("Day-of-week")) {
      if (item == "L") continue;
      if (std::size_t hash = item.find('#'); hash != std::string_view::npos) {
        int n = 0;
        if (!FieldValue(f, item.substr(0, hash), &v) || !ParseInt(item.substr(hash + 1), &n) ||
            n < 1 || n > 5) {
          return FieldError(f, value, "'#' is day#n with n from 1 to 5");
        }
        if (value.find(',') != std::string_view::npos) {
          return FieldError(f, value, "'#' allows only one expression");
        }
        continue;
      }
      if (item.size() > 1 && item.back() == 'L') {
        if (!FieldValue(f, item.substr(0, item.size() - 1), &v)) {
          return FieldError(f, value, "L follows a day of the week");
        }
        continue;
      }
    }
    std::string_view range = item;
    if (std::size_t slash = item.find('/'); slash != std::string_view::npos) {
      int step = 0;
      if (!ParseInt(item.substr(slash + 1), &step) || step < 1) {
        return FieldError(f, value, "the increment after '/' is a positive number");
      }
      range = item.substr(0, slash);
      if (range == "*") continue;
    }
    if (std::size_t dash = range.find('-'); dash != std::string_view::npos) {
      int lo = 0;
      int hi = 0;
      if (!FieldValue(f, range.substr(0, dash), &lo) || !FieldValue(f, range.substr(dash + 1), &hi)) {
        return FieldError(f, value, "a range is two values with '-' between them");
      }
      continue;
    }
    if (!FieldValue(f, range, &v)) return FieldError(f, value, "out of range or not a value");
  }
  return Status::Ok();
}

Status ValidateCron(std::string_view body) {
  std::vector<std::string_view> fields;
  for (std::string_view part : Split(body, ' ')) {
    if (!part.empty()) fields.push_back(part);
  }
  if (fields.size() != 6) {
    return InvalidArgumentError(fmt::format(
        "cron({}) has {} fields; expected 6: Minutes Hours Day-of-month Month Day-of-week Year",
        body, fields.size()));
  }
  for (int i = 0; i < 6; ++i) ZFLOW_RETURN_IF_ERROR(CheckField(kFields[i], fields[i]));
  bool dom_any = fields[2] == "?";
  bool dow_any = fields[4] == "?";
  if (dom_any == dow_any) {
    return InvalidArgumentError(fmt::format(
        "cron({}): exactly one of Day-of-month (\"{}\") and Day-of-week (\"{}\") must be '?'",
        body, fields[2], fields[4]));
  }
  return Status::Ok();
}

Status ValidateRate(std::string_view body) {
  std::vector<std::string_view> parts;
  for (std::string_view part : Split(body, ' ')) {
    if (!part.empty()) parts.push_back(part);
  }
  int value = 0;
  if (parts.size() != 2 || !ParseInt(parts[0], &value) || value < 1) {
    return InvalidArgumentError(fmt::format(
        "rate({}): expected rate(value unit) with a positive whole value, e.g. rate(5 minutes)",
        body));
  }
  std::string_view unit = parts[1];
  bool singular = unit == "minute" || unit == "hour" || unit == "day";
  bool plural = unit == "minutes" || unit == "hours" || unit == "days";
  if (!singular && !plural) {
    return InvalidArgumentError(fmt::format(
        "rate({}): unit \"{}\" is not minute(s), hour(s) or day(s)", body, unit));
  }
  if (value == 1 && plural) {
    return InvalidArgumentError(fmt::format("rate({}): a value of 1 takes a singular unit: "
                                            "rate(1 {})",
                                            body, unit.substr(0, unit.size() - 1)));
  }
  if (value > 1 && singular) {
    return InvalidArgumentError(fmt::format("rate({}): a value above 1 takes a plural unit: "
                                            "rate({} {}s)",
                                            body, value, unit));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateScheduleExpression(std::string_view e) {
  auto body_of = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (e.starts_with(prefix) && e.ends_with(")")) {
      return e.substr(prefix.size(), e.size() - prefix.size() - 1);
    }
    return std::nullopt;
  };
  if (auto body = body_of("cron(")) return ValidateCron(*body);
  if (auto body = body_of("rate(")) return ValidateRate(*body);
  return InvalidArgumentError(fmt::format(
      "\"{}\" is not a schedule expression; expected cron(Minutes Hours Day-of-month Month "
      "Day-of-week Year) or rate(value unit)",
      e));
}

}  // namespace zflow
