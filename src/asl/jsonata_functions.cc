#include "asl/jsonata_functions.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>

#include "asl/evaluation.h"
#include "asl/intrinsics.h"
#include "common/ids.h"

namespace zflow::asl {
namespace {

using Args = std::span<const std::optional<json::value>>;
using Result = jsonata::Outcome<std::optional<json::value>>;

jsonata::Error Error(std::string message) {
  // AWS reports these as jsonata's D3137 ($error) with the function's own message.
  return jsonata::Error{"D3137", std::move(message), std::nullopt, {}};
}

// "Built-in JSONata functions that require integer values as parameters will automatically
// round down any non-integer numbers provided" (toward zero, as measured).
double Whole(const json::value& v) { return std::trunc(v.to_number<double>()); }

RandomSource& Random(const void* context) {
  EvaluationContext ctx;
  ctx.random = static_cast<RandomSource*>(const_cast<void*>(context));
  return RandomFor(ctx);
}

Result Partition(Args args, const void*) {
  if (!args[0]) return std::optional<json::value>();
  const json::array& items = args[0]->as_array();
  double size = Whole(*args[1]);
  if (!(size > 0)) return Error("Second argument must be greater than zero");
  json::array out;
  std::size_t chunk = size > static_cast<double>(items.size()) ? items.size()
                                                             : static_cast<std::size_t>(size);
  for (std::size_t i = 0; i < items.size(); i += chunk) {
    json::array part;
    for (std::size_t k = i; k < i + chunk && k < items.size(); ++k) part.push_back(items[k]);
    out.emplace_back(std::move(part));
  }
  return std::optional<json::value>(json::value(std::move(out)));
}

Result Range(Args args, const void*) {
  double start = Whole(*args[0]);
  double end = Whole(*args[1]);
  double step = Whole(*args[2]);
  json::array out;
  if (step != 0) {
    double count = std::floor((end - start) / step) + 1;
    if (count > 1e7) return Error("The $range function would create more than 10000000 items");
    for (double x = start; step > 0 ? x <= end : x >= end; x += step) {
      out.emplace_back(static_cast<std::int64_t>(x));
    }
  }
  return std::optional<json::value>(json::value(std::move(out)));
}

Result Hash(Args args, const void*) {
  if (!args[0]) return std::optional<json::value>();
  std::string_view algorithm = args[1]->as_string();
  std::optional<std::string> hex = HashHex(args[0]->as_string(), algorithm);
  if (!hex) {
    return Error("Invalid algorithm, supported algorithms are MD5, SHA-1, SHA-256, SHA-384 and "
                 "SHA-512");
  }
  return std::optional<json::value>(json::value(json::string(*hex)));
}

Result RandomNumber(Args args, const void* context) {
  if (!args.empty() && args[0]) {
    double seed = Whole(*args[0]);
    return std::optional<json::value>(
        json::value(SeededRandomDouble(static_cast<std::int64_t>(seed))));
  }
  std::uint64_t draw = Random(context).Next() >> 11;  // 53 bits
  return std::optional<json::value>(json::value(static_cast<double>(draw) * 0x1.0p-53));
}

Result Uuid(Args, const void* context) {
  RandomSource& random = Random(context);
  std::uint64_t hi = random.Next();
  return std::optional<json::value>(json::value(json::string(FormatUuid(hi, random.Next()))));
}

Result Parse(Args args, const void*) {
  if (!args[0]) return std::optional<json::value>();
  boost::system::error_code ec;
  json::value v = json::parse(args[0]->as_string(), ec);
  if (ec) return Error("Invalid JSON: " + ec.message());
  return std::optional<json::value>(std::move(v));
}

}  // namespace

const jsonata::FunctionLibrary& StepFunctionsJsonata() {
  static const jsonata::FunctionLibrary library = [] {
    std::vector<jsonata::NativeFunction> functions = {
        {"partition", "<an:a>", Partition},
        {"range", "<nnn:a<n>>", Range},
        {"hash", "<ss:s>", Hash},
        {"random", "<n?:n>", RandomNumber},
        {"uuid", "<:s>", Uuid},
        {"parse", "<s:j>", Parse},
    };
    auto made = jsonata::FunctionLibrary::Create(std::move(functions), {"eval"});
    return std::move(made).value();
  }();
  return library;
}

}  // namespace zflow::asl
