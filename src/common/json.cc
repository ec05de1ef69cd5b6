#include "zflow/json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <fmt/format.h>

#include "common/json_careful.h"

namespace zflow {

namespace {

constexpr std::size_t kBlock = 256;  // continuation-byte counts are kept per block

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Decodes the (valid) JSON string starting at text[pos] == '"'; returns the position after it.
std::size_t DecodeString(std::string_view text, std::size_t pos, std::string* out) {
  ++pos;
  while (pos < text.size() && text[pos] != '"') {
    char c = text[pos];
    if (c != '\\') {
      if (out != nullptr) out->push_back(c);
      ++pos;
      continue;
    }
    char e = pos + 1 < text.size() ? text[pos + 1] : '"';
    pos += 2;
    if (e != 'u') {
      if (out != nullptr) {
        switch (e) {
          case 'b': out->push_back('\b'); break;
          case 'f': out->push_back('\f'); break;
          case 'n': out->push_back('\n'); break;
          case 'r': out->push_back('\r'); break;
          case 't': out->push_back('\t'); break;
          default: out->push_back(e);
        }
      }
      continue;
    }
    auto hex4 = [&](std::size_t at) {
      unsigned v = 0;
      for (std::size_t i = at; i < at + 4 && i < text.size(); ++i) {
        char h = text[i];
        v = v * 16 + static_cast<unsigned>(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
      }
      return v;
    };
    unsigned cp = hex4(pos);
    pos += 4;
    if (cp >= 0xD800 && cp < 0xDC00 && pos + 6 <= text.size() && text[pos] == '\\' &&
        text[pos + 1] == 'u') {
      unsigned low = hex4(pos + 2);
      if (low >= 0xDC00 && low < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        pos += 6;
      }
    }
    if (out == nullptr) continue;
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return pos + 1;
}

std::size_t SkipSpaces(std::string_view text, std::size_t pos) {
  while (pos < text.size() && IsSpace(text[pos])) ++pos;
  return pos;
}

// The position after the (valid) JSON value starting at `pos`; iterative, so depth costs no
// stack.
std::size_t SkipValue(std::string_view text, std::size_t pos) {
  std::size_t depth = 0;
  do {
    pos = SkipSpaces(text, pos);
    if (pos >= text.size()) return pos;
    char c = text[pos];
    if (c == '"') {
      pos = DecodeString(text, pos, nullptr);
    } else if (c == '{' || c == '[') {
      ++depth;
      ++pos;
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
      ++pos;
    } else if (c == ',' || c == ':') {
      ++pos;
    } else {
      while (pos < text.size() && !IsSpace(text[pos]) && text[pos] != ',' && text[pos] != '}' &&
             text[pos] != ']') {
        ++pos;
      }
    }
  } while (depth > 0);
  return pos;
}

}  // namespace

struct SourceMap::Impl {
  std::string owned;      // the text, unless borrowed
  std::string_view text;  // the text looked at (`owned`, or the borrower's)
  std::size_t root = 0;        // where the root value starts
  std::size_t first_line = 0;  // where line 1 starts (after a byte order mark)
  std::mutex mu;               // guards what follows, built on first use
  std::vector<std::size_t> line_starts;
  std::vector<std::uint32_t> continuation_before_block;
  struct Member {
    std::string token;  // the member name, unescaped, or the array index in decimal
    std::size_t key = 0;
    std::size_t value = 0;
  };
  struct Container {
    std::vector<Member> members;
    std::unordered_map<std::string_view, const Member*> by_token;  // the last of a name
  };
  std::unordered_map<std::size_t, Container> containers;  // by opening offset

  // The member named `token` of the container opening at `open`, or null.
  const Member* Find(std::size_t open, const std::string& token) {
    auto it = containers.find(open);
    if (it == containers.end()) it = containers.emplace(open, Scan(open)).first;
    auto m = it->second.by_token.find(token);
    return m == it->second.by_token.end() ? nullptr : m->second;
  }

  Container Scan(std::size_t open) const {
    Container c;
    const bool object = text[open] == '{';
    std::size_t pos = open + 1;
    for (std::size_t index = 0;; ++index) {
      pos = SkipSpaces(text, pos);
      if (pos >= text.size() || text[pos] == '}' || text[pos] == ']') break;
      Member m;
      if (object) {
        m.key = pos;
        pos = DecodeString(text, pos, &m.token);
        pos = SkipSpaces(text, pos);
        if (pos < text.size() && text[pos] == ':') ++pos;
        pos = SkipSpaces(text, pos);
      } else {
        m.token = std::to_string(index);
        m.key = pos;
      }
      m.value = pos;
      pos = SkipSpaces(text, SkipValue(text, pos));
      c.members.push_back(std::move(m));
      if (pos < text.size() && text[pos] == ',') ++pos;
    }
    c.by_token.reserve(c.members.size());
    for (const Member& m : c.members) c.by_token.insert_or_assign(m.token, &m);
    return c;
  }

  SourceLocation At(std::size_t pos) {
    if (line_starts.empty()) {
      line_starts.push_back(first_line);
      for (std::size_t i = first_line; i < text.size(); ++i) {
        if (text[i] == '\n') line_starts.push_back(i + 1);
      }
      std::uint32_t count = 0;
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (i % kBlock == 0) continuation_before_block.push_back(count);
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++count;
      }
      continuation_before_block.push_back(count);
    }
    auto line = std::upper_bound(line_starts.begin(), line_starts.end(), pos) - 1;
    auto continuation_before = [&](std::size_t p) {
      std::uint32_t n = continuation_before_block[p / kBlock];
      for (std::size_t i = p / kBlock * kBlock; i < p; ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++n;
      }
      return n;
    };
    const std::size_t start = *line;
    return {static_cast<std::uint32_t>(line - line_starts.begin() + 1),
            static_cast<std::uint32_t>(pos - start -
                                       (continuation_before(pos) - continuation_before(start)) +
                                       1)};
  }
};

SourceMap::SourceMap() = default;
SourceMap::~SourceMap() = default;
SourceMap::SourceMap(const SourceMap&) = default;
SourceMap& SourceMap::operator=(const SourceMap&) = default;
SourceMap::SourceMap(SourceMap&&) noexcept = default;
SourceMap& SourceMap::operator=(SourceMap&&) noexcept = default;

SourceMap::SourceMap(std::string text) : impl_(std::make_shared<Impl>()) {
  impl_->owned = std::move(text);
  Start(impl_->owned);
}

SourceMap SourceMap::Borrowing(std::string_view text) {
  SourceMap map;
  map.impl_ = std::make_shared<Impl>();
  map.Start(text);
  return map;
}

SourceMap SourceMap::Owning() const {
  if (impl_ == nullptr || !impl_->owned.empty() || impl_->text.empty()) return *this;
  return SourceMap(std::string(impl_->text));
}

void SourceMap::Start(std::string_view text) {
  impl_->text = text;
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) {
    impl_->first_line = 3;
  }
  impl_->root = SkipSpaces(text, impl_->first_line);
}

struct SourceMap::Found {
  bool exact = false;
  bool any = false;  // some ancestor-or-self exists
  SourceLocation key;    // of the deepest node found
  SourceLocation value;
};

SourceMap::Found SourceMap::Walk(std::string_view pointer) const {
  Found out;
  if (impl_ == nullptr || impl_->root >= impl_->text.size()) return out;
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string_view text = impl_->text;
  std::size_t key = impl_->root;
  std::size_t value = impl_->root;
  std::size_t pos = 0;
  std::string token;
  bool exact = true;
  while (pos < pointer.size()) {
    if (pointer[pos] != '/') {
      exact = false;
      break;
    }
    std::size_t end = pointer.find('/', pos + 1);
    if (end == std::string_view::npos) end = pointer.size();
    token.clear();
    for (std::size_t i = pos + 1; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token.push_back(pointer[i + 1] == '0' ? '~' : '/');
        ++i;
      } else {
        token.push_back(pointer[i]);
      }
    }
    // The last member of that name wins, as it does in the parsed value.
    const Impl::Member* match =
        text[value] == '{' || text[value] == '[' ? impl_->Find(value, token) : nullptr;
    if (match == nullptr) {
      exact = false;
      break;
    }
    key = match->key;
    value = match->value;
    pos = end;
  }
  out.any = true;
  out.exact = exact;
  out.key = impl_->At(key);
  out.value = impl_->At(value);
  return out;
}

