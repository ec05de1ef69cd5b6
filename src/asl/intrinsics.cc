// Parser and evaluator for the 18 States.* intrinsic functions of JSONPath-mode ASL.
//
// Semantics follow the AWS Step Functions developer guide ("Intrinsic functions for JSONPath
// states"). Where the guide is silent, the choices made here are noted next to the code. Parse
// errors name a 1-based character position (Unicode code points) in the intrinsic text.
#include "asl/intrinsics.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asl/json_path.h"
#include "asl/jsonata_text.h"
#include "common/ids.h"
#include "zflow/json.h"

namespace zflow::asl {

struct IntrinsicCall::Node {
  enum class Kind : std::uint8_t { kLiteral, kPath, kCall };
  enum class Function : std::uint8_t {
    kFormat,
    kStringToJson,
    kJsonToString,
    kArray,
    kArrayPartition,
    kArrayContains,
    kArrayRange,
    kArrayGetItem,
    kArrayLength,
    kArrayUnique,
    kBase64Encode,
    kBase64Decode,
    kHash,
    kJsonMerge,
    kMathRandom,
    kMathAdd,
    kStringSplit,
    kUuid,
  };

  Kind kind = Kind::kLiteral;
  std::size_t column = 0;  // 1-based character where the node starts in the intrinsic text
  // kLiteral: the value. For string literals, `format_pieces` also holds the text between the
  // unescaped "{}" placeholders, so that States.Format can tell "{}" from the escaped "\{\}".
  json::value literal;
  std::vector<std::string> format_pieces;
  // The first unescaped '{' or '}' that is not part of "{}": literal text in any argument,
  // refused only in the format string of States.Format (AWS runs
  // States.StringToJson('{"k": 1}')). 1-based character; 0 when there is none.
  std::size_t lone_brace = 0;
  // kPath.
  std::optional<JsonPath> path;
  // kCall.
  Function function = Function::kArray;
  std::vector<Node> args;
};

namespace {

using Node = IntrinsicCall::Node;
using Function = Node::Function;

constexpr std::size_t kMaxCalls = 10;              // per field, as AWS documents
constexpr std::size_t kMaxEncodingInput = 10'000;  // Base64Encode/Decode and Hash, in characters
constexpr std::size_t kMaxRangeItems = 1000;       // States.ArrayRange
constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();
constexpr std::string_view kStatesPrefix = "States.";

// What a parameter accepts. Checked at parse time for literals and at run time for the rest.
enum class ArgType : std::uint8_t { kAny, kString, kNumber, kBoolean, kArray, kObject };

struct FunctionSpec {
  std::string_view name;
  Function function;
  std::size_t min_args;
  std::size_t max_args;
  // Types of the first parameters; parameters past the list accept anything.
  std::array<ArgType, 3> types;
};

constexpr ArgType kAny = ArgType::kAny;
constexpr ArgType kStr = ArgType::kString;
constexpr ArgType kNum = ArgType::kNumber;
constexpr ArgType kBool = ArgType::kBoolean;
constexpr ArgType kArr = ArgType::kArray;
constexpr ArgType kObj = ArgType::kObject;

constexpr std::array<FunctionSpec, 18> kFunctions = {{
    {"States.Format", Function::kFormat, 1, kUnbounded, {kStr, kAny, kAny}},
    {"States.StringToJson", Function::kStringToJson, 1, 1, {kStr, kAny, kAny}},
    {"States.JsonToString", Function::kJsonToString, 1, 1, {kAny, kAny, kAny}},
    {"States.Array", Function::kArray, 0, kUnbounded, {kAny, kAny, kAny}},
    {"States.ArrayPartition", Function::kArrayPartition, 2, 2, {kArr, kNum, kAny}},
    {"States.ArrayContains", Function::kArrayContains, 2, 2, {kArr, kAny, kAny}},
    {"States.ArrayRange", Function::kArrayRange, 3, 3, {kNum, kNum, kNum}},
    {"States.ArrayGetItem", Function::kArrayGetItem, 2, 2, {kArr, kNum, kAny}},
    {"States.ArrayLength", Function::kArrayLength, 1, 1, {kArr, kAny, kAny}},
    {"States.ArrayUnique", Function::kArrayUnique, 1, 1, {kArr, kAny, kAny}},
    {"States.Base64Encode", Function::kBase64Encode, 1, 1, {kStr, kAny, kAny}},
    {"States.Base64Decode", Function::kBase64Decode, 1, 1, {kStr, kAny, kAny}},
    {"States.Hash", Function::kHash, 2, 2, {kStr, kStr, kAny}},
    {"States.JsonMerge", Function::kJsonMerge, 3, 3, {kObj, kObj, kBool}},
    {"States.MathRandom", Function::kMathRandom, 2, 3, {kNum, kNum, kNum}},
    {"States.MathAdd", Function::kMathAdd, 2, 2, {kNum, kNum, kAny}},
    {"States.StringSplit", Function::kStringSplit, 2, 2, {kStr, kStr, kAny}},
    {"States.UUID", Function::kUuid, 0, 0, {kAny, kAny, kAny}},
}};

const FunctionSpec& SpecOf(Function f) { return kFunctions[static_cast<std::size_t>(f)]; }

ArgType TypeOfParameter(const FunctionSpec& spec, std::size_t index) {
  return index < spec.types.size() ? spec.types[index] : ArgType::kAny;
}

constexpr std::array<std::string_view, 5> kHashAlgorithms = {"MD5", "SHA-1", "SHA-256", "SHA-384",
                                                             "SHA-512"};

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the parser and the evaluator.

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}

// Length of the UTF-8 sequence at s[i], or 0 when it is malformed (overlong forms, surrogates and
// code points past U+10FFFF included).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr std::array<std::uint32_t, 5> kMinForLength = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Byte offset of the first malformed UTF-8 sequence, if any.
std::optional<std::size_t> FindInvalidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

// Number of code points in valid UTF-8 (continuation bytes are not counted).
std::size_t CountCharacters(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string Ordinal(std::size_t n) {
  const std::size_t mod100 = n % 100;
  std::string_view suffix = "th";
  if (mod100 < 11 || mod100 > 13) {
    switch (n % 10) {
      case 1:
        suffix = "st";
        break;
      case 2:
        suffix = "nd";
        break;
      case 3:
        suffix = "rd";
        break;
      default:
        break;
    }
  }
  return fmt::format("{}{}", n, suffix);
}

std::string_view Plural(std::size_t n, std::string_view one, std::string_view many) {
  return n == 1 ? one : many;
}

std::string_view ArgTypeName(ArgType t) {
  switch (t) {
    case ArgType::kString:
      return "a string";
    case ArgType::kNumber:
      return "a number";
    case ArgType::kBoolean:
      return "a boolean";
    case ArgType::kArray:
      return "an array";
    case ArgType::kObject:
      return "an object";
    case ArgType::kAny:
      break;
  }
  return "any JSON value";
}

std::string_view KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

bool Matches(ArgType t, const json::value& v) {
  switch (t) {
    case ArgType::kAny:
      return true;
    case ArgType::kString:
      return v.is_string();
    case ArgType::kNumber:
      return v.is_number();
    case ArgType::kBoolean:
      return v.is_bool();
    case ArgType::kArray:
      return v.is_array();
    case ArgType::kObject:
      return v.is_object();
  }
  return false;
}


std::string JsonText(const json::value& v) { return ToJsonText(v); }

// A value as it appears in an error message: JSON text, cut short.
std::string Preview(const json::value& v) {
  constexpr std::size_t kMaxPreview = 80;
  std::string text = JsonText(v);
  if (text.size() <= kMaxPreview) return text;
  std::size_t cut = kMaxPreview;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += "...";
  return text;
}

// ---------------------------------------------------------------------------------------------
// Parser.

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Node> ParseField() {
    if (auto bad = FindInvalidUtf8(text_)) {
      return Error(*bad, "the intrinsic text is not valid UTF-8");
    }
    SkipSpaces();
    if (!AtStatesPrefix()) {
      return Error(pos_, fmt::format("expected an intrinsic function call such as "
                                     "States.Format('...', $.x), but found {}",
                                     Describe(pos_)));
    }
    ZFLOW_ASSIGN_OR_RETURN(Node call, ParseCall());
    SkipSpaces();
    if (pos_ != text_.size()) {
      return Error(pos_, fmt::format("unexpected {} after the end of the intrinsic function call",
                                     Describe(pos_)));
    }
    return call;
  }

 private:
  Status Error(std::size_t offset, std::string_view what) const {
    return InvalidArgumentError(fmt::format("{} at character {}", what, Column(offset)));
  }

  // 1-based character (code point) position of a byte offset.
  std::size_t Column(std::size_t offset) const {
    return CountCharacters(text_.substr(0, std::min(offset, text_.size()))) + 1;
  }

  std::string Describe(std::size_t offset) const {
    if (offset >= text_.size()) return "the end of the text";
    const std::size_t len = std::max<std::size_t>(1, Utf8SequenceLength(text_, offset));
    return fmt::format("'{}'", text_.substr(offset, len));
  }

  void SkipSpaces() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }

