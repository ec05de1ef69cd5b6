// JSONata compile and evaluation times on workloads shaped like JSONata-mode state machines;
// bench/jsonata_vs_reference.mjs runs the same workloads on the reference implementation
// (jsonata-js) and prints both side by side.
//
//   build/bench/jsonata_bench [OPTIONS] [WORKLOAD...]   # every workload when none is named
//     --samples N         timed samples per measurement (default 15)
//     --sample-ms MS      length one sample aims at; repetitions per sample are calibrated
//                         (default 5)
//     --warmup-ms MS      untimed running before each measurement (default 200)
//   build/bench/jsonata_bench --describe         # the workloads, one JSON line each
//   build/bench/jsonata_bench --write-inputs DIR # their input documents, as DIR/NAME.json
//   build/bench/jsonata_bench --result [WORKLOAD...]  # each result, as the digest sees it
//
// One JSON line per workload:
//   {"workload":"filter","compiles":N,"compile_us":{"best":B,"median":M},"evaluations":N,
//    "evaluate_us":{"best":B,"median":M},"result":{"bytes":L,"fnv1a":"89abcdef"}}
// Times are per operation, best and median over the samples. "result" digests the canonical
// text of the result (object members sorted, numbers and strings as JavaScript's
// JSON.stringify writes them), which the script computes the same way for the reference.
//
// This program owns the workloads and their inputs (the script reads them through --describe
// and --write-inputs), so the two sides cannot drift apart. Not a Google Benchmark: its output
// must line up with the Node side's, measured the same way.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zflow/json.h"
#include "zflow/jsonata.h"

namespace {

namespace fs = std::filesystem;
namespace jsonata = zflow::jsonata;
using zflow::json::value;
using Clock = std::chrono::steady_clock;

// ---- Input documents --------------------------------------------------------------------------

// Numbers as JavaScript's Number.prototype.toString writes them (the shortest digits that read
// back to the same double, ECMA-262 Number::toString), so this program's digests and input files
// match what JSON.stringify writes on the Node side.
void AppendJsNumber(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";  // JSON.stringify's spelling of NaN and the infinities
    return;
  }
  if (d == 0) {
    out += '0';  // -0 too
    return;
  }
  char buffer[64];
  const std::to_chars_result written =
      std::to_chars(buffer, buffer + sizeof(buffer), d, std::chars_format::scientific);
  std::string_view sci(buffer, static_cast<std::size_t>(written.ptr - buffer));  // -d.ddde+XX
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  const std::size_t e = sci.find('e');
  std::string digits(1, sci[0]);
  if (e > 1) digits.append(sci.substr(2, e - 2));
  int exponent = 0;
  std::string_view exponent_text = sci.substr(e + 1);
  if (exponent_text.front() == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // the decimal point sits after n digits
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += n - 1 >= 0 ? "e+" : "e-";
    out += std::to_string(std::abs(n - 1));
  }
}

// A fixed linear congruential sequence: the same items on every run and platform.
class ItemRandom {
 public:
  std::uint32_t Next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state_ >> 33);
  }

 private:
  std::uint64_t state_ = 20240611;
};

// {"items": [...]}: `count` catalogue items with a category, a price in cents, a quantity and a
// nested supplier.
std::string ItemsDocument(int count) {
  static constexpr const char* kCategories[] = {"books", "music", "games", "garden", "tools"};
  static constexpr const char* kCountries[] = {"DE", "FR", "GB", "US"};
  ItemRandom random;
  std::string text = R"({"items":[)";
  for (int i = 0; i < count; ++i) {
    const std::uint32_t category = random.Next() % 5;
    const std::uint32_t cents = random.Next() % 20000;
    const std::uint32_t quantity = random.Next() % 10;
    const std::uint32_t supplier = random.Next() % 50;
    if (i > 0) text += ',';
    text += R"({"id":)" + std::to_string(i) + R"(,"name":"item-)" + std::to_string(i) +
            R"(","category":")" + kCategories[category] + R"(","price":)";
    AppendJsNumber(cents / 100.0, text);
    text += R"(,"quantity":)" + std::to_string(quantity) + R"(,"supplier":{"name":"supplier-)" +
            std::to_string(supplier) + R"(","country":")" + kCountries[supplier % 4] + R"("}})";
  }
  return text + "]}";
}