SourceLocation SourceMap::ValueLocation(std::string_view pointer) const {
  Found f = Walk(pointer);
  return f.exact ? f.value : SourceLocation{};
}

SourceLocation SourceMap::KeyLocation(std::string_view pointer) const {
  Found f = Walk(pointer);
  return f.exact ? f.key : SourceLocation{};
}

SourceLocation SourceMap::Nearest(std::string_view pointer) const {
  Found f = Walk(pointer);
  return f.any ? f.key : SourceLocation{};
}

void AppendJsonPointerToken(std::string& out, std::string_view token) {
  out.push_back('/');
  // Most tokens (state and field names) need no escaping: append them in one go. (A plain
  // loop: find_first_of calls memchr once per character.)
  if (std::none_of(token.begin(), token.end(), [](char c) { return c == '~' || c == '/'; })) {
    out.append(token);
    return;
  }
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
}

std::string JsonPointerAppend(std::string_view pointer, std::string_view token) {
  std::string out;
  out.reserve(pointer.size() + token.size() + 1);
  out.append(pointer);
  AppendJsonPointerToken(out, token);
  return out;
}

std::string JsonPointerAppend(std::string_view pointer, std::size_t index) {
  return fmt::format("{}/{}", pointer, index);
}

namespace {

// The value of a JSON number's text (already checked against the grammar): an integer when
// it has no fraction or exponent and fits int64 or uint64, else a double. Null when no double
// can hold it (a tiny value rounds to zero, which is fine).
std::optional<json::value> NumberValue(std::string_view text, bool integral) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (integral) {
    std::int64_t i = 0;
    auto r = std::from_chars(first, last, i);
    if (r.ec == std::errc() && r.ptr == last) return json::value(i);
    std::uint64_t u = 0;
    r = std::from_chars(first, last, u);
    if (r.ec == std::errc() && r.ptr == last) return json::value(u);
  }
  double d = 0;
  auto r = std::from_chars(first, last, d);
  if (r.ec == std::errc::result_out_of_range) {
    // Out of range either way: strtod tells underflow (a tiny value, rounded to zero, fine)
    // from overflow (no double can hold it, an error).
    std::string digits(first, last);
    double approx = std::strtod(digits.c_str(), nullptr);
    if (!std::isinf(approx)) return json::value(0.0);
    return std::nullopt;
  }
  if (r.ec != std::errc() || r.ptr != last || !std::isfinite(d)) return std::nullopt;
  return json::value(d);
}