  bool AtStatesPrefix() const { return text_.substr(pos_).starts_with(kStatesPrefix); }

  bool AtDelimiter(std::size_t offset) const {
    return offset >= text_.size() || IsSpace(text_[offset]) || text_[offset] == ',' ||
           text_[offset] == ')';
  }

  static std::string KnownFunctions() {
    std::string names;
    for (const FunctionSpec& spec : kFunctions) {
      if (!names.empty()) names += ", ";
      names += spec.name;
    }
    return names;
  }

  static const FunctionSpec* FindFunction(std::string_view name) {
    for (const FunctionSpec& spec : kFunctions) {
      if (spec.name == name) return &spec;
    }
    return nullptr;
  }

  static const FunctionSpec* FindFunctionIgnoringCase(std::string_view name) {
    for (const FunctionSpec& spec : kFunctions) {
      if (spec.name.size() == name.size() &&
          std::equal(name.begin(), name.end(), spec.name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return &spec;
      }
    }
    return nullptr;
  }

  Result<Node> ParseCall() {
    const std::size_t start = pos_;
    if (++calls_ > kMaxCalls) {
      return Error(start, fmt::format("too many intrinsic function calls: at most {} are allowed "
                                      "in one field, and call number {} starts",
                                      kMaxCalls, calls_));
    }
    pos_ += kStatesPrefix.size();
    while (pos_ < text_.size() && IsWordChar(text_[pos_])) ++pos_;
    const std::string_view name = text_.substr(start, pos_ - start);
    const FunctionSpec* spec = FindFunction(name);
    if (spec == nullptr) {
      const FunctionSpec* near = FindFunctionIgnoringCase(name);
      if (near != nullptr) {
        return InvalidArgumentError(
            fmt::format("unknown intrinsic function {} at character {}; did you mean {}?", name,
                        Column(start), near->name));
      }
      return InvalidArgumentError(
          fmt::format("unknown intrinsic function {} at character {}; known functions: {}", name,
                      Column(start), KnownFunctions()));
    }
    SkipSpaces();
    if (pos_ >= text_.size() || text_[pos_] != '(') {
      return Error(pos_,
                   fmt::format("expected '(' after {}, but found {}", spec->name, Describe(pos_)));
    }
    ++pos_;
    Node node;
    node.kind = Node::Kind::kCall;
    node.column = Column(start);
    node.function = spec->function;
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == ')') {
      ++pos_;
    } else {
      while (true) {
        SkipSpaces();
        ZFLOW_ASSIGN_OR_RETURN(Node arg, ParseArgument(*spec, start));
        node.args.push_back(std::move(arg));
        SkipSpaces();
        if (pos_ >= text_.size()) {
          return Error(pos_, fmt::format("missing ')' to close the call of {} that starts at "
                                         "character {}; reached the end of the text",
                                         spec->name, Column(start)));
        }
        if (text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (text_[pos_] == ')') {
          ++pos_;
          break;
        }
        return Error(pos_, fmt::format("expected ',' or ')' in the arguments of {}, but found {}",
                                       spec->name, Describe(pos_)));
      }
    }
    ZFLOW_RETURN_IF_ERROR(CheckCall(*spec, node, start));
    return node;
  }

  Result<Node> ParseArgument(const FunctionSpec& spec, std::size_t call_start) {
    if (pos_ >= text_.size()) {
      return Error(pos_, fmt::format("missing ')' to close the call of {} that starts at "
                                     "character {}; reached the end of the text",
                                     spec.name, Column(call_start)));
    }
    const char c = text_[pos_];
    if (c == '\'') return ParseString();
    if (c == '-' || IsDigit(c)) return ParseNumber();
    if (c == '$') return ParsePath();
    if (AtStatesPrefix()) return ParseCall();
    if (IsWordChar(c)) {
      std::size_t end = pos_;
      while (end < text_.size() && IsWordChar(text_[end])) ++end;
      const std::string_view word = text_.substr(pos_, end - pos_);
      if (AtDelimiter(end)) {
        Node node;
        node.column = Column(pos_);
        if (word == "true" || word == "false") {
          node.literal = (word == "true");
          pos_ = end;
          return node;
        }
        if (word == "null") {
          pos_ = end;
          return node;
        }
      }
      return Error(pos_, fmt::format("unexpected '{}' where an argument of {} was expected; an "
                                     "argument is a 'quoted string', a number, true, false, null, "
                                     "a path ($.x, $$.Execution.Id, $var) or a States.* call",
                                     word, spec.name));
    }
    if (c == ',' || c == ')') {
      return Error(pos_,
                   fmt::format("missing argument of {} before {}", spec.name, Describe(pos_)));
    }
    return Error(pos_, fmt::format("unexpected {} where an argument of {} was expected",
                                   Describe(pos_), spec.name));
  }

  // 'text' with the escapes \' \{ \} \\ ; an unescaped "{}" is a States.Format placeholder.
  Result<Node> ParseString() {
    const std::size_t open = pos_;
    ++pos_;
    Node node;
    node.column = Column(open);
    std::string value;
    node.format_pieces.emplace_back();
    while (true) {
      if (pos_ >= text_.size()) {
        return Error(open, "unterminated string literal (no closing ') starting");
      }
      const char c = text_[pos_];
      if (c == '\'') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) {
          return Error(open, "unterminated string literal (no closing ') starting");
        }
        const char escaped = text_[pos_ + 1];
        if (escaped != '\'' && escaped != '{' && escaped != '}' && escaped != '\\') {
          const std::string_view sequence =
              text_.substr(pos_, 1 + std::max<std::size_t>(1, Utf8SequenceLength(text_, pos_ + 1)));
          return Error(pos_, fmt::format("invalid escape sequence '{}' in a string literal; only "
                                         "\\', \\{{, \\}} and \\\\ are escapes (write \\\\ for a "
                                         "backslash)",
                                         sequence));
        }
        value += escaped;
        node.format_pieces.back() += escaped;
        pos_ += 2;
        continue;
      }
      // "${Name}": a CloudFormation DefinitionSubstitutions placeholder, replaced before AWS
      // sees the definition; kept as literal text.
      if (c == '$' && pos_ + 2 < text_.size() && text_[pos_ + 1] == '{') {
        std::size_t end = pos_ + 2;
        while (end < text_.size() && std::isalnum(static_cast<unsigned char>(text_[end]))) ++end;
        if (end < text_.size() && text_[end] == '}' && end > pos_ + 2) {
          std::string_view placeholder = text_.substr(pos_, end + 1 - pos_);
          value += placeholder;
          node.format_pieces.back() += placeholder;
          pos_ = end + 1;
          continue;
        }
      }
      if (c == '{') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '}') {
          value += "{}";
          node.format_pieces.emplace_back();
          pos_ += 2;
          continue;
        }
      }
      if (c == '{' || c == '}') {
        if (node.lone_brace == 0) node.lone_brace = Column(pos_);
      }
      value += c;
      node.format_pieces.back() += c;
      ++pos_;
    }
    node.literal = json::string(value);
    return node;
  }

  // JSON-style numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? . Integers stay integers.
  Result<Node> ParseNumber() {
    const std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !IsDigit(text_[pos_])) {
      return Error(start, "expected digits after '-' in a number");
    }
    if (text_[pos_] == '0' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1])) {
      return Error(start, "leading zeros are not allowed in a number");
    }
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    bool integer = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integer = false;
      ++pos_;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) {
        return Error(pos_, "expected digits after the decimal point of a number");
      }
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) {
        return Error(pos_, "expected digits in the exponent of a number");
      }
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (!AtDelimiter(pos_)) {
      return Error(pos_, fmt::format("unexpected {} after the number that starts at character {}",
                                     Describe(pos_), Column(start)));
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    Node node;
    node.column = Column(start);
    if (integer) {
      std::int64_t i = 0;
      const auto res = std::from_chars(token.data(), token.data() + token.size(), i);
      if (res.ec == std::errc()) {
        node.literal = i;
        return node;
      }
      // Too large for int64: fall through and keep it as a double, as JSON parsers do.
    }
    double d = 0;
    const auto res = std::from_chars(token.data(), token.data() + token.size(), d);
    if (res.ec != std::errc() || !std::isfinite(d)) {
      return Error(start, fmt::format("the number {} is out of range", token));
    }
    node.literal = d;
    return node;
  }

  // A path runs to the next ',', ')' or space outside brackets and quotes; the path compiler
  // checks the rest.
  Result<Node> ParsePath() {
    const std::size_t start = pos_;
    std::vector<std::size_t> open;  // offsets of the unclosed '[' and '('
    char quote = 0;
    std::size_t quote_start = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (quote != 0) {
        if (c == '\\') {
          pos_ += 2;
          continue;
        }
        if (c == quote) quote = 0;
        ++pos_;
        continue;
      }
      if (open.empty() && (c == ',' || c == ')' || IsSpace(c))) break;
      if (c == '[' || c == '(') {
        open.push_back(pos_);
      } else if (c == ']' || c == ')') {
        if (open.empty()) {  // a stray ']'; the path compiler reports it
          ++pos_;
          continue;
        }
        if (text_[open.back()] != (c == ']' ? '[' : '(')) break;  // mismatched; reported below
        open.pop_back();
      } else if (!open.empty() && (c == '\'' || c == '"')) {
        quote = c;
        quote_start = pos_;
      }
      ++pos_;
    }
    if (quote != 0) {
      return Error(quote_start, "unterminated quoted name in the path argument, starting");
    }
    if (!open.empty()) {
      return Error(open.back(), fmt::format("unclosed '{}' in the path argument that starts at "
                                            "character {}; the '{}' is",
                                            text_[open.back()], Column(start), text_[open.back()]));
    }
    pos_ = std::min(pos_, text_.size());
    const std::string_view path_text = text_.substr(start, pos_ - start);
    Result<JsonPath> path = JsonPath::Compile(path_text);
    if (!path.ok()) {
      return InvalidArgumentError(fmt::format("invalid path argument at character {}: {}",
                                              Column(start), path.status().message()));
    }
    Node node;
    node.kind = Node::Kind::kPath;
    node.column = Column(start);
    node.path.emplace(std::move(path).value());
    return node;
  }

  // Arity and what is known statically about literal arguments.
  Status CheckCall(const FunctionSpec& spec, const Node& call, std::size_t start) const {
    const std::size_t n = call.args.size();
    if (n < spec.min_args || n > spec.max_args) {
      std::string expected;
      if (spec.min_args == spec.max_args) {
        expected = fmt::format("exactly {} {}", spec.min_args,
                               Plural(spec.min_args, "argument", "arguments"));
      } else if (spec.max_args == kUnbounded) {
        expected = fmt::format("at least {} {}", spec.min_args,
                               Plural(spec.min_args, "argument", "arguments"));
      } else {
        expected = fmt::format("{} to {} arguments", spec.min_args, spec.max_args);
      }
      return Error(start, fmt::format("{} takes {}, but {} {} given in the call", spec.name,
                                      expected, n, Plural(n, "was", "were")));
    }
    for (std::size_t i = 0; i < n; ++i) {
      const Node& arg = call.args[i];
      if (arg.kind != Node::Kind::kLiteral) continue;
      const ArgType type = TypeOfParameter(spec, i);
      if (!Matches(type, arg.literal)) {
        return InvalidArgumentError(fmt::format(
            "the {} argument of {} must be {}, but the literal {} at character {} is {}",
            Ordinal(i + 1), spec.name, ArgTypeName(type), Preview(arg.literal), arg.column,
            KindName(arg.literal)));
      }
    }
    switch (spec.function) {
      case Function::kFormat: {
        const Node& format = call.args[0];
        if (format.kind == Node::Kind::kLiteral && format.lone_brace != 0) {
          return InvalidArgumentError(fmt::format(
              "unescaped brace in the format string of States.Format at character {}; write "
              "\\{{ or \\}} for a literal brace ('{{}}' is a placeholder)",
              format.lone_brace));
        }
        if (format.kind == Node::Kind::kLiteral) {
          const std::size_t placeholders = format.format_pieces.size() - 1;
          if (placeholders != n - 1) {
            return InvalidArgumentError(fmt::format(
                "the format string of States.Format at character {} has {} {{}} {} but {} {} "
                "{}; write \\{{ and \\}} for literal braces",
                format.column, placeholders, Plural(placeholders, "placeholder", "placeholders"),
                n - 1, Plural(n - 1, "value", "values"), Plural(n - 1, "follows", "follow")));
          }
        }
        break;
      }
      case Function::kHash: {
        const Node& algorithm = call.args[1];
        if (algorithm.kind == Node::Kind::kLiteral &&
            std::find(kHashAlgorithms.begin(), kHashAlgorithms.end(),
                      algorithm.literal.get_string()) == kHashAlgorithms.end()) {
          return InvalidArgumentError(fmt::format(
              "unsupported hash algorithm {} at character {}; States.Hash supports MD5, SHA-1, "
              "SHA-256, SHA-384 and SHA-512",
              Preview(algorithm.literal), algorithm.column));
        }
        break;
      }
      case Function::kJsonMerge: {
        const Node& deep = call.args[2];
        if (deep.kind == Node::Kind::kLiteral && deep.literal.get_bool()) {
          return InvalidArgumentError(fmt::format(
              "States.JsonMerge supports only shallow merging: its 3rd argument (character {}) "
              "must be false",
              deep.column));
        }
        break;
      }
      default:
        break;
    }
    return Status::Ok();
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t calls_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation helpers.

WorkflowError Failure(std::string cause) {
  return WorkflowError{std::string(errors::kIntrinsicFailure), std::move(cause)};
}

// The evaluated arguments of one call, with the accessors that check their types.
class Arguments {
 public:
  Arguments(const FunctionSpec& spec, std::vector<json::value> values)
      : spec_(spec), values_(std::move(values)) {}

  std::size_t size() const { return values_.size(); }
  const json::value& operator[](std::size_t i) const { return values_[i]; }
  std::string_view function() const { return spec_.name; }

  WorkflowError TypeError(std::size_t i, std::string_view expected) const {
    return Failure(fmt::format("The {} argument of {} must be {}, but it is {}: {}", Ordinal(i + 1),
                               spec_.name, expected, KindName(values_[i]), Preview(values_[i])));
  }
  WorkflowError ValueError(std::size_t i, std::string_view what) const {
    return Failure(fmt::format("The {} argument of {} {}", Ordinal(i + 1), spec_.name, what));
  }

  Outcome<const json::string*> String(std::size_t i) const {
    if (!values_[i].is_string()) return TypeError(i, "a string");
    return &values_[i].get_string();
  }
  Outcome<const json::array*> Array(std::size_t i) const {
    if (!values_[i].is_array()) return TypeError(i, "an array");
    return &values_[i].get_array();
  }
  Outcome<const json::object*> Object(std::size_t i) const {
    if (!values_[i].is_object()) return TypeError(i, "an object");
    return &values_[i].get_object();
  }
  Outcome<bool> Boolean(std::size_t i) const {
    if (!values_[i].is_bool()) return TypeError(i, "a boolean");
    return values_[i].get_bool();
  }

  // An integer. kRound rounds other numbers half up, like Java's Math.round, which AWS documents
  // for ArrayPartition, ArrayRange, MathRandom and MathAdd; kExact rejects them.
  enum class Rounding : std::uint8_t { kRound, kExact };
  Outcome<std::int64_t> Integer(std::size_t i, Rounding rounding) const {
    const json::value& v = values_[i];
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
      if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return ValueError(i, fmt::format("is too large: {}", v.get_uint64()));
      }
      return static_cast<std::int64_t>(v.get_uint64());
    }
    if (!v.is_double()) return TypeError(i, "an integer");
    double d = v.get_double();
    const double floor = std::floor(d);
    if (rounding == Rounding::kExact && floor != d) return TypeError(i, "an integer");
    d = (d - floor >= 0.5) ? floor + 1 : floor;  // d - floor is exact for every double
    // 2^63 is exactly representable; anything at or past it does not fit.
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
      return ValueError(i, fmt::format("is out of the 64-bit integer range: {}", Preview(v)));
    }
    return static_cast<std::int64_t>(d);
  }

 private:
  const FunctionSpec& spec_;
  std::vector<json::value> values_;
};

