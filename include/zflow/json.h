// zflow/json.h: the JSON value type of zflow (Boost.JSON, chosen once here) and a strict parser
// that can say where every node came from.
//
//   zflow::Result<zflow::ParsedJson> doc = zflow::ParseJson(text);
//   if (doc.ok()) {
//     const zflow::json::value& v = doc->value;
//     zflow::SourceLocation where = doc->locations.ValueLocation("/States/Train/Next");
//   }
//
// Why Boost.JSON: a DOM with cheap moves, ordered objects (so pretty-printed ASL keeps the
// author's state order), allocator support, and a serializer that round-trips doubles. See
// docs/design/json.md for the measurements behind the choice.
#ifndef ZFLOW_JSON_H_
#define ZFLOW_JSON_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "zflow/status.h"

namespace zflow {

namespace json = boost::json;

// 1-based line and column (column counts Unicode code points). 0 means unknown.
struct SourceLocation {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  bool known() const { return line != 0; }
  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

// Where each node of a parsed document starts, looked up by RFC 6901 JSON pointer ("" is the
// root). It keeps the document's text and finds a node when asked (diagnostics are rare): parsing
// records nothing per node. A lookup scans the containers on the pointer's path once each (their
// member offsets are then cached), so many lookups into one document stay cheap. Copies share
// the text and the cache; lookups are thread-safe.
class SourceMap {
 public:
  SourceMap();
  // Over a text the parser accepted (lookups assume well-formed JSON).
  explicit SourceMap(std::string text);
  // Over a text the caller keeps alive and unchanged for as long as the map (and its copies)
  // is used: nothing is copied.
  static SourceMap Borrowing(std::string_view text);
  // This map, owning its text (a copy of a borrowed one).
  SourceMap Owning() const;
  ~SourceMap();
  SourceMap(const SourceMap&);
  SourceMap& operator=(const SourceMap&);
  SourceMap(SourceMap&&) noexcept;
  SourceMap& operator=(SourceMap&&) noexcept;

  // The location of the value at `pointer`; unknown when the pointer names no node.
  SourceLocation ValueLocation(std::string_view pointer) const;
  // The location of the member name for an object member (the value's location for an array
  // element or the root); unknown when the pointer names no node.
  SourceLocation KeyLocation(std::string_view pointer) const;
  // The location of the closest existing ancestor-or-self of `pointer` (the key when the node is
  // an object member). Useful for "field X is missing here" diagnostics.
  SourceLocation Nearest(std::string_view pointer) const;

  bool empty() const { return impl_ == nullptr; }

 private:
  struct Impl;
  struct Found;
  void Start(std::string_view text);
  Found Walk(std::string_view pointer) const;
  std::shared_ptr<Impl> impl_;
};

struct ParsedJson {
  json::value value;
  SourceMap locations;  // empty unless JsonParseOptions::record_locations
};

struct JsonParseOptions {
  // Deeper nesting is an error (not a stack overflow).
  std::size_t max_depth = 512;
  // Longer input is an error before any parsing.
  std::size_t max_bytes = std::size_t{64} << 20;
  bool record_locations = true;
  // RFC 8259 leaves duplicate member names undefined; in a definition they are always a mistake.
  bool reject_duplicate_keys = true;
  // Where the document's memory comes from (the default allocator unless set). A
  // json::monotonic_resource that outlives the document makes reading a large, short-lived
  // document much cheaper; the document may then also come from the default allocator.
  json::storage_ptr storage;
};

// A syntax error: where and what.
struct JsonSyntaxError {
  SourceLocation location;
  std::string message;
};

// Parses strict RFC 8259 JSON (UTF-8 validated, no comments, no trailing commas).
// On failure returns kInvalidArgument with "line L, column C: what" as the message; use
// ParseJsonOrError for the location as data.
Result<ParsedJson> ParseJson(std::string_view text, const JsonParseOptions& options = {});

// Like ParseJson, with the syntax error as data. Exactly one of the two members is set.
struct JsonParseOutcome {
  std::optional<ParsedJson> document;
  std::optional<JsonSyntaxError> error;
};
JsonParseOutcome ParseJsonOrError(std::string_view text, const JsonParseOptions& options = {});

// Appends one RFC 6901 reference token (escaping '~' and '/') to `pointer` in place.
void AppendJsonPointerToken(std::string& pointer, std::string_view token);

// Appends one RFC 6901 reference token (escaping '~' and '/') to `pointer`.
std::string JsonPointerAppend(std::string_view pointer, std::string_view token);
std::string JsonPointerAppend(std::string_view pointer, std::size_t index);

// A double as AWS (Java's Double.toString) prints it: the shortest digits that read back to the
// same double, always with a '.' or an exponent: "1.5", "100.0", "1.0E-5", "1.0E300".
// Non-finite values print as "NaN" / "Infinity" (never produced by the parser).
std::string FormatJsonDouble(double d);

// Compact serialization (no spaces), as AWS prints JSON payloads; doubles via FormatJsonDouble,
// so they stay doubles when read back.
std::string ToJsonText(const json::value& v);

// `text` with every byte that is not part of a well-formed UTF-8 sequence (overlong forms and
// surrogates included) replaced by U+FFFD: for text from outside (a client's bytes echoed in
// an error message) that goes into JSON.
std::string ValidUtf8(std::string_view text);
// Appends the compact serialization of `v` to `out` (reuse a buffer to avoid allocations).
void AppendJsonText(const json::value& v, std::string& out);
// Writes the compact serialization of `v` into [buffer, buffer + capacity) when it fits and
// returns it there; otherwise into `spill` (cleared first), returning a view of that.
std::string_view WriteJsonText(const json::value& v, char* buffer, std::size_t capacity,
                               std::string& spill);
// Indented serialization with two spaces, object members in their stored order.
std::string ToPrettyJsonText(const json::value& v);

}  // namespace zflow

#endif  // ZFLOW_JSON_H_