namespace bj = boost::json;

// The fast path: Boost.JSON's SAX parser building the document on a value stack. It gives up
// (returns null) on anything the careful parser below must judge or word: a syntax error, a
// duplicate member name, a number out of range, a byte order mark. Numbers are converted from
// their text by NumberValue, as the careful parser does, so both give the same document.
class FastJsonHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  // `may_hold_surrogates`: the text has a 0xED byte somewhere (without one, no string can
  // hold a UTF-8-encoded surrogate and the per-string check is skipped).
  explicit FastJsonHandler(bool may_hold_surrogates) : check_surrogates_(may_hold_surrogates) {}

  bj::value_stack& stack() { return stack_; }
  // Object members in the text; an object keeps one per name, so a document with fewer
  // members than this had a duplicate name.
  std::size_t members() const { return members_; }

  bool on_document_begin(bj::error_code&) { return true; }
  bool on_document_end(bj::error_code&) { return true; }
  bool on_array_begin(bj::error_code&) { return true; }
  bool on_array_end(std::size_t n, bj::error_code&) {
    stack_.push_array(n);
    return true;
  }
  bool on_object_begin(bj::error_code&) { return true; }
  bool on_object_end(std::size_t n, bj::error_code&) {
    stack_.push_object(n);
    members_ += n;
    return true;
  }
  bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
    if (check_surrogates_ && HasSurrogate(s)) return false;
    stack_.push_chars(s);
    return true;
  }
  bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
    if (check_surrogates_ && HasSurrogate(s)) return false;
    stack_.push_string(s);
    return true;
  }
  bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
    if (check_surrogates_ && HasSurrogate(s)) return false;
    stack_.push_chars(s);
    return true;
  }
  bool on_key(bj::string_view s, std::size_t, bj::error_code&) {
    if (check_surrogates_ && HasSurrogate(s)) return false;
    stack_.push_key(s);
    return true;
  }
  bool on_number_part(bj::string_view s, bj::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, bj::string_view s, bj::error_code& ec) { return Number(s, ec); }
  bool on_uint64(std::uint64_t, bj::string_view s, bj::error_code& ec) {
    return Number(s, ec);
  }
  bool on_double(double, bj::string_view s, bj::error_code& ec) { return Number(s, ec); }
  bool on_bool(bool b, bj::error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(bj::error_code&) {
    stack_.push_null();
    return true;
  }
  bool on_comment_part(bj::string_view, bj::error_code&) { return false; }
  bool on_comment(bj::string_view, bj::error_code&) { return false; }

 private:
  bool Number(bj::string_view part, bj::error_code& ec) {
    std::string_view text(part.data(), part.size());
    if (!number_.empty()) {
      number_.append(part.data(), part.size());
      text = number_;
    }
    bool integral = std::none_of(text.begin(), text.end(),
                                 [](char c) { return c == '.' || c == 'e' || c == 'E'; });
    std::optional<json::value> v = NumberValue(text, integral);
    number_.clear();
    if (!v) {
      ec = bj::error::exponent_overflow;
      return false;
    }
    switch (v->kind()) {
      case json::kind::int64: stack_.push_int64(v->get_int64()); break;
      case json::kind::uint64: stack_.push_uint64(v->get_uint64()); break;
      default: stack_.push_double(v->get_double()); break;
    }
    return true;
  }

  // Boost.JSON lets UTF-8-encoded surrogates (ED A0..BF ..) through; they are not UTF-8.
  // A sequence split between two parts makes the check give up, which errs the safe way.
  static bool HasSurrogate(bj::string_view s) {
    const char* p = s.data();
    const char* end = s.data() + s.size();
    while ((p = static_cast<const char*>(
                std::memchr(p, 0xED, static_cast<std::size_t>(end - p)))) != nullptr) {
      if (p + 1 >= end || static_cast<unsigned char>(p[1]) >= 0xA0) return true;
      ++p;
    }
    return false;
  }

  bj::value_stack stack_;
  std::string number_;
  std::size_t members_ = 0;
  bool check_surrogates_;
};