using Rounding = Arguments::Rounding;

// Number equality across int64/uint64/double (1 == 1.0); otherwise structural equality with
// objects compared irrespective of member order.
bool JsonEqual(const json::value& a, const json::value& b);

std::optional<__int128> IntegralValue(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::floor(d) == d && std::fabs(d) < 1.7e38) return static_cast<__int128>(d);
  }
  return std::nullopt;
}

bool NumbersEqual(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) return a.get_double() == b.get_double();
  const auto ia = IntegralValue(a);
  const auto ib = IntegralValue(b);
  return ia && ib && *ia == *ib;
}

bool JsonEqual(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return NumbersEqual(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!JsonEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& member : x) {
        const json::value* other = y.if_contains(member.key());
        if (other == nullptr || !JsonEqual(member.value(), *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

// A hash consistent with JsonEqual.
std::size_t JsonHash(const json::value& v) {
  constexpr std::size_t kMix = 0x9E3779B97F4A7C15ULL;
  auto combine = [](std::size_t seed, std::size_t h) {
    return seed ^ (h + kMix + (seed << 6) + (seed >> 2));
  };
  switch (v.kind()) {
    case json::kind::null:
      return 0x6E756C6CULL;
    case json::kind::bool_:
      return v.get_bool() ? 0x74727565ULL : 0x66616C73ULL;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      if (auto i = IntegralValue(v)) {
        const auto u = static_cast<unsigned __int128>(*i);
        return combine(std::hash<std::uint64_t>{}(static_cast<std::uint64_t>(u)),
                       std::hash<std::uint64_t>{}(static_cast<std::uint64_t>(u >> 64)));
      }
      return std::hash<double>{}(v.get_double());
    }
    case json::kind::string:
      return std::hash<std::string_view>{}(v.get_string());
    case json::kind::array: {
      std::size_t seed = 0x5B5D;
      for (const json::value& e : v.get_array()) seed = combine(seed, JsonHash(e));
      return seed;
    }
    case json::kind::object: {
      std::size_t sum = 0x7B7D;  // order-independent
      for (const auto& member : v.get_object()) {
        sum += combine(std::hash<std::string_view>{}(member.key()), JsonHash(member.value()));
      }
      return sum;
    }
  }
  return 0;
}

// How States.Format renders a value: strings as they are, other scalars as JSON, arrays and
// objects the way AWS's Java runtime prints collections ("[a, 1]", "{k=v, n=1}").
void AppendFormatted(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::string:
      out += v.get_string();
      return;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        AppendFormatted(e, out);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += member.key();
        out += '=';
        AppendFormatted(member.value(), out);
      }
      out += '}';
      return;
    }
    default:
      out += ToJsonText(v);
      return;
  }
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(data[i]) << 16) |
                            (static_cast<unsigned char>(data[i + 1]) << 8) |
                            static_cast<unsigned char>(data[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Standard alphabet. Line breaks (as MIME inserts them) are skipped; padding may be omitted.
// Returns the byte offset of the first offending character on failure.
struct Base64Decoded {
  std::string data;
  std::optional<std::size_t> bad_offset;
};

Base64Decoded Base64Decode(std::string_view text) {
  Base64Decoded result;
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  std::size_t symbols = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const std::size_t index = kBase64Alphabet.find(c);
    if (index == std::string_view::npos || padding > 0) {
      result.bad_offset = i;
      return result;
    }
    ++symbols;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      result.data += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  // A lone symbol in the last group, or more padding than the group needs, is malformed.
  if (symbols % 4 == 1 || padding > 2 || (padding > 0 && (symbols + padding) % 4 != 0)) {
    result.bad_offset = text.size();
  }
  return result;
}

// java.util.Random, used for seeded States.MathRandom so that a seed always yields the same
// numbers. (Whether AWS uses this generator is not documented; seeded outputs may differ.)
class JavaRandom {
 public:
  explicit JavaRandom(std::int64_t seed)
      : state_((static_cast<std::uint64_t>(seed) ^ kMultiplier) & kMask) {}

  std::int32_t Next(int bits) {
    state_ = (state_ * kMultiplier + 0xB) & kMask;
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(state_ >> (48 - bits)));
  }

  // Uniform in [0, bound), bound > 0, exactly as Random.nextInt(int).
  std::int32_t NextInt(std::int32_t bound) {
    std::int32_t r = Next(31);
    const std::int32_t m = bound - 1;
    if ((bound & m) == 0) {
      return static_cast<std::int32_t>((static_cast<std::int64_t>(bound) * r) >> 31);
    }
    // Java rejects a draw when u - r + m overflows int; compute it wide instead of wrapping.
    std::int32_t u = r;
    while (true) {
      r = u % bound;
      if (static_cast<std::int64_t>(u) - r + m <= std::numeric_limits<std::int32_t>::max()) {
        return r;
      }
      u = Next(31);
    }
  }

  std::uint64_t NextLong() {
    const auto hi = static_cast<std::uint64_t>(static_cast<std::int64_t>(Next(32)));
    const auto lo = static_cast<std::uint64_t>(static_cast<std::int64_t>(Next(32)));
    return (hi << 32) + lo;
  }

 private:
  static constexpr std::uint64_t kMultiplier = 0x5DEECE66DULL;
  static constexpr std::uint64_t kMask = (std::uint64_t{1} << 48) - 1;
  std::uint64_t state_;
};

// The generator used when the context injects none. Shared by all threads.
class ProcessRandomSource final : public RandomSource {
 public:
  ProcessRandomSource() {
    std::random_device device;
    std::seed_seq seq{device(), device(), device(), device()};
    engine_.seed(seq);
  }
  std::uint64_t Next() override {
    std::lock_guard<std::mutex> lock(mu_);
    return engine_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // guarded by mu_
};

}  // namespace

RandomSource& RandomFor(const EvaluationContext& ctx) {
  if (ctx.random != nullptr) return *ctx.random;
  static ProcessRandomSource process_random;
  return process_random;
}

double SeededRandomDouble(std::int64_t seed) {
  JavaRandom random(seed);
  std::int64_t high = random.Next(26);
  std::int64_t low = random.Next(27);
  return static_cast<double>((high << 27) + low) * 0x1.0p-53;
}

std::optional<std::string> HashHex(std::string_view data, std::string_view name) {
  const EVP_MD* md = nullptr;
  if (name == "MD5") {
    md = EVP_md5();
  } else if (name == "SHA-1") {
    md = EVP_sha1();
  } else if (name == "SHA-256") {
    md = EVP_sha256();
  } else if (name == "SHA-384") {
    md = EVP_sha384();
  } else if (name == "SHA-512") {
    md = EVP_sha512();
  } else {
    return std::nullopt;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (md == nullptr ||
      EVP_Digest(data.data(), data.size(), digest.data(), &length, md, nullptr) != 1) {
    return std::nullopt;
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

namespace {

// Uniform in [0, range) from one 64-bit draw (multiply-shift; bias below range / 2^64).
std::uint64_t Below(std::uint64_t draw, std::uint64_t range) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(draw) * range) >> 64);
}

// ---------------------------------------------------------------------------------------------
// The functions.

Outcome<json::value> Evaluate(const Node& node, const EvaluationContext& ctx);

Outcome<json::value> Format(const Node& call, const Arguments& args) {
  std::vector<std::string> runtime_pieces;
  const std::vector<std::string>* pieces = nullptr;
  const Node& first = call.args[0];
  if (first.kind == Node::Kind::kLiteral && first.literal.is_string()) {
    pieces = &first.format_pieces;
  } else {
    ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* format, args.String(0));
    std::string_view rest = *format;
    runtime_pieces.emplace_back();
    for (std::size_t at = rest.find("{}"); at != std::string_view::npos; at = rest.find("{}")) {
      runtime_pieces.back() += rest.substr(0, at);
      runtime_pieces.emplace_back();
      rest.remove_prefix(at + 2);
    }
    runtime_pieces.back() += rest;
    pieces = &runtime_pieces;
  }
  const std::size_t placeholders = pieces->size() - 1;
  if (placeholders != args.size() - 1) {
    return Failure(fmt::format(
        "The format string of States.Format has {} {{}} {} but {} {} given: {}", placeholders,
        Plural(placeholders, "placeholder", "placeholders"), args.size() - 1,
        Plural(args.size() - 1, "value was", "values were"), Preview(args[0])));
  }
  std::string out = (*pieces)[0];
  for (std::size_t i = 1; i < args.size(); ++i) {
    AppendFormatted(args[i], out);
    out += (*pieces)[i];
  }
  return json::value(json::string(out));
}

Outcome<json::value> StringToJson(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* text, args.String(0));
  const std::string_view view = *text;
  if (std::all_of(view.begin(), view.end(), IsSpace)) return json::value(nullptr);
  Result<ParsedJson> parsed =
      ParseJson(view, {.record_locations = false, .reject_duplicate_keys = false});
  if (!parsed.ok()) {
    return args.ValueError(
        0, fmt::format("is not valid JSON ({}): {}", parsed.status().message(), Preview(args[0])));
  }
  return std::move(parsed->value);
}

