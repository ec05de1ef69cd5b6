// libFuzzer target for the intrinsic-function parser and evaluator.
//
// The input bytes are parsed as one intrinsic call ("States.Format('{}', $.name)"). When that
// succeeds, the call and a copy of it are evaluated against a small fixed input, context object
// and variable set, with identical deterministic randomness. Beyond crashes and sanitizer
// reports, the target traps when
//   - the copy evaluates differently from the original (evaluation must be a pure function of
//     the call, the context and the random draws), or
//   - a successful result does not survive a round trip through zflow's strict JSON parser
//     (e.g. a string that is not valid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "asl/evaluation.h"
#include "asl/intrinsics.h"
#include "zflow/json.h"

namespace {

// A fixed linear congruential sequence, so that both evaluations see the same draws.
class SequenceRandom final : public zflow::asl::RandomSource {
 public:
  std::uint64_t Next() override {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_;
  }

 private:
  std::uint64_t state_ = 0x2545F4914F6CDD1DULL;
};

zflow::json::value ParseOrNull(std::string_view text) {
  zflow::Result<zflow::ParsedJson> parsed = zflow::ParseJson(text, {.record_locations = false});
  return parsed.ok() ? std::move(parsed->value) : zflow::json::value();
}

struct Fixture {
  zflow::json::value input = ParseOrNull(R"({
    "name": "Arnav", "template": "Hello, my name is {}.", "n": 42, "f": 1.5, "neg": -3,
    "big": 9223372036854775807, "t": true, "nil": null,
    "arr": [1, 2, 2, "a", {"k": "v"}, [1.0], null], "empty": [],
    "obj": {"a": {"b": 1}, "c": [true, null]}, "obj2": {"a": 2, "d": "x"},
    "s": "a,b.c+d", "b64": "RGF0YSB0byBlbmNvZGU=", "json": "{\"x\": [1, 2]}",
    "unicode": "h\u00e9llo \u2603"
  })");
  zflow::json::value context =
      ParseOrNull(R"({"Execution": {"Id": "arn:aws:states:us-east-1:1:execution:m:e",
                      "Input": {"k": 1}}, "State": {"Name": "S"}})");
  zflow::json::object variables = {{"v", zflow::json::array{1, 2, 3}}, {"name", "var"}};
};

const Fixture& GetFixture() {
  static const Fixture fixture;
  return fixture;
}

zflow::asl::Outcome<zflow::json::value> Evaluate(const zflow::asl::IntrinsicCall& call) {
  const Fixture& fixture = GetFixture();
  SequenceRandom random;
  zflow::asl::EvaluationContext ctx;
  ctx.input = &fixture.input;
  ctx.context = &fixture.context;
  ctx.variables = [&fixture](std::string_view name) { return fixture.variables.if_contains(name); };
  ctx.random = &random;
  return call.Evaluate(ctx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  zflow::Result<zflow::asl::IntrinsicCall> call = zflow::asl::IntrinsicCall::Parse(text);
  if (!call.ok()) return 0;
  const zflow::asl::IntrinsicCall copy = *call;

  const zflow::asl::Outcome<zflow::json::value> first = Evaluate(*call);
  const zflow::asl::Outcome<zflow::json::value> second = Evaluate(copy);
  if (first.ok() != second.ok()) __builtin_trap();
  if (!first.ok()) {
    if (!(first.error() == second.error())) __builtin_trap();
    return 0;
  }
  if (*first != *second) __builtin_trap();
  const std::string serialized = zflow::ToJsonText(*first);
  if (!zflow::ParseJson(serialized, {.max_depth = 1 << 20, .record_locations = false}).ok()) {
    __builtin_trap();
  }
  return 0;
}