std::size_t CountMembers(const json::value& v) {
  std::size_t n = 0;
  if (const json::object* o = v.if_object()) {
    n += o->size();
    for (const auto& kv : *o) n += CountMembers(kv.value());
  } else if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a) n += CountMembers(e);
  }
  return n;
}

// The document, when the fast path can vouch for it.
std::optional<json::value> ParseFast(std::string_view text, const JsonParseOptions& options) {
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) return std::nullopt;
  bj::parse_options po;
  po.max_depth = options.max_depth;
  bj::basic_parser<FastJsonHandler> parser(
      po, std::memchr(text.data(), 0xED, text.size()) != nullptr);
  parser.handler().stack().reset(options.storage);
  bj::error_code ec;
  std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (ec || !parser.done()) return std::nullopt;
  // Boost stops after the value; anything but white space after it is the careful parser's.
  for (std::size_t i = used; i < text.size(); ++i) {
    if (!IsSpace(text[i])) return std::nullopt;
  }
  json::value v = parser.handler().stack().release();
  if (options.reject_duplicate_keys && CountMembers(v) != parser.handler().members()) {
    return std::nullopt;
  }
  return v;
}

// Recursive-descent parser over the whole text. Tracks line and column as it goes so every
// node's location is known without a second pass.
class Parser {
 public:
  Parser(std::string_view text, const JsonParseOptions& options)
      : text_(text), options_(options) {}