Outcome<json::value> ArrayPartition(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::array* array, args.Array(0));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t size, args.Integer(1, Rounding::kRound));
  if (size <= 0) {
    return args.ValueError(1, fmt::format("(the chunk size) must be a positive integer, but it is "
                                          "{}",
                                          size));
  }
  json::array chunks;
  const auto chunk = static_cast<std::uint64_t>(size);
  for (std::size_t i = 0; i < array->size(); i += std::min<std::uint64_t>(chunk, array->size())) {
    const std::size_t end = std::min<std::uint64_t>(array->size(), i + chunk);
    chunks.emplace_back(json::array(array->begin() + static_cast<std::ptrdiff_t>(i),
                                    array->begin() + static_cast<std::ptrdiff_t>(end)));
  }
  return json::value(std::move(chunks));
}

Outcome<json::value> ArrayContains(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::array* array, args.Array(0));
  const json::value& needle = args[1];
  return json::value(std::any_of(array->begin(), array->end(),
                                 [&](const json::value& e) { return JsonEqual(e, needle); }));
}

Outcome<json::value> ArrayRange(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t start, args.Integer(0, Rounding::kRound));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t end, args.Integer(1, Rounding::kRound));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t step, args.Integer(2, Rounding::kRound));
  if (step == 0) return args.ValueError(2, "(the step) must not be 0");
  // AWS requires a non-zero step; a negative one counts down. End is inclusive.
  const __int128 span = static_cast<__int128>(end) - start;
  __int128 count = 0;
  if ((step > 0 && span >= 0) || (step < 0 && span <= 0)) count = span / step + 1;
  if (count > static_cast<__int128>(kMaxRangeItems)) {
    return Failure(
        fmt::format("States.ArrayRange({}, {}, {}) would create {} items; an array "
                    "made by States.ArrayRange can have at most {}",
                    start, end, step, static_cast<std::uint64_t>(count), kMaxRangeItems));
  }
  json::array out;
  out.reserve(static_cast<std::size_t>(count));
  for (__int128 k = 0; k < count; ++k)
    out.emplace_back(static_cast<std::int64_t>(start + k * step));
  return json::value(std::move(out));
}