constexpr std::string_view kOrder = R"({"order":{"id":"ord-20240611-0042",
  "customer":{"name":"Ada Lovelace","email":"Ada.Lovelace@Example.com","tier":"gold"},
  "shipping":{"method":"express","address":{"street":"12 Analytical Way","city":"London",
    "country":"GB"}},
  "lines":[{"sku":"BK-101","category":"books","price":24.99,"quantity":2},
    {"sku":"MU-7","category":"music","price":12.5,"quantity":1},
    {"sku":"BK-230","category":"books","price":54,"quantity":1},
    {"sku":"GM-3","category":"games","price":59.99,"quantity":0}]}})";

// The bindings a JSONata-mode state sees: $states.input and $states.context.
std::string StatesDocument() {
  return std::string(R"({"states":{"input":)") + std::string(kOrder) + R"(,"context":{
    "Execution":{"Id":"arn:aws:states:us-east-1:123456789012:execution:orders:run-1",
      "Name":"run-1","StartTime":"2024-06-11T10:00:00Z"},
    "State":{"Name":"ShapeOrder","EnteredTime":"2024-06-11T10:00:01Z"}}}})";
}

// Every document's text, by name. Both sides read these exact texts.
const std::map<std::string, std::string>& DocumentTexts() {
  static const std::map<std::string, std::string> texts = {
      {"order", std::string(kOrder)},
      {"states", StatesDocument()},
      {"items1k", ItemsDocument(1'000)},
      {"items10k", ItemsDocument(10'000)},
  };
  return texts;
}

const value& Document(const std::string& name) {
  static std::map<std::string, value> parsed;
  auto it = parsed.find(name);
  if (it == parsed.end()) {
    zflow::Result<zflow::ParsedJson> doc =
        zflow::ParseJson(DocumentTexts().at(name), {.record_locations = false});
    if (!doc.ok()) {
      std::cerr << "document " << name << ": " << doc.status().ToString() << "\n";
      std::exit(2);
    }
    it = parsed.emplace(name, std::move(doc->value)).first;
  }
  return it->second;
}

// ---- Workloads --------------------------------------------------------------------------------

struct Workload {
  std::string name;
  std::string what;
  std::string expression;
  std::string input;     // a document name
  std::string bindings;  // a document name, or empty
  bool evaluate = true;  // false: only compiling is timed (the result is still checked)
};

// An output shaper of the size a real state's "Output" reaches (about 570 characters).
constexpr std::string_view kLongExpression = R"((
  $order := $states.input.order;
  $lines := $order.lines[quantity > 0];
  $subtotal := $sum($lines.(price * quantity));
  $discount := $subtotal > 100 ? $subtotal * 0.1 : 0;
  {
    "orderId": $order.id,
    "customer": $uppercase($order.customer.name),
    "skus": $lines.sku,
    "total": $round($subtotal - $discount, 2),
    "express": $order.shipping.method = "express" and $subtotal > 50,
    "categories": $distinct($lines.category)^($),
    "summary": $join($lines.(sku & " x" & $string(quantity)), "; "),
    "execution": $states.context.Execution.Id
  }
))";

std::vector<Workload> Workloads() {
  return {
      {"field", "path into $states.input", "$states.input.order.customer.name", "order", "states"},
      {"select", "object of four $states paths",
       R"({"name": $states.input.order.customer.name, )"
       R"("city": $states.input.order.shipping.address.city, )"
       R"("sku": $states.input.order.lines[0].sku, "run": $states.context.Execution.Id})",
       "order", "states"},
      {"filter", "predicate over 10,000 items", R"(items[price > 50 and category = "books"].id)",
       "items10k", ""},
      {"map", "$map over 10,000 items", "$map(items, function($v){ $v.price * 1.2 })", "items10k",
       ""},
      {"reduce", "$reduce over 10,000 items",
       "$reduce(items, function($a, $v){ $a + $v.price }, 0)", "items10k", ""},
      {"join", "string of 1,000 of 10,000 items",
       R"($join(items[[0..999]].(name & ":" & $string(price)), ","))", "items10k", ""},
      {"group", "grouping 1,000 items", "items{category: $sum(price)}", "items1k", ""},
      {"transform", "~> |items|{...}| over 1,000 items", R"($ ~> |items|{"tax": price * 0.2}|)",
       "items1k", ""},
      {"reshape", "object constructor over 1,000 items",
       R"(items[quantity > 0].{"id": id, "label": $uppercase(name), )"
       R"("cost": {"unit": price, "total": price * quantity}, )"
       R"("origin": supplier.country, "tags": [category, "q" & $string(quantity)]})",
       "items1k", ""},
      {"compile_long", "compiling a 570-character output shaper", std::string(kLongExpression),
       "order", "states", false},
  };
}

// ---- Canonical results ------------------------------------------------------------------------

void AppendJsString(std::string_view s, std::string& out) {
  out += '"';
  for (const char ch : s) {
    const auto byte = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof(escape), "\\u%04x", byte);
          out += escape;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// Members sorted by name (byte order, which is JavaScript's UTF-16 order for the ASCII names
// these workloads produce).
void AppendCanonical(const value& v, std::string& out) {
  switch (v.kind()) {
    case zflow::json::kind::null:
      out += "null";
      break;
    case zflow::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case zflow::json::kind::int64:
    case zflow::json::kind::uint64:
    case zflow::json::kind::double_:
      AppendJsNumber(v.to_number<double>(), out);
      break;
    case zflow::json::kind::string:
      AppendJsString(v.get_string(), out);
      break;
    case zflow::json::kind::array: {
      out += '[';
      bool first = true;
      for (const value& element : v.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendCanonical(element, out);
      }
      out += ']';
      break;
    }
    case zflow::json::kind::object: {
      std::vector<const zflow::json::key_value_pair*> members;
      for (const auto& member : v.get_object()) members.push_back(&member);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ',';
        AppendJsString(members[i]->key(), out);
        out += ':';
        AppendCanonical(members[i]->value(), out);
      }
      out += '}';
      break;
    }
  }
}

std::string Canonical(const std::optional<value>& result) {
  if (!result.has_value()) return "undefined";
  std::string out;
  AppendCanonical(*result, out);
  return out;
}

std::string Fnv1a(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (const char ch : text) {
    hash ^= static_cast<unsigned char>(ch);
    hash *= 16777619u;
  }
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%08x", hash);
  return hex;
}

// ---- Timing -----------------------------------------------------------------------------------

struct Settings {
  int samples = 15;
  std::chrono::microseconds sample{5'000};
  std::chrono::microseconds warmup{200'000};
};

struct Timing {
  std::size_t operations = 0;
  double best_us = 0;
  double median_us = 0;
};

// Keeps the optimizer from dropping work whose result is unused.
template <typename T>
void KeepAlive(const T& v) {
  asm volatile("" : : "g"(&v) : "memory");
}

// Warms up, calibrates how many operations fill one sample, then times `samples` samples; the
// per-operation time of each sample gives the best and the median.
template <typename Operation>
Timing Measure(const Settings& settings, Operation operation) {
  const Clock::time_point warm_start = Clock::now();
  std::size_t warm = 0;
  while (warm == 0 || Clock::now() - warm_start < settings.warmup) {
    operation();
    ++warm;
  }
  const double per_operation_us =
      std::chrono::duration<double, std::micro>(Clock::now() - warm_start).count() /
      static_cast<double>(warm);
  const auto repetitions = static_cast<std::size_t>(
      std::max(1.0, std::floor(static_cast<double>(settings.sample.count()) / per_operation_us)));
  std::vector<double> per_op;
  for (int s = 0; s < settings.samples; ++s) {
    const Clock::time_point start = Clock::now();
    for (std::size_t r = 0; r < repetitions; ++r) operation();
    per_op.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                     static_cast<double>(repetitions));
  }
  std::sort(per_op.begin(), per_op.end());
  const std::size_t n = per_op.size();
  return {.operations = repetitions * n,
          .best_us = per_op.front(),
          .median_us = n % 2 == 1 ? per_op[n / 2] : (per_op[n / 2 - 1] + per_op[n / 2]) / 2};
}

zflow::json::object TimingJson(const Timing& t) {
  return {{"best", t.best_us}, {"median", t.median_us}};
}

// ---- Commands ---------------------------------------------------------------------------------

struct Evaluation {
  std::optional<jsonata::Error> error;
  std::optional<value> result;
};

Evaluation EvaluateOnce(const jsonata::Expression& expression, const Workload& w) {
  jsonata::EvaluateOptions options;
  if (!w.bindings.empty()) options.bindings = &Document(w.bindings).as_object();
  jsonata::Outcome<std::optional<value>> out = expression.Evaluate(&Document(w.input), options);
  if (!out.ok()) return {.error = out.error()};
  return {.result = std::move(*out)};
}

// Runs one workload; prints its line and returns whether it ran without an error.
bool Run(const Workload& w, const Settings& settings, bool result_only) {
  zflow::json::object line{{"workload", w.name}};
  jsonata::Outcome<jsonata::Expression> compiled = jsonata::Expression::Compile(w.expression);
  if (!compiled.ok()) {
    line["error"] = "compile: " + compiled.error().ToString();
    std::cout << zflow::ToJsonText(line) << std::endl;
    return false;
  }
  Evaluation first = EvaluateOnce(*compiled, w);
  if (first.error.has_value()) {
    line["error"] = "evaluate: " + first.error->ToString();
    std::cout << zflow::ToJsonText(line) << std::endl;
    return false;
  }
  const std::string canonical = Canonical(first.result);
  if (result_only) {
    std::cout << w.name << "\t" << canonical << std::endl;
    return true;
  }

  const Timing compile = Measure(settings, [&w] {
    jsonata::Outcome<jsonata::Expression> e = jsonata::Expression::Compile(w.expression);
    KeepAlive(e);
  });
  line["compiles"] = compile.operations;
  line["compile_us"] = TimingJson(compile);
  if (w.evaluate) {
    jsonata::EvaluateOptions options;
    if (!w.bindings.empty()) options.bindings = &Document(w.bindings).as_object();
    const value* input = &Document(w.input);
    const jsonata::Expression& expression = *compiled;
    const Timing evaluate = Measure(settings, [&] {
      jsonata::Outcome<std::optional<value>> out = expression.Evaluate(input, options);
      KeepAlive(out);
    });
    line["evaluations"] = evaluate.operations;
    line["evaluate_us"] = TimingJson(evaluate);
  } else {
    line["evaluations"] = 0;
    line["evaluate_us"] = nullptr;
  }
  line["result"] = {{"bytes", canonical.size()}, {"fnv1a", Fnv1a(canonical)}};
  std::cout << zflow::ToJsonText(line) << std::endl;
  return true;
}

int Describe() {
  for (const Workload& w : Workloads()) {
    zflow::json::object line{
        {"name", w.name},   {"what", w.what},         {"expression", w.expression},
        {"input", w.input}, {"bindings", w.bindings}, {"evaluate", w.evaluate}};
    std::cout << zflow::ToJsonText(line) << "\n";
  }
  return 0;
}

int WriteInputs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [name, text] : DocumentTexts()) {
    const fs::path path = dir / (name + ".json");
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out.flush()) {
      std::cerr << "cannot write " << path << "\n";
      return 1;
    }
  }
  return 0;
}