  JsonParseOutcome Run() {
    JsonParseOutcome out;
    if (text_.size() > options_.max_bytes) {
      out.error = JsonSyntaxError{{1, 1},
                                  fmt::format("document is {} bytes; the limit is {} bytes",
                                              text_.size(), options_.max_bytes)};
      return out;
    }
    // A UTF-8 byte order mark is tolerated at the very start.
    if (text_.size() >= 3 && std::memcmp(text_.data(), "\xEF\xBB\xBF", 3) == 0) {
      pos_ = 3;
      line_start_ = 3;
    }
    SkipSpace();
    if (AtEnd()) {
      Fail("the document is empty; expected a JSON value");
    } else {
      json::value v = ParseValue(0);
      if (!failed_) {
        SkipSpace();
        if (!AtEnd()) Fail("unexpected text after the end of the JSON document");
      }
      if (!failed_) {
        out.document = ParsedJson{std::move(v), options_.record_locations
                                                    ? SourceMap(std::string(text_))
                                                    : SourceMap()};
      }
    }
    if (failed_) out.error = std::move(error_);
    return out;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  SourceLocation Here() const {
    return {line_, static_cast<std::uint32_t>(pos_ - line_start_ - continuation_bytes_ + 1)};
  }

  void Fail(std::string message) {
    if (failed_) return;
    failed_ = true;
    error_ = JsonSyntaxError{Here(), std::move(message)};
  }

  void SkipSpace() {
    while (!AtEnd()) {
      char c = Peek();
      if (c == '\n') {
        ++pos_;
        ++line_;
        line_start_ = pos_;
        continuation_bytes_ = 0;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else {
        return;
      }
    }
  }

  std::string Describe() const {
    if (AtEnd()) return "the end of the input";
    unsigned char c = static_cast<unsigned char>(Peek());
    if (c >= 0x20 && c < 0x7F) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02X}", c);
  }

  json::value ParseValue(std::size_t depth) {
    if (AtEnd()) {
      Fail("unexpected end of input; expected a JSON value");
      return nullptr;
    }
    switch (Peek()) {
      case '{': return ParseObject(depth + 1);
      case '[': return ParseArray(depth + 1);
      case '"': {
        std::string s;
        if (!ParseString(s)) return nullptr;
        return json::value(json::string(s));
      }
      case 't': return ParseLiteral("true", json::value(true));
      case 'f': return ParseLiteral("false", json::value(false));
      case 'n': return ParseLiteral("null", json::value(nullptr));
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return ParseNumber();
        Fail(fmt::format("unexpected {}; expected a JSON value", Describe()));
        return nullptr;
    }
  }

  json::value ParseLiteral(std::string_view word, json::value v) {
    if (text_.substr(pos_, word.size()) != word) {
      Fail(fmt::format("unexpected {}; expected a JSON value", Describe()));
      return nullptr;
    }
    pos_ += word.size();
    return v;
  }

  json::value ParseNumber() {
    std::size_t start = pos_;
    bool integral = true;
    if (Peek() == '-') ++pos_;
    if (AtEnd() || !IsDigit(Peek())) {
      Fail("a number needs digits after '-'");
      return nullptr;
    }
    if (Peek() == '0') {
      ++pos_;
      if (!AtEnd() && IsDigit(Peek())) {
        Fail("numbers must not have leading zeros");
        return nullptr;
      }
    } else {
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && Peek() == '.') {
      integral = false;
      ++pos_;
      if (AtEnd() || !IsDigit(Peek())) {
        Fail("a number needs digits after the decimal point");
        return nullptr;
      }
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (AtEnd() || !IsDigit(Peek())) {
        Fail("a number needs digits in its exponent");
        return nullptr;
      }
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    std::optional<json::value> v = NumberValue(text_.substr(start, pos_ - start), integral);
    if (!v) {
      pos_ = start;
      Fail("number is too large to represent");
      return nullptr;
    }
    return std::move(*v);
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ReadHex4(unsigned& out) {
    if (text_.size() - pos_ < 4) {
      Fail("incomplete \\u escape; expected 4 hex digits");
      return false;
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(text_[pos_ + static_cast<std::size_t>(i)]);
      if (h < 0) {
        pos_ += static_cast<std::size_t>(i);
        Fail("invalid \\u escape; expected 4 hex digits");
        return false;
      }
      out = out * 16 + static_cast<unsigned>(h);
    }
    pos_ += 4;
    return true;
  }

  static void AppendUtf8(std::string& s, unsigned cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Validates one UTF-8 sequence starting at pos_ (a non-ASCII lead byte) and copies it.
  bool CopyUtf8Sequence(std::string& out) {
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(text_[pos_ + i]); };
    unsigned char lead = b(0);
    std::size_t len = 0;
    unsigned cp = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      len = 2;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      len = 3;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      len = 4;
      cp = lead & 0x07;
    } else {
      Fail(fmt::format("invalid UTF-8 (byte 0x{:02X}) in a string", lead));
      return false;
    }
    if (text_.size() - pos_ < len) {
      Fail("truncated UTF-8 sequence in a string");
      return false;
    }
    for (std::size_t i = 1; i < len; ++i) {
      if ((b(i) & 0xC0) != 0x80) {
        Fail(fmt::format("invalid UTF-8 (byte 0x{:02X}) in a string", b(i)));
        return false;
      }
      cp = (cp << 6) | (b(i) & 0x3F);
    }
    // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8.
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      Fail("invalid UTF-8 (overlong form, surrogate or out-of-range code point) in a string");
      return false;
    }
    out.append(text_.data() + pos_, len);
    pos_ += len;
    continuation_bytes_ += len - 1;
    return true;
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      // Copy the run of plain ASCII characters in one go.
      std::size_t run = pos_;
      while (run < text_.size()) {
        unsigned char c = static_cast<unsigned char>(text_[run]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++run;
      }
      out.append(text_.data() + pos_, run - pos_);
      pos_ = run;
      if (AtEnd()) {
        Fail("unterminated string; expected '\"'");
        return false;
      }
      unsigned char c = static_cast<unsigned char>(Peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        Fail(c == '\n' ? "unterminated string (line break inside a string; escape it as \\n)"
                       : fmt::format("control character 0x{:02X} in a string must be escaped", c));
        return false;
      }
      if (c >= 0x80) {
        if (!CopyUtf8Sequence(out)) return false;
        continue;
      }
      // Backslash escape.
      ++pos_;
      if (AtEnd()) {
        Fail("unterminated escape sequence");
        return false;
      }
      char e = Peek();
      ++pos_;
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = 0;
          if (!ReadHex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo = 0;
            if (text_.substr(pos_, 2) != "\\u") {
              Fail("a high surrogate \\u escape must be followed by a low surrogate");
              return false;
            }
            pos_ += 2;
            if (!ReadHex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) {
              Fail("a high surrogate \\u escape must be followed by a low surrogate");
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            Fail("unpaired low surrogate in a \\u escape");
            return false;
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          pos_ -= 2;
          Fail(fmt::format("invalid escape sequence '\\{}'", e));
          return false;
      }
    }
  }

  bool TooDeep(std::size_t depth) {
    if (depth <= options_.max_depth) return false;
    Fail(fmt::format("nesting is deeper than {} levels", options_.max_depth));
    return true;
  }

  json::value ParseObject(std::size_t depth) {
    if (TooDeep(depth)) return nullptr;
    ++pos_;  // {
    json::object obj;
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return obj;
    }
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') {
        Fail(fmt::format("unexpected {}; expected a member name in double quotes", Describe()));
        return nullptr;
      }
      SourceLocation key_at = Here();
      std::string key;
      if (!ParseString(key)) return nullptr;
      SkipSpace();
      if (AtEnd() || Peek() != ':') {
        Fail(fmt::format("unexpected {}; expected ':' after member name \"{}\"", Describe(), key));
        return nullptr;
      }
      ++pos_;
      SkipSpace();
      if (options_.reject_duplicate_keys && obj.contains(key)) {
        failed_ = true;
        error_ = JsonSyntaxError{key_at, fmt::format("duplicate member name \"{}\"", key)};
        return nullptr;
      }
      json::value v = ParseValue(depth);
      if (failed_) return nullptr;
      obj.insert_or_assign(key, std::move(v));
      SkipSpace();
      if (AtEnd()) {
        Fail("unexpected end of input; expected ',' or '}'");
        return nullptr;
      }
      if (Peek() == ',') {
        ++pos_;
        SkipSpace();
        if (!AtEnd() && Peek() == '}') {
          Fail("trailing comma before '}'");
          return nullptr;
        }
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return obj;
      }
      Fail(fmt::format("unexpected {}; expected ',' or '}}'", Describe()));
      return nullptr;
    }
  }

  json::value ParseArray(std::size_t depth) {
    if (TooDeep(depth)) return nullptr;
    ++pos_;  // [
    json::array arr;
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return arr;
    }
    while (true) {
      SkipSpace();
      json::value v = ParseValue(depth);
      if (failed_) return nullptr;
      arr.push_back(std::move(v));
      SkipSpace();
      if (AtEnd()) {
        Fail("unexpected end of input; expected ',' or ']'");
        return nullptr;
      }
      if (Peek() == ',') {
        ++pos_;
        SkipSpace();
        if (!AtEnd() && Peek() == ']') {
          Fail("trailing comma before ']'");
          return nullptr;
        }
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return arr;
      }
      Fail(fmt::format("unexpected {}; expected ',' or ']'", Describe()));
      return nullptr;
    }
  }

  std::string_view text_;
  const JsonParseOptions& options_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1;
  std::size_t line_start_ = 0;
  std::size_t continuation_bytes_ = 0;  // UTF-8 continuation bytes since line_start_
  bool failed_ = false;
  JsonSyntaxError error_;
};

}  // namespace

