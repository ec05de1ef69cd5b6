// Fuzzes the located JSON parser: any bytes must give a document or a located error, a
// document must serialize and re-parse to the same value, and the fast path must agree with
// the careful parser (the same document, or both refuse).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json_careful.h"
#include "zflow/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  zflow::JsonParseOutcome out = zflow::ParseJsonOrError(text, {.max_depth = 64});
  zflow::JsonParseOutcome careful = zflow::ParseJsonCarefully(text, {.max_depth = 64});
  if (out.error.has_value() != careful.error.has_value()) std::abort();
  if (out.error && (out.error->location != careful.error->location ||
                    out.error->message != careful.error->message)) {
    std::abort();
  }
  if (out.document && zflow::ToJsonText(out.document->value) !=
                          zflow::ToJsonText(careful.document->value)) {
    std::abort();
  }
  if (out.error) {
    if (!out.error->location.known()) std::abort();
    return 0;
  }
  std::string again = zflow::ToJsonText(out.document->value);
  auto reparsed = zflow::ParseJson(again, {.max_depth = 64, .record_locations = false});
  if (!reparsed.ok() || reparsed->value != out.document->value) std::abort();
  return 0;
}