Outcome<json::value> ArrayGetItem(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::array* array, args.Array(0));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t index, args.Integer(1, Rounding::kExact));
  if (index < 0 || static_cast<std::uint64_t>(index) >= array->size()) {
    return args.ValueError(1,
                           fmt::format("(the index) is {}, which is out of range for an array "
                                       "of {} {} (valid indexes are 0 to {})",
                                       index, array->size(), Plural(array->size(), "item", "items"),
                                       static_cast<std::int64_t>(array->size()) - 1));
  }
  return (*array)[static_cast<std::size_t>(index)];
}

Outcome<json::value> ArrayUnique(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::array* array, args.Array(0));
  json::array out;
  std::unordered_multimap<std::size_t, std::size_t> seen;  // hash -> index in `out`
  for (const json::value& e : *array) {
    const std::size_t h = JsonHash(e);
    const auto [first, last] = seen.equal_range(h);
    const bool duplicate = std::any_of(
        first, last, [&](const auto& entry) { return JsonEqual(out[entry.second], e); });
    if (duplicate) continue;
    seen.emplace(h, out.size());
    out.push_back(e);
  }
  return json::value(std::move(out));
}

Outcome<const json::string*> LimitedString(const Arguments& args, std::size_t i) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* s, args.String(i));
  const std::size_t chars = CountCharacters(*s);
  if (chars > kMaxEncodingInput) {
    return args.ValueError(i, fmt::format("is {} characters long; {} accepts at most {}", chars,
                                          args.function(), kMaxEncodingInput));
  }
  return s;
}