JsonParseOutcome ParseJsonOrError(std::string_view text, const JsonParseOptions& options) {
  if (text.size() <= options.max_bytes) {
    if (std::optional<json::value> v = ParseFast(text, options)) {
      JsonParseOutcome out;
      out.document = ParsedJson{std::move(*v), options.record_locations
                                                   ? SourceMap(std::string(text))
                                                   : SourceMap()};
      return out;
    }
  }
  // Errors (and the rare documents the fast path leaves alone) get the careful parser, which
  // says what is wrong and where.
  return ParseJsonCarefully(text, options);
}

JsonParseOutcome ParseJsonCarefully(std::string_view text, const JsonParseOptions& options) {
  return Parser(text, options).Run();
}

Result<ParsedJson> ParseJson(std::string_view text, const JsonParseOptions& options) {
  JsonParseOutcome outcome = ParseJsonOrError(text, options);
  if (outcome.error) {
    return InvalidArgumentError(fmt::format("line {}, column {}: {}", outcome.error->location.line,
                                            outcome.error->location.column,
                                            outcome.error->message));
  }
  return std::move(*outcome.document);
}

std::string FormatJsonDouble(double d) {
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  if (!std::isfinite(d)) return std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), d,
                                 std::chars_format::scientific);  // shortest round trip
  std::string_view s(buf.data(), static_cast<std::size_t>(res.ptr - buf.data()));
  std::string out;
  if (s.front() == '-') {
    out += '-';
    s.remove_prefix(1);
  }
  const std::size_t e = s.find('e');
  std::string digits(1, s[0]);
  if (e > 1) digits.append(s.substr(2, e - 2));
  std::string_view exp_text = s.substr(e + 1);
  const bool exp_negative = exp_text.front() == '-';
  exp_text.remove_prefix(1);  // the sign; to_chars always writes one
  int exponent = 0;
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  if (exp_negative) exponent = -exponent;

  const double magnitude = std::fabs(d);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (exponent >= 0) {
      const auto int_digits = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out += digits;
        out.append(int_digits - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, int_digits);
        out += '.';
        out += digits.substr(int_digits);
      }
    } else {
      out += "0.";
      out.append(static_cast<std::size_t>(-exponent - 1), '0');
      out += digits;
    }
    return out;
  }
  out += digits[0];
  out += '.';
  out += digits.size() > 1 ? digits.substr(1) : "0";
  out += 'E';
  out += std::to_string(exponent);
  return out;
}