int Usage() {
  std::cerr << "usage: jsonata_bench [--samples N] [--sample-ms MS] [--warmup-ms MS] "
               "[--result] [WORKLOAD...]\n"
               "       jsonata_bench --describe\n"
               "       jsonata_bench --write-inputs DIR\n";
  return 2;
}

std::optional<int> PositiveInt(const char* text) {
  int v = 0;
  const std::string_view s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  bool result_only = false;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    const bool has_value = i + 1 < argc;
    if (arg == "--describe") return Describe();
    if (arg == "--write-inputs" && has_value) return WriteInputs(argv[i + 1]);
    if (arg == "--result") {
      result_only = true;
    } else if (arg == "--samples" || arg == "--sample-ms" || arg == "--warmup-ms") {
      const std::optional<int> v = has_value ? PositiveInt(argv[++i]) : std::nullopt;
      if (!v.has_value()) return Usage();
      if (arg == "--samples") settings.samples = *v;
      if (arg == "--sample-ms") settings.sample = std::chrono::milliseconds(*v);
      if (arg == "--warmup-ms") settings.warmup = std::chrono::milliseconds(*v);
    } else if (arg.starts_with("-")) {
      return Usage();
    } else {
      names.emplace_back(arg);
    }
  }
  const std::vector<Workload> all = Workloads();
  std::vector<const Workload*> chosen;
  for (const Workload& w : all) {
    if (names.empty() || std::find(names.begin(), names.end(), w.name) != names.end()) {
      chosen.push_back(&w);
    }
  }
  for (const std::string& name : names) {
    if (std::none_of(all.begin(), all.end(), [&](const Workload& w) { return w.name == name; })) {
      std::cerr << "unknown workload " << name << "; --describe lists them\n";
      return 2;
    }
  }
  bool ok = true;
  for (const Workload* w : chosen) ok = Run(*w, settings, result_only) && ok;
  return ok ? 0 : 1;
}