Outcome<json::value> Base64EncodeFn(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* s, LimitedString(args, 0));
  return json::value(json::string(Base64Encode(*s)));
}

Outcome<json::value> Base64DecodeFn(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* s, LimitedString(args, 0));
  Base64Decoded decoded = Base64Decode(*s);
  if (decoded.bad_offset) {
    return args.ValueError(
        0, fmt::format("is not valid Base64 (at character {}): {}",
                       CountCharacters(std::string_view(*s).substr(0, *decoded.bad_offset)) + 1,
                       Preview(args[0])));
  }
  if (FindInvalidUtf8(decoded.data)) {
    return args.ValueError(0,
                           "decodes to bytes that are not UTF-8 text, which a JSON string "
                           "cannot hold");
  }
  return json::value(json::string(decoded.data));
}

Outcome<json::value> Hash(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* data, LimitedString(args, 0));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* algorithm, args.String(1));
  const std::string_view name = *algorithm;
  std::optional<std::string> hex = HashHex(*data, name);
  if (!hex) {
    if (std::find(kHashAlgorithms.begin(), kHashAlgorithms.end(), name) != kHashAlgorithms.end()) {
      return Failure(
          fmt::format("States.Hash could not compute {} (the crypto library refused)", name));
    }
    return args.ValueError(1, fmt::format("(the algorithm) must be one of MD5, SHA-1, SHA-256, "
                                          "SHA-384 or SHA-512, but it is {}",
                                          Preview(args[1])));
  }
  return json::value(json::string(*hex));
}