namespace {

void AppendDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {  // not representable in JSON; never produced by the parser
    out += "null";
    return;
  }
  out += FormatJsonDouble(d);
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void AppendString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) continue;  // runs without escapes are appended in one piece
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

// The compact form, which the engine writes for every state's input and output, through a
// cursor: either appended to a string (growing it ahead of each write), or into a caller's fixed
// buffer, moving what it wrote into a spill string should the text not fit, and going on there.
class CompactWriter {
 public:
  explicit CompactWriter(std::string& out) : spill_(out), spill_start_(out.size()), spilled_(true) {
    out.resize(spill_start_ + 128);  // resize fills with zeros: grow in steps, not to capacity
    p_ = out.data() + spill_start_;
    end_ = out.data() + out.size();
  }
  CompactWriter(char* buffer, std::size_t capacity, std::string& spill)
      : spill_(spill), spill_start_(spill.size()), p_(buffer), end_(buffer + capacity),
        begin_(buffer) {}
  CompactWriter(const CompactWriter&) = delete;
  CompactWriter& operator=(const CompactWriter&) = delete;

  // The text written, in the buffer or (spilled) in the string, which is cut to its end.
  std::string_view Finish() {
    if (!spilled_) return {begin_, static_cast<std::size_t>(p_ - begin_)};
    spill_.resize(static_cast<std::size_t>(p_ - spill_.data()));
    return std::string_view(spill_).substr(spill_start_);
  }

  void Write(const json::value& v) {
    switch (v.kind()) {
      case json::kind::null: return Raw("null", 4);
      case json::kind::bool_: return v.get_bool() ? Raw("true", 4) : Raw("false", 5);
      case json::kind::int64: {
        Ensure(24);
        p_ = std::to_chars(p_, end_, v.get_int64()).ptr;
        return;
      }
      case json::kind::uint64: {
        Ensure(24);
        p_ = std::to_chars(p_, end_, v.get_uint64()).ptr;
        return;
      }
      case json::kind::double_: {
        std::string text;
        AppendDouble(v.get_double(), text);
        return Raw(text.data(), text.size());
      }
      case json::kind::string: return String(v.get_string());
      case json::kind::object: {
        Char('{');
        bool first = true;
        for (const auto& kv : v.get_object()) {
          if (!first) Char(',');
          first = false;
          String(kv.key());
          Char(':');
          Write(kv.value());
        }
        return Char('}');
      }
      case json::kind::array: {
        Char('[');
        bool first = true;
        for (const auto& child : v.get_array()) {
          if (!first) Char(',');
          first = false;
          Write(child);
        }
        return Char(']');
      }
    }
  }

