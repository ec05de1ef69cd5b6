// Fuzzes parse + validate + serialize of state machine definitions, and the JSONata conversion.
// Invariants: no crash, a valid machine round-trips through the serializer to an equal model,
// and a valid machine that converts to JSONata converts to a valid one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zflow/asl_convert.h"
#include "zflow/asl_serializer.h"
#include "zflow/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  zflow::asl::ValidationReport report = zflow::asl::ValidateDefinition(text, {.max_depth = 64});
  if (!report.ok()) return 0;
  std::string canonical = zflow::asl::SerializeStateMachine(*report.machine);
  zflow::asl::ValidationReport again = zflow::asl::ValidateDefinition(canonical);
  if (!again.ok() || !(*again.machine == *report.machine)) std::abort();
  zflow::Result<zflow::json::value> jsonata =
      zflow::asl::ConvertToJsonata(zflow::asl::StateMachineToJson(*report.machine));
  if (jsonata.ok() && !zflow::asl::ValidateDefinition(zflow::ToJsonText(*jsonata)).ok()) {
    std::abort();
  }
  return 0;
}
