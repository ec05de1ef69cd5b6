// Fuzzes parse + validate + serialize of state machine definitions. Invariants: no crash, every
// diagnostic of a parsed document is located, and a valid machine round-trips through the
// serializer to an equal model.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zflow/asl_serializer.h"
#include "zflow/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  zflow::asl::ValidationReport report = zflow::asl::ValidateDefinition(text, {.max_depth = 64});
  if (!report.ok()) return 0;
  std::string canonical = zflow::asl::SerializeStateMachine(*report.machine);
  zflow::asl::ValidationReport again = zflow::asl::ValidateDefinition(canonical);
  if (!again.ok() || !(*again.machine == *report.machine)) std::abort();
  return 0;
}