Outcome<json::value> JsonMerge(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::object* first, args.Object(0));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::object* second, args.Object(1));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const bool deep, args.Boolean(2));
  if (deep) {
    return args.ValueError(2, "must be false: Step Functions supports only shallow merging");
  }
  json::object merged = *first;
  for (const auto& member : *second) merged[member.key()] = member.value();
  return json::value(std::move(merged));
}

Outcome<json::value> MathRandom(const Arguments& args, const EvaluationContext& ctx) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t start, args.Integer(0, Rounding::kRound));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t end, args.Integer(1, Rounding::kRound));
  // AWS: start inclusive, end exclusive, so end must exceed start.
  if (end <= start) {
    return Failure(
        fmt::format("States.MathRandom returns a number from start (inclusive) to end "
                    "(exclusive), so end must be greater than start, but start is {} "
                    "and end is {}",
                    start, end));
  }
  const auto range = static_cast<std::uint64_t>(static_cast<__int128>(end) - start);
  std::uint64_t offset = 0;
  if (args.size() == 3) {
    ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t seed, args.Integer(2, Rounding::kRound));
    JavaRandom random(seed);
    if (range <= static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) {
      offset = static_cast<std::uint64_t>(random.NextInt(static_cast<std::int32_t>(range)));
    } else {
      offset = Below(random.NextLong(), range);
    }
  } else {
    offset = Below(RandomFor(ctx).Next(), range);
  }
  return json::value(static_cast<std::int64_t>(static_cast<__int128>(start) + offset));
}

Outcome<json::value> MathAdd(const Arguments& args) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const std::int64_t v, args.Integer(i, Rounding::kRound));
    if (v < std::numeric_limits<std::int32_t>::min() ||
        v > std::numeric_limits<std::int32_t>::max()) {
      return args.ValueError(i, fmt::format("is {}, outside the range -2147483648 to 2147483647 "
                                            "that States.MathAdd accepts",
                                            v));
    }
    sum += v;
  }
  return json::value(sum);
}

// Every character of the second argument separates; empty parts are dropped (as Java's
// StringTokenizer does): StringSplit('a,,b', ',') is ["a","b"].
Outcome<json::value> StringSplit(const Arguments& args) {
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* text, args.String(0));
  ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::string* delimiters, args.String(1));
  std::vector<std::string_view> separators;
  const std::string_view delims = *delimiters;
  for (std::size_t i = 0; i < delims.size();) {
    const std::size_t len = std::max<std::size_t>(1, Utf8SequenceLength(delims, i));
    separators.push_back(delims.substr(i, len));
    i += len;
  }
  json::array parts;
  const std::string_view s = *text;
  std::size_t part_start = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = std::max<std::size_t>(1, Utf8SequenceLength(s, i));
    const std::string_view ch = s.substr(i, len);
    if (std::find(separators.begin(), separators.end(), ch) != separators.end()) {
      if (i > part_start) parts.emplace_back(json::string(s.substr(part_start, i - part_start)));
      part_start = i + len;
    }
    i += len;
  }
  if (s.size() > part_start) parts.emplace_back(json::string(s.substr(part_start)));
  return json::value(std::move(parts));
}

Outcome<json::value> Uuid(const EvaluationContext& ctx) {
  RandomSource& random = RandomFor(ctx);
  std::uint64_t hi = random.Next();
  return json::value(FormatUuid(hi, random.Next()));
}

Outcome<json::value> EvaluateCall(const Node& call, const EvaluationContext& ctx) {
  std::vector<json::value> values;
  values.reserve(call.args.size());
  for (const Node& arg : call.args) {
    ZFLOW_ASSIGN_OUTCOME_OR_RETURN(json::value v, Evaluate(arg, ctx));
    values.push_back(std::move(v));
  }
  const FunctionSpec& spec = SpecOf(call.function);
  const Arguments args(spec, std::move(values));
  switch (call.function) {
    case Function::kFormat:
      return Format(call, args);
    case Function::kStringToJson:
      return StringToJson(args);
    case Function::kJsonToString:
      return json::value(json::string(JsonText(args[0])));
    case Function::kArray: {
      json::array out;
      out.reserve(args.size());
      for (std::size_t i = 0; i < args.size(); ++i) out.push_back(args[i]);
      return json::value(std::move(out));
    }
    case Function::kArrayPartition:
      return ArrayPartition(args);
    case Function::kArrayContains:
      return ArrayContains(args);
    case Function::kArrayRange:
      return ArrayRange(args);
    case Function::kArrayGetItem:
      return ArrayGetItem(args);
    case Function::kArrayLength: {
      ZFLOW_ASSIGN_OUTCOME_OR_RETURN(const json::array* array, args.Array(0));
      return json::value(static_cast<std::int64_t>(array->size()));
    }
    case Function::kArrayUnique:
      return ArrayUnique(args);
    case Function::kBase64Encode:
      return Base64EncodeFn(args);
    case Function::kBase64Decode:
      return Base64DecodeFn(args);
    case Function::kHash:
      return Hash(args);
    case Function::kJsonMerge:
      return JsonMerge(args);
    case Function::kMathRandom:
      return MathRandom(args, ctx);
    case Function::kMathAdd:
      return MathAdd(args);
    case Function::kStringSplit:
      return StringSplit(args);
    case Function::kUuid:
      return Uuid(ctx);
  }
  return Failure(fmt::format("{} is not implemented", spec.name));
}

Outcome<json::value> Evaluate(const Node& node, const EvaluationContext& ctx) {
  switch (node.kind) {
    case Node::Kind::kLiteral:
      return node.literal;
    case Node::Kind::kPath:
      return node.path->Evaluate(ctx);
    case Node::Kind::kCall:
      return EvaluateCall(node, ctx);
  }
  return Failure("malformed intrinsic call");
}

}  // namespace

bool LooksLikeIntrinsic(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && IsSpace(text[i])) ++i;
  return text.substr(i).starts_with(kStatesPrefix);
}

Result<IntrinsicCall> IntrinsicCall::Parse(std::string_view text) {
  Parser parser(text);
  ZFLOW_ASSIGN_OR_RETURN(Node root, parser.ParseField());
  return IntrinsicCall(std::make_unique<Node>(std::move(root)), std::string(text));
}

IntrinsicCall::IntrinsicCall(std::unique_ptr<Node> root, std::string text)
    : root_(std::move(root)), text_(std::move(text)) {}

