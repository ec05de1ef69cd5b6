// Fuzzes the located JSON parser: any bytes must give a document or a located error, and a
// document must serialize and re-parse to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zflow/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  zflow::JsonParseOutcome out = zflow::ParseJsonOrError(text, {.max_depth = 64});
  if (out.error) {
    if (!out.error->location.known()) std::abort();
    return 0;
  }
  std::string again = zflow::ToJsonText(out.document->value);
  auto reparsed = zflow::ParseJson(again, {.max_depth = 64, .record_locations = false});
  if (!reparsed.ok() || reparsed->value != out.document->value) std::abort();
  return 0;
}