 private:
  void Ensure(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) Grow(n);
  }
  [[gnu::noinline]] void Grow(std::size_t n) {
    if (!spilled_) {
      std::size_t used = static_cast<std::size_t>(p_ - begin_);
      spill_.resize(spill_start_ + std::max(2 * used + 128, used + n));
      std::memcpy(spill_.data() + spill_start_, begin_, used);
      p_ = spill_.data() + spill_start_ + used;
      end_ = spill_.data() + spill_.size();
      spilled_ = true;
      return;
    }
    std::size_t used = static_cast<std::size_t>(p_ - spill_.data());
    spill_.resize(std::max(spill_.size() * 2, used + n));
    p_ = spill_.data() + used;
    end_ = spill_.data() + spill_.size();
  }
  void Char(char c) {
    Ensure(1);
    *p_++ = c;
  }
  void Raw(const char* data, std::size_t n) {
    Ensure(n);
    std::memcpy(p_, data, n);
    p_ += n;
  }
  // Copies while it checks: strings rarely need escapes, and keys are short (no memcpy call).
  void String(std::string_view s) {
    Ensure(s.size() + 2);
    char* p = p_;
    *p++ = '"';
    for (const char* in = s.data(); in != s.data() + s.size(); ++in) {
      if (NeedsEscape(static_cast<unsigned char>(*in))) [[unlikely]] {
        p_ = p;
        return EscapedRest(std::string_view(in, static_cast<std::size_t>(s.data() + s.size() - in)));
      }
      *p++ = *in;
    }
    *p++ = '"';
    p_ = p;
  }
  // The rest of a string from its first character that needs an escape, and the closing quote.
  [[gnu::noinline]] void EscapedRest(std::string_view rest) {
    std::string escaped;
    AppendString(rest, escaped);  // "..." with escapes
    Raw(escaped.data() + 1, escaped.size() - 1);
  }

  std::string& spill_;
  std::size_t spill_start_;
  char* p_ = nullptr;
  char* end_ = nullptr;
  char* begin_ = nullptr;  // of the caller's buffer
  bool spilled_ = false;
};

// The indented form (ToPrettyJsonText); the compact one is CompactWriter.
void WritePretty(const json::value& v, std::string& out, int indent) {
  auto newline = [&](int level) {
    out.push_back('\n');
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  switch (v.kind()) {
    case json::kind::null: out += "null"; return;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case json::kind::int64: out += fmt::format_int(v.get_int64()).str(); return;
    case json::kind::uint64: out += fmt::format_int(v.get_uint64()).str(); return;
    case json::kind::double_: AppendDouble(v.get_double(), out); return;
    case json::kind::string: AppendString(v.get_string(), out); return;
    case json::kind::object: {
      const json::object& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& [key, child] : o) {
        if (!first) out.push_back(',');
        first = false;
        newline(indent + 1);
        AppendString(key, out);
        out += ": ";
        WritePretty(child, out, indent + 1);
      }
      newline(indent);
      out.push_back('}');
      return;
    }
    case json::kind::array: {
      const json::array& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const auto& child : a) {
        if (!first) out.push_back(',');
        first = false;
        newline(indent + 1);
        WritePretty(child, out, indent + 1);
      }
      newline(indent);
      out.push_back(']');
      return;
    }
  }
}

}  // namespace

std::string ToJsonText(const json::value& v) {
  std::string out;
  AppendJsonText(v, out);
  return out;
}

void AppendJsonText(const json::value& v, std::string& out) {
  CompactWriter writer(out);
  writer.Write(v);
  writer.Finish();
}

std::string_view WriteJsonText(const json::value& v, char* buffer, std::size_t capacity,
                               std::string& spill) {
  spill.clear();
  CompactWriter writer(buffer, capacity, spill);
  writer.Write(v);
  return writer.Finish();
}

std::string ToPrettyJsonText(const json::value& v) {
  std::string out;
  WritePretty(v, out, 0);
  return out;
}

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = b(i);
    std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (b(i + k) & 0xC0) == 0x80;
    if (ok && len > 1) {
      unsigned cp = c & (0xFF >> (len + 1));
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (b(i + k) & 0x3F);
      constexpr unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace zflow