IntrinsicCall::IntrinsicCall(IntrinsicCall&&) noexcept = default;
IntrinsicCall& IntrinsicCall::operator=(IntrinsicCall&&) noexcept = default;
IntrinsicCall::~IntrinsicCall() = default;

IntrinsicCall::IntrinsicCall(const IntrinsicCall& other)
    : root_(other.root_ ? std::make_unique<Node>(*other.root_) : nullptr), text_(other.text_) {}

IntrinsicCall& IntrinsicCall::operator=(const IntrinsicCall& other) {
  if (this != &other) {
    root_ = other.root_ ? std::make_unique<Node>(*other.root_) : nullptr;
    text_ = other.text_;
  }
  return *this;
}

Outcome<json::value> IntrinsicCall::Evaluate(const EvaluationContext& ctx) const {
  if (root_ == nullptr) return Failure("the intrinsic call was moved from");
  return asl::Evaluate(*root_, ctx);
}

const std::string& IntrinsicCall::text() const { return text_; }

namespace {

// A string as a JSONata literal.
std::string Quote(std::string_view s) { return JsonataLiteral(json::value(json::string(s))); }

Result<std::string> NodeToJsonata(const Node& node, std::string_view input) {
  switch (node.kind) {
    case Node::Kind::kLiteral:
      return JsonataLiteral(node.literal);
    case Node::Kind::kPath:
      return node.path->ToJsonata(input);
    case Node::Kind::kCall:
      break;
  }
  std::vector<std::string> a;
  for (const Node& arg : node.args) {
    ZFLOW_ASSIGN_OR_RETURN(std::string t, NodeToJsonata(arg, input));
    a.push_back(std::move(t));
  }
  auto arg = [&](std::size_t i) -> const std::string& { return a[i]; };
  // An integer argument, rounded half up as the intrinsics round (JSONata's $round rounds
  // half to even).
  auto integer = [&](std::size_t i) {
    const Node& n = node.args[i];
    if (n.kind == Node::Kind::kLiteral && (n.literal.is_int64() || n.literal.is_uint64())) {
      return a[i];
    }
    return fmt::format("$floor({} + 0.5)", a[i]);
  };
  switch (node.function) {
    case Function::kFormat: {
      const Node& format = node.args[0];
      if (format.kind != Node::Kind::kLiteral || !format.literal.is_string()) {
        return InvalidArgumentError("States.Format with a format string read from a path has "
                                    "no JSONata form");
      }
      if (a.size() == 1) return Quote(format.format_pieces[0]);
      std::string out = "(";
      for (std::size_t i = 0; i < format.format_pieces.size(); ++i) {
        if (i > 0) out += fmt::format("{}$string({})", out.size() > 1 ? " & " : "", arg(i));
        if (!format.format_pieces[i].empty()) {
          out += fmt::format("{}{}", out.size() > 1 ? " & " : "", Quote(format.format_pieces[i]));
        }
      }
      return out + ")";
    }
    case Function::kStringToJson:
      return fmt::format("$parse({})", arg(0));
    case Function::kJsonToString:
      return fmt::format("$string({})", arg(0));
    case Function::kArray: {
      // JSONata's array constructor splices an item that is itself an array (States.Array
      // keeps it whole); a field that is one States.Array call becomes a JSON array of
      // expressions instead (see ArgumentsToJsonata).
      std::string out = "[";
      for (std::size_t i = 0; i < a.size(); ++i) out += (i > 0 ? ", " : "") + arg(i);
      return out + "]";
    }
    case Function::kArrayPartition:
      return fmt::format("$partition({}, {})", arg(0), integer(1));
    case Function::kArrayContains:
      return fmt::format("($count(({})[$ = {}]) > 0)", arg(0), arg(1));
    case Function::kArrayRange:
      return fmt::format("$range({}, {}, {})", integer(0), integer(1), integer(2));
    case Function::kArrayGetItem:
      return fmt::format("({})[{}]", arg(0), arg(1));
    case Function::kArrayLength:
      return fmt::format("$count({})", arg(0));
    case Function::kArrayUnique:
      return fmt::format("$distinct({})", arg(0));
    case Function::kBase64Encode:
      return fmt::format("$base64encode({})", arg(0));
    case Function::kBase64Decode:
      return fmt::format("$base64decode({})", arg(0));
    case Function::kHash:
      return fmt::format("$hash({}, {})", arg(0), arg(1));
    case Function::kJsonMerge:
      return fmt::format("$merge([{}, {}])", arg(0), arg(1));
    case Function::kMathRandom:
      return fmt::format("({0} + $floor($random({2}) * ({1} - {0})))", integer(0), integer(1),
                         a.size() > 2 ? integer(2) : "");
    case Function::kMathAdd:
      return fmt::format("({} + {})", integer(0), integer(1));
    case Function::kStringSplit: {
      // Every character of the second argument separates; empty pieces are dropped.
      const Node& d = node.args[1];
      if (d.kind == Node::Kind::kLiteral && d.literal.is_string() &&
          d.literal.get_string().size() == 1) {
        return fmt::format("[$split({}, {})[$ != \"\"]]", arg(0), arg(1));
      }
      return fmt::format(
          "[$reduce($split({1}, \"\"), function($parts, $c) {{ $parts.$split($, $c) }}, "
          "[{0}])[$ != \"\"]]",
          arg(0), arg(1));
    }
    case Function::kUuid:
      return std::string("$uuid()");
  }
  return InvalidArgumentError("an intrinsic function without a JSONata form");
}

}  // namespace

Result<std::string> IntrinsicCall::ToJsonata(std::string_view input) const {
  Result<std::string> out = NodeToJsonata(*root_, input);
  if (!out.ok()) {
    return InvalidArgumentError(fmt::format("{}: {}", text_, out.status().message()));
  }
  return out;
}

bool IntrinsicCall::is_array() const {
  return root_->kind == Node::Kind::kCall && root_->function == Function::kArray;
}

Result<std::vector<std::string>> IntrinsicCall::ArgumentsToJsonata(std::string_view input) const {
  std::vector<std::string> out;
  for (const Node& arg : root_->args) {
    Result<std::string> t = NodeToJsonata(arg, input);
    if (!t.ok()) {
      return InvalidArgumentError(fmt::format("{}: {}", text_, t.status().message()));
    }
    out.push_back(std::move(*t));
  }
  return out;
}

}  // namespace zflow::asl

#undef ZFLOW_ASSIGN_OUTCOME_OR_RETURN_IMPL_
#undef ZFLOW_ASSIGN_OUTCOME_OR_RETURN
