#include "jsonata/parser.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "jsonata/error.h"
#include "jsonata/regex.h"

namespace zflow::jsonata {
namespace {

enum class TokenType : std::uint8_t {
  kEnd,
  kName,
  kVariable,
  kOperator,
  kString,
  kNumber,
  kValue,
  kRegex
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string value;  // operator text, name, string contents, variable name
  Value literal;      // numbers, strings, true/false/null
  std::shared_ptr<const Regex> regex;
  std::size_t position = 0;  // byte offset just after the token
};

// Characters that end a name (the reference's operator table).
bool IsOperatorChar(char c) {
  switch (c) {
    case '.':
    case '[':
    case ']':
    case '{':
    case '}':
    case '(':
    case ')':
    case ',':
    case '@':
    case '#':
    case ';':
    case ':':
    case '?':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '|':
    case '=':
    case '<':
    case '>':
    case '^':
    case '&':
    case '!':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // `infix`: the previous token was an operand, so "/" divides instead of starting a regex.
  Token Next(bool infix) {
    SkipSpaceAndComments();
    Token t;
    if (pos_ >= text_.size()) {
      t.type = TokenType::kEnd;
      t.position = text_.size();
      return t;
    }
    char c = text_[pos_];
    if (!infix && c == '/') {
      ++pos_;
      return ScanRegex();
    }
    static constexpr std::string_view kTwoChar[] = {
        "..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"};
    for (std::string_view op : kTwoChar) {
      if (text_.compare(pos_, 2, op) == 0) {
        pos_ += 2;
        return Operator(std::string(op));
      }
    }
    if (IsOperatorChar(c)) {
      ++pos_;
      return Operator(std::string(1, c));
    }
    if (c == '"' || c == '\'') return ScanString(c);
    if (c >= '0' && c <= '9') {
      if (std::optional<Token> number = ScanNumber()) return *number;
    }
    if (c == '`') {
      ++pos_;
      std::size_t end = text_.find('`', pos_);
      if (end == std::string_view::npos) {
        pos_ = text_.size();
        Fail("S0105", {.position = pos_});
      }
      t.type = TokenType::kName;
      t.value = std::string(text_.substr(pos_, end - pos_));
      pos_ = end + 1;
      t.position = pos_;
      return t;
    }
    std::size_t end = pos_;
    while (end < text_.size() && !IsSpace(text_[end]) && !IsOperatorChar(text_[end])) ++end;
    std::string_view word = text_.substr(pos_, end - pos_);
    pos_ = end;
    t.position = pos_;
    if (word[0] == '$') {
      t.type = TokenType::kVariable;
      t.value = std::string(word.substr(1));
      return t;
    }
    if (word == "and" || word == "or" || word == "in") return Operator(std::string(word));
    if (word == "true" || word == "false") {
      t.type = TokenType::kValue;
      t.value = std::string(word);
      t.literal = Value::Bool(word == "true");
      return t;
    }
    if (word == "null") {
      t.type = TokenType::kValue;
      t.value = "null";
      t.literal = Value::Null();
      return t;
    }
    t.type = TokenType::kName;
    t.value = std::string(word);
    return t;
  }

  std::size_t position() const { return pos_; }
  void set_position(std::size_t p) { pos_ = p; }
  std::string_view text() const { return text_; }

 private:
  Token Operator(std::string op) {
    Token t;
    t.type = TokenType::kOperator;
    t.value = std::move(op);
    t.position = pos_;
    return t;
  }

  void SkipSpaceAndComments() {
    for (;;) {
      while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
      if (text_.compare(pos_, 2, "/*") != 0) return;
      std::size_t start = pos_;
      std::size_t end = text_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) Fail("S0106", {.position = start});
      pos_ = end + 2;
    }
  }

  Token ScanRegex() {
    std::size_t start = pos_;
    int depth = 0;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '/' && depth == 0) {
        std::size_t backslashes = 0;
        while (pos_ >= backslashes + 1 && text_[pos_ - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) {
          std::string pattern(text_.substr(start, pos_ - start));
          if (pattern.empty()) Fail("S0301", {.position = pos_});
          ++pos_;
          std::size_t flags_start = pos_;
          while (pos_ < text_.size() && (text_[pos_] == 'i' || text_[pos_] == 'm')) ++pos_;
          std::string flags(text_.substr(flags_start, pos_ - flags_start));
          Token t;
          t.type = TokenType::kRegex;
          t.value = pattern;
          t.regex = Regex::Compile(pattern, flags, pos_);
          t.position = pos_;
          return t;
        }
      }
      bool escaped = pos_ > 0 && text_[pos_ - 1] == '\\';
      if ((c == '(' || c == '[' || c == '{') && !escaped) ++depth;
      if ((c == ')' || c == ']' || c == '}') && !escaped) --depth;
      ++pos_;
    }
    Fail("S0302", {.position = pos_});
  }

  Token ScanString(char quote) {
    ++pos_;
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\\') {
        ++pos_;
        char e = pos_ < text_.size() ? text_[pos_] : '\0';
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            std::uint32_t cp = 0;
            if (!Hex4(pos_ + 1, cp)) Fail("S0104", {.position = pos_});
            pos_ += 4;
            // A surrogate pair written as two escapes is one code point.
            if (cp >= 0xD800 && cp <= 0xDBFF && text_.compare(pos_ + 1, 2, "\\u") == 0) {
              std::uint32_t low = 0;
              if (Hex4(pos_ + 3, low) && low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                pos_ += 6;
              }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
            AppendUtf8(out, cp);
            break;
          }
          default:
            Fail("S0103", {.position = pos_, .token = std::string(1, e)});
        }
      } else if (c == quote) {
        ++pos_;
        Token t;
        t.type = TokenType::kString;
        t.literal = Value::String(out);
        t.value = std::move(out);
        t.position = pos_;
        return t;
      } else {
        out.push_back(c);
      }
      ++pos_;
    }
    Fail("S0101", {.position = pos_});
  }

  bool Hex4(std::size_t at, std::uint32_t& out) const {
    if (at + 4 > text_.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
      char h = text_[i];
      out <<= 4;
      if (h >= '0' && h <= '9') {
        out |= static_cast<std::uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        out |= static_cast<std::uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        out |= static_cast<std::uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)? (the sign is always lexed as an operator).
  std::optional<Token> ScanNumber() {
    std::size_t i = pos_;
    auto digit = [&](std::size_t k) {
      return k < text_.size() && text_[k] >= '0' && text_[k] <= '9';
    };
    if (text_[i] == '0') {
      ++i;
    } else {
      while (digit(i)) ++i;
    }
    if (i < text_.size() && text_[i] == '.' && digit(i + 1)) {
      ++i;
      while (digit(i)) ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < text_.size() && (text_[j] == '+' || text_[j] == '-')) ++j;
      if (digit(j)) {
        while (digit(j)) ++j;
        i = j;
      }
    }
    std::string digits(text_.substr(pos_, i - pos_));
    double n = std::strtod(digits.c_str(), nullptr);
    if (!std::isfinite(n)) Fail("S0102", {.position = pos_, .token = digits});
    pos_ = i;
    Token t;
    t.type = TokenType::kNumber;
    t.value = digits;
    t.literal = Value::Number(n);
    t.position = pos_;
    return t;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

int BindingPower(std::string_view op) {
  struct Entry {
    std::string_view op;
    int bp;
  };
  // Only operators with a left-denotation have a binding power; the rest stop expressions.
  static constexpr Entry kPowers[] = {
      {".", 75},  {"[", 80},  {"{", 70},   {"(", 80},  {"@", 80},  {"#", 80},  {"?", 20},
      {"+", 50},  {"-", 50},  {"*", 60},   {"/", 60},  {"%", 60},  {"=", 40},  {"<", 40},
      {">", 40},  {"^", 40},  {":=", 10},  {"!=", 40}, {"<=", 40}, {">=", 40}, {"~>", 40},
      {"?:", 40}, {"??", 40}, {"and", 30}, {"or", 25}, {"in", 40}, {"&", 50},
  };
  for (const Entry& e : kPowers) {
    if (e.op == op) return e.bp;
  }
  return 0;
}

bool IsKnownOperator(std::string_view op) {
  static constexpr std::string_view kKnown[] = {
      ".",  "[",  "]",  "{",  "}",  "(",  ")",  ",",  "@",   "#",  ";",  ":",
      "?",  "+",  "-",  "*",  "/",  "%",  "|",  "=",  "<",   ">",  "^",  "**",
      "..", ":=", "!=", "<=", ">=", "~>", "?:", "??", "and", "or", "in", "&"};
  for (std::string_view k : kKnown) {
    if (k == op) return true;
  }
  return false;
}

ExprPtr MakeExpr(ExprType type, std::size_t position, std::string value = {}) {
  auto e = std::make_unique<Expr>();
  e->type = type;
  e->position = position;
  e->value = std::move(value);
  return e;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}

  ExprPtr Parse() {
    Advance(nullptr, false);
    ExprPtr e = Expression(0);
    if (token_.type != TokenType::kEnd) {
      Fail("S0201", {.position = token_.position, .token = token_.value});
    }
    e = Process(std::move(e));
    if (e->type == ExprType::kParent || !e->seeking_parent.empty()) {
      Fail("S0217", {.position = e->position, .token = TypeName(e->type)});
    }
    return e;
  }

 private:
  bool Is(std::string_view op) const {
    return token_.type == TokenType::kOperator && token_.value == op;
  }
  bool AtEnd() const { return token_.type == TokenType::kEnd; }

  // Moves to the next token, first checking that the current one is `expected` (an operator).
  void Advance(const char* expected, bool infix) {
    if (expected != nullptr && !Is(expected)) {
      if (AtEnd()) {
        Fail("S0203", {.position = token_.position, .value = Quoted(expected)});
      }
      Fail("S0202",
           {.position = token_.position, .token = TokenText(token_), .value = Quoted(expected)});
    }
    token_ = lexer_.Next(infix);
    if (token_.type == TokenType::kOperator && !IsKnownOperator(token_.value)) {
      Fail("S0204", {.position = token_.position, .token = token_.value});
    }
  }

  static std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }
  static std::string TokenText(const Token& t) {
    if (t.type == TokenType::kEnd) return "(end)";
    return t.value;
  }

  int LeftBindingPower() const {
    if (token_.type != TokenType::kOperator) return 0;
    return BindingPower(token_.value);
  }

  // Deeper expressions are refused: every pass over the tree (and its destruction) recurses,
  // and a long chain ("a.a.a...", "1+1+...", "----1") must not exhaust the stack.
  static constexpr std::uint32_t kMaxNesting = 400;

  static std::uint32_t DepthOf(const Expr& e) {
    std::uint32_t d = 0;
    auto take = [&](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    take(e.lhs);
    take(e.rhs);
    take(e.expression);
    take(e.procedure);
    take(e.then_branch);
    take(e.else_branch);
    take(e.pattern);
    take(e.update);
    take(e.remove);
    take(e.body);
    for (const ExprPtr& c : e.items) take(c);
    for (const auto& [k, v] : e.pairs) {
      take(k);
      take(v);
    }
    for (const SortTerm& t : e.terms) take(t.expression);
    return d + 1;
  }

  void CheckNesting(Expr& e, std::size_t position) {
    e.depth = DepthOf(e);
    if (e.depth > kMaxNesting) {
      Fail("U1001", {.position = position,
                     .raw = fmt::format("The expression is nested more than {} levels deep",
                                        kMaxNesting)});
    }
  }

  ExprPtr Expression(int rbp) {
    struct Nesting {
      int& n;
      explicit Nesting(int& v) : n(++v) {}
      ~Nesting() { --n; }
    } nesting(nesting_);
    if (nesting_ > static_cast<int>(kMaxNesting)) {
      Fail("U1001", {.position = token_.position,
                     .raw = fmt::format("The expression is nested more than {} levels deep",
                                        kMaxNesting)});
    }
    Token t = std::move(token_);
    std::size_t position = t.position;
    Advance(nullptr, true);
    ExprPtr left = Nud(std::move(t));
    CheckNesting(*left, position);
    while (rbp < LeftBindingPower()) {
      Token op = std::move(token_);
      position = op.position;
      Advance(nullptr, false);
      left = Led(std::move(op), std::move(left));
      CheckNesting(*left, position);
    }
    return left;
  }

  ExprPtr Nud(Token t) {
    switch (t.type) {
      case TokenType::kEnd:
        Fail("S0207", {.position = t.position, .token = "(end)"});
      case TokenType::kName:
        return MakeExpr(ExprType::kName, t.position, std::move(t.value));
      case TokenType::kVariable:
        return MakeExpr(ExprType::kVariable, t.position, std::move(t.value));
      case TokenType::kString: {
        ExprPtr e = MakeExpr(ExprType::kString, t.position, std::move(t.value));
        e->literal = std::move(t.literal);
        return e;
      }
      case TokenType::kNumber: {
        ExprPtr e = MakeExpr(ExprType::kNumber, t.position, std::move(t.value));
        e->literal = std::move(t.literal);
        return e;
      }
      case TokenType::kValue: {
        ExprPtr e = MakeExpr(ExprType::kValue, t.position, std::move(t.value));
        e->literal = std::move(t.literal);
        return e;
      }
      case TokenType::kRegex: {
        ExprPtr e = MakeExpr(ExprType::kRegex, t.position, std::move(t.value));
        e->regex = std::move(t.regex);
        return e;
      }
      case TokenType::kOperator:
        break;
    }
    const std::string& op = t.value;
    if (op == "and" || op == "or" || op == "in") {
      return MakeExpr(ExprType::kOperator, t.position, op);  // a field name, resolved later
    }
    if (op == "-") {
      ExprPtr e = MakeExpr(ExprType::kNegate, t.position, op);
      e->expression = Expression(70);
      return e;
    }
    if (op == "*") return MakeExpr(ExprType::kWildcard, t.position, op);
    if (op == "**") return MakeExpr(ExprType::kDescendant, t.position, op);
    if (op == "%") return MakeExpr(ExprType::kParent, t.position, op);
    if (op == "(") {
      ExprPtr e = MakeExpr(ExprType::kBlock, t.position, op);
      while (!Is(")")) {
        e->items.push_back(Expression(0));
        if (!Is(";")) break;
        Advance(";", false);
      }
      Advance(")", true);
      return e;
    }
    if (op == "[") {
      ExprPtr e = MakeExpr(ExprType::kArray, t.position, op);
      if (!Is("]")) {
        for (;;) {
          ExprPtr item = Expression(0);
          if (Is("..")) {
            ExprPtr range = MakeExpr(ExprType::kBinary, token_.position, "..");
            range->lhs = std::move(item);
            Advance("..", false);
            range->rhs = Expression(0);
            item = std::move(range);
          }
          e->items.push_back(std::move(item));
          if (!Is(",")) break;
          Advance(",", false);
        }
      }
      Advance("]", true);
      return e;
    }
    if (op == "{") {
      ExprPtr e = MakeExpr(ExprType::kObject, t.position, op);
      e->pairs = ObjectPairs();
      return e;
    }
    if (op == "|") {
      ExprPtr e = MakeExpr(ExprType::kTransform, t.position, op);
      e->pattern = Expression(0);
      Advance("|", false);
      e->update = Expression(0);
      if (Is(",")) {
        Advance(",", false);
        e->remove = Expression(0);
      }
      Advance("|", false);
      return e;
    }
    if (op == "?") return MakeExpr(ExprType::kOperator, t.position, op);
    Fail("S0211", {.position = t.position, .token = op});
  }

  std::vector<std::pair<ExprPtr, ExprPtr>> ObjectPairs() {
    std::vector<std::pair<ExprPtr, ExprPtr>> pairs;
    if (!Is("}")) {
      for (;;) {
        ExprPtr key = Expression(0);
        Advance(":", false);
        ExprPtr value = Expression(0);
        pairs.emplace_back(std::move(key), std::move(value));
        if (!Is(",")) break;
        Advance(",", false);
      }
    }
    Advance("}", true);
    return pairs;
  }

  ExprPtr Led(Token t, ExprPtr left) {
    const std::string op = t.value;
    std::size_t position = t.position;
    if (op == "(") return Call(position, std::move(left));
    if (op == "[") {
      if (Is("]")) {
        // "[]": keep singleton arrays.
        Expr* step = left.get();
        while (step != nullptr && step->type == ExprType::kBinary && step->value == "[") {
          step = step->lhs.get();
        }
        step->keep_array = true;
        Advance("]", true);
        return left;
      }
      ExprPtr e = MakeExpr(ExprType::kBinary, position, "[");
      e->lhs = std::move(left);
      e->rhs = Expression(0);
      Advance("]", true);
      return e;
    }
    if (op == "{") {
      ExprPtr e = MakeExpr(ExprType::kBinary, position, "{");
      e->lhs = std::move(left);
      e->pairs = ObjectPairs();
      return e;
    }
    if (op == "^") {
      Advance("(", false);
      ExprPtr e = MakeExpr(ExprType::kBinary, position, "^");
      e->lhs = std::move(left);
      for (;;) {
        SortTerm term;
        if (Is("<")) {
          Advance("<", false);
        } else if (Is(">")) {
          term.descending = true;
          Advance(">", false);
        }
        term.expression = Expression(0);
        e->terms.push_back(std::move(term));
        if (!Is(",")) break;
        Advance(",", false);
      }
      Advance(")", true);
      return e;
    }
    if (op == "@" || op == "#") {
      ExprPtr e = MakeExpr(ExprType::kBinary, position, op);
      e->lhs = std::move(left);
      e->rhs = Expression(80);
      if (e->rhs->type != ExprType::kVariable) {
        Fail("S0214", {.position = e->rhs->position, .token = op});
      }
      return e;
    }
    if (op == ":=") {
      if (left->type != ExprType::kVariable) {
        Fail("S0212", {.position = left->position, .token = left->value});
      }
      ExprPtr e = MakeExpr(ExprType::kBind, position, op);
      e->lhs = std::move(left);
      e->rhs = Expression(9);  // right associative
      return e;
    }
    if (op == "?") {
      ExprPtr e = MakeExpr(ExprType::kCondition, position, op);
      e->lhs = std::move(left);
      e->then_branch = Expression(0);
      if (Is(":")) {
        Advance(":", false);
        e->else_branch = Expression(0);
      }
      return e;
    }
    ExprPtr e = MakeExpr(op == "~>" ? ExprType::kApply : ExprType::kBinary, position, op);
    e->lhs = std::move(left);
    e->rhs = Expression(BindingPower(op));
    return e;
  }

  ExprPtr Call(std::size_t position, ExprPtr left) {
    ExprPtr e = MakeExpr(ExprType::kFunction, position, "(");
    if (!Is(")")) {
      for (;;) {
        if (Is("?")) {
          e->type = ExprType::kPartial;
          e->items.push_back(MakeExpr(ExprType::kPlaceholder, token_.position, "?"));
          Advance("?", false);
        } else {
          e->items.push_back(Expression(0));
        }
        if (!Is(",")) break;
        Advance(",", false);
      }
    }
    Advance(")", true);
    if (left->type == ExprType::kName && (left->value == "function" || left->value == "\xCE\xBB")) {
      for (std::size_t i = 0; i < e->items.size(); ++i) {
        const Expr& arg = *e->items[i];
        if (arg.type != ExprType::kVariable) {
          Fail("S0208",
               {.position = arg.position, .token = arg.value, .value = std::to_string(i + 1)});
        }
      }
      e->type = ExprType::kLambda;
      for (ExprPtr& arg : e->items) e->params.push_back(arg->value);
      e->items.clear();
      if (Is("<")) {
        // The signature is read as text, from "<" to its matching ">".
        std::string_view text = lexer_.text();
        std::size_t start = token_.position - 1;
        std::size_t i = start;
        int depth = 0;
        for (; i < text.size(); ++i) {
          if (text[i] == '<') ++depth;
          if (text[i] == '>' && --depth == 0) break;
          if (text[i] == '{') break;
        }
        if (i >= text.size() || text[i] != '>') {
          lexer_.set_position(i);
          Advance(nullptr, false);
          Advance(">", false);
        }
        std::string sig(text.substr(start, i + 1 - start));
        std::string compact;
        for (char c : sig) {
          if (!IsSpace(c)) compact.push_back(c);
        }
        try {
          e->signature = std::make_shared<Signature>(Signature::Parse(compact));
        } catch (Failure& f) {
          f.details.position = start + f.details.position.value_or(0);
          throw;
        }
        lexer_.set_position(i + 1);
        Advance(nullptr, false);
      }
      Advance("{", false);
      e->body = Expression(0);
      Advance("}", true);
      return e;
    }
    e->procedure = std::move(left);
    return e;
  }

  // ---- The second pass: paths, stages, tuple bindings, parents. ----

  static std::string TypeName(ExprType type) {
    switch (type) {
      case ExprType::kPath:
        return "path";
      case ExprType::kName:
        return "name";
      case ExprType::kString:
        return "string";
      case ExprType::kNumber:
        return "number";
      case ExprType::kValue:
        return "value";
      case ExprType::kRegex:
        return "regex";
      case ExprType::kWildcard:
        return "wildcard";
      case ExprType::kDescendant:
        return "descendant";
      case ExprType::kParent:
        return "parent";
      case ExprType::kVariable:
        return "variable";
      case ExprType::kBinary:
        return "binary";
      case ExprType::kNegate:
        return "unary";
      case ExprType::kArray:
        return "unary";
      case ExprType::kObject:
        return "unary";
      case ExprType::kFunction:
        return "function";
      case ExprType::kPartial:
        return "partial";
      case ExprType::kPlaceholder:
        return "operator";
      case ExprType::kLambda:
        return "lambda";
      case ExprType::kCondition:
        return "condition";
      case ExprType::kTransform:
        return "transform";
      case ExprType::kBlock:
        return "block";
      case ExprType::kBind:
        return "bind";
      case ExprType::kApply:
        return "apply";
      case ExprType::kSort:
        return "sort";
      case ExprType::kOperator:
        return "operator";
    }
    return "";
  }

  static ExprPtr WrapInPath(ExprPtr step) {
    ExprPtr path = MakeExpr(ExprType::kPath, step->position);
    path->items.push_back(std::move(step));
    return path;
  }

  void PushAncestry(Expr& result, const Expr& value) {
    for (const auto& slot : value.seeking_parent) result.seeking_parent.push_back(slot);
    if (value.type == ExprType::kParent) result.seeking_parent.push_back(value.slot);
  }

  std::shared_ptr<AncestorSlot> SeekParent(Expr& node, std::shared_ptr<AncestorSlot> slot) {
    switch (node.type) {
      case ExprType::kName:
      case ExprType::kWildcard:
        slot->level--;
        if (slot->level == 0) {
          if (node.ancestor == nullptr) {
            node.ancestor = slot;
          } else {
            // Reuse the label this step already binds.
            ancestry_[static_cast<std::size_t>(slot->index)]->label = node.ancestor->label;
            node.ancestor = slot;
          }
          node.tuple = true;
        }
        break;
      case ExprType::kParent:
        slot->level++;
        break;
      case ExprType::kBlock:
        if (!node.items.empty()) {
          node.tuple = true;
          slot = SeekParent(*node.items.back(), slot);
        }
        break;
      case ExprType::kPath: {
        node.tuple = true;
        std::ptrdiff_t index = static_cast<std::ptrdiff_t>(node.items.size()) - 1;
        slot = SeekParent(*node.items[static_cast<std::size_t>(index--)], slot);
        while (slot->level > 0 && index >= 0) {
          slot = SeekParent(*node.items[static_cast<std::size_t>(index--)], slot);
        }
        break;
      }
      default:
        Fail("S0217", {.position = node.position, .token = TypeName(node.type)});
    }
    return slot;
  }

  void ResolveAncestry(Expr& path) {
    Expr& last = *path.items.back();
    std::vector<std::shared_ptr<AncestorSlot>> slots = last.seeking_parent;
    if (last.type == ExprType::kParent) slots.push_back(last.slot);
    for (auto slot : slots) {
      std::ptrdiff_t index = static_cast<std::ptrdiff_t>(path.items.size()) - 2;
      while (slot->level > 0) {
        if (index < 0) {
          path.seeking_parent.push_back(slot);
          break;
        }
        Expr* step = path.items[static_cast<std::size_t>(index--)].get();
        // Contiguous steps that bind the focus are skipped as one.
        while (index >= 0 && step->has_focus &&
               path.items[static_cast<std::size_t>(index)]->has_focus) {
          step = path.items[static_cast<std::size_t>(index--)].get();
        }
        slot = SeekParent(*step, slot);
      }
    }
  }

  static ExprPtr TailCallOptimize(ExprPtr e) {
    if (e->type == ExprType::kFunction && e->predicates.empty()) {
      ExprPtr thunk = MakeExpr(ExprType::kLambda, e->position);
      thunk->thunk = true;
      thunk->body = std::move(e);
      return thunk;
    }
    if (e->type == ExprType::kCondition) {
      e->then_branch = TailCallOptimize(std::move(e->then_branch));
      if (e->else_branch) e->else_branch = TailCallOptimize(std::move(e->else_branch));
      return e;
    }
    if (e->type == ExprType::kBlock && !e->items.empty()) {
      e->items.back() = TailCallOptimize(std::move(e->items.back()));
    }
    return e;
  }

  ExprPtr Process(ExprPtr e) {
    bool keep_array = e->keep_array;
    ExprPtr result;
    switch (e->type) {
      case ExprType::kBinary:
        result = ProcessBinary(std::move(e));
        break;
      case ExprType::kApply: {
        e->lhs = Process(std::move(e->lhs));
        e->rhs = Process(std::move(e->rhs));
        e->keep_array = e->lhs->keep_array || e->rhs->keep_array;
        result = std::move(e);
        break;
      }
      case ExprType::kBind: {
        e->lhs = Process(std::move(e->lhs));
        e->rhs = Process(std::move(e->rhs));
        PushAncestry(*e, *e->rhs);
        result = std::move(e);
        break;
      }
      case ExprType::kArray: {
        for (ExprPtr& item : e->items) {
          item = Process(std::move(item));
          PushAncestry(*e, *item);
        }
        result = std::move(e);
        break;
      }
      case ExprType::kObject: {
        for (auto& [key, value] : e->pairs) {
          key = Process(std::move(key));
          PushAncestry(*e, *key);
          value = Process(std::move(value));
          PushAncestry(*e, *value);
        }
        result = std::move(e);
        break;
      }
      case ExprType::kNegate: {
        e->expression = Process(std::move(e->expression));
        if (e->expression->type == ExprType::kNumber) {
          ExprPtr number = std::move(e->expression);
          number->literal = Value::Number(-number->literal.number());
          result = std::move(number);
        } else {
          PushAncestry(*e, *e->expression);
          result = std::move(e);
        }
        break;
      }
      case ExprType::kFunction:
      case ExprType::kPartial: {
        for (ExprPtr& arg : e->items) {
          arg = Process(std::move(arg));
          PushAncestry(*e, *arg);
        }
        e->procedure = Process(std::move(e->procedure));
        result = std::move(e);
        break;
      }
      case ExprType::kLambda: {
        if (!e->thunk) e->body = TailCallOptimize(Process(std::move(e->body)));
        result = std::move(e);
        break;
      }
      case ExprType::kCondition: {
        e->lhs = Process(std::move(e->lhs));
        PushAncestry(*e, *e->lhs);
        e->then_branch = Process(std::move(e->then_branch));
        PushAncestry(*e, *e->then_branch);
        if (e->else_branch) {
          e->else_branch = Process(std::move(e->else_branch));
          PushAncestry(*e, *e->else_branch);
        }
        result = std::move(e);
        break;
      }
      case ExprType::kTransform: {
        e->pattern = Process(std::move(e->pattern));
        e->update = Process(std::move(e->update));
        if (e->remove) e->remove = Process(std::move(e->remove));
        result = std::move(e);
        break;
      }
      case ExprType::kBlock: {
        for (ExprPtr& item : e->items) {
          item = Process(std::move(item));
          PushAncestry(*e, *item);
          if (item->cons_array || (item->type == ExprType::kPath && item->items[0]->cons_array)) {
            e->cons_array = true;
          }
        }
        result = std::move(e);
        break;
      }
      case ExprType::kName: {
        bool keep = e->keep_array;
        result = WrapInPath(std::move(e));
        if (keep) result->keep_singleton_array = true;
        break;
      }
      case ExprType::kParent: {
        auto slot = std::make_shared<AncestorSlot>();
        slot->label = "!" + std::to_string(ancestor_label_++);
        slot->level = 1;
        slot->index = static_cast<int>(ancestry_.size());
        ancestry_.push_back(slot);
        e->slot = slot;
        result = std::move(e);
        break;
      }
      case ExprType::kOperator: {
        if (e->value == "and" || e->value == "or" || e->value == "in") {
          e->type = ExprType::kName;
          return Process(std::move(e));
        }
        if (e->value == "?") {
          result = std::move(e);
          break;
        }
        Fail("S0201", {.position = e->position, .token = e->value});
      }
      default:
        result = std::move(e);
        break;
    }
    if (keep_array) result->keep_array = true;
    return result;
  }

  ExprPtr ProcessBinary(ExprPtr e) {
    const std::string op = e->value;
    if (op == ".") {
      ExprPtr lstep = Process(std::move(e->lhs));
      ExprPtr result;
      bool left_is_parent = lstep->type == ExprType::kParent;
      std::shared_ptr<AncestorSlot> left_slot = lstep->slot;
      if (lstep->type == ExprType::kPath) {
        result = std::move(lstep);
      } else {
        result = WrapInPath(std::move(lstep));
      }
      if (left_is_parent) result->seeking_parent = {left_slot};
      ExprPtr rest = Process(std::move(e->rhs));
      if (rest->type == ExprType::kPath) {
        for (ExprPtr& step : rest->items) result->items.push_back(std::move(step));
      } else {
        if (!rest->predicates.empty()) {
          rest->stages = std::move(rest->predicates);
          rest->predicates.clear();
        }
        result->items.push_back(std::move(rest));
      }
      for (ExprPtr& step : result->items) {
        if (step->type == ExprType::kNumber || step->type == ExprType::kValue) {
          Fail("S0213", {.position = step->position, .value = step->value});
        }
        if (step->type == ExprType::kString) step->type = ExprType::kName;
      }
      for (const ExprPtr& step : result->items) {
        if (step->keep_array) result->keep_singleton_array = true;
      }
      if (result->items.front()->type == ExprType::kArray) result->items.front()->cons_array = true;
      if (result->items.back()->type == ExprType::kArray) result->items.back()->cons_array = true;
      ResolveAncestry(*result);
      return result;
    }
    if (op == "[") {
      ExprPtr result = Process(std::move(e->lhs));
      Expr* step = result.get();
      bool stages = false;
      if (result->type == ExprType::kPath) {
        step = result->items.back().get();
        stages = true;
      }
      if (step->group) Fail("S0209", {.position = e->position});
      ExprPtr predicate = Process(std::move(e->rhs));
      if (!predicate->seeking_parent.empty()) {
        for (const auto& slot : predicate->seeking_parent) {
          if (slot->level == 1) {
            SeekParent(*step, slot);
          } else {
            slot->level--;
          }
        }
        PushAncestry(*step, *predicate);
      }
      Stage stage;
      stage.filter = std::move(predicate);
      stage.position = e->position;
      (stages ? step->stages : step->predicates).push_back(std::move(stage));
      return result;
    }
    if (op == "{") {
      ExprPtr result = Process(std::move(e->lhs));
      if (result->group) Fail("S0210", {.position = e->position});
      auto group = std::make_unique<GroupBy>();
      group->position = e->position;
      for (auto& [key, value] : e->pairs) {
        group->pairs.emplace_back(Process(std::move(key)), Process(std::move(value)));
      }
      result->group = std::move(group);
      return result;
    }
    if (op == "^") {
      ExprPtr result = Process(std::move(e->lhs));
      if (result->type != ExprType::kPath) result = WrapInPath(std::move(result));
      ExprPtr sort = MakeExpr(ExprType::kSort, e->position);
      for (SortTerm& term : e->terms) {
        term.expression = Process(std::move(term.expression));
        PushAncestry(*sort, *term.expression);
        sort->terms.push_back(std::move(term));
      }
      result->items.push_back(std::move(sort));
      ResolveAncestry(*result);
      return result;
    }
    if (op == "@") {
      ExprPtr result = Process(std::move(e->lhs));
      Expr* step = result.get();
      if (result->type == ExprType::kPath) step = result->items.back().get();
      if (!step->stages.empty() || !step->predicates.empty()) {
        Fail("S0215", {.position = e->position});
      }
      if (step->type == ExprType::kSort) Fail("S0216", {.position = e->position});
      if (e->keep_array) step->keep_array = true;
      step->focus = e->rhs->value;
      step->has_focus = true;
      step->tuple = true;
      return result;
    }
    if (op == "#") {
      ExprPtr result = Process(std::move(e->lhs));
      Expr* step = result.get();
      if (result->type == ExprType::kPath) {
        step = result->items.back().get();
      } else {
        result = WrapInPath(std::move(result));
        step = result->items.back().get();
        if (!step->predicates.empty()) {
          step->stages = std::move(step->predicates);
          step->predicates.clear();
        }
      }
      if (step->stages.empty()) {
        step->index = e->rhs->value;
        step->has_index = true;
      } else {
        Stage stage;
        stage.is_index = true;
        stage.index_name = e->rhs->value;
        stage.position = e->position;
        step->stages.push_back(std::move(stage));
      }
      step->tuple = true;
      return result;
    }
    e->lhs = Process(std::move(e->lhs));
    e->rhs = Process(std::move(e->rhs));
    PushAncestry(*e, *e->lhs);
    PushAncestry(*e, *e->rhs);
    return e;
  }

  Lexer lexer_;
  Token token_;
  int nesting_ = 0;
  int ancestor_label_ = 0;
  std::vector<std::shared_ptr<AncestorSlot>> ancestry_;
};


// A path whose steps only read fields (after a leading variable, possibly).
void MarkSimplePaths(Expr& e) {
  auto visit = [](ExprPtr& child) {
    if (child) MarkSimplePaths(*child);
  };
  if (e.type == ExprType::kBinary) e.op = BinaryOpFor(e.value);
  if (e.type == ExprType::kPath && !e.keep_singleton_array && !e.group && !e.tuple &&
      e.seeking_parent.empty()) {
    bool simple = true;
    for (std::size_t i = 0; i < e.items.size() && simple; ++i) {
      const Expr& step = *e.items[i];
      bool plain = step.stages.empty() && step.predicates.empty() && !step.group &&
                   !step.tuple && !step.has_focus && !step.has_index && !step.keep_array &&
                   !step.ancestor && !step.cons_array;
      bool kind_ok = step.type == ExprType::kName ||
                     (i == 0 && step.type == ExprType::kVariable && !step.value.empty());
      simple = plain && kind_ok;
    }
    e.simple_path = simple && !e.items.empty();
  }
  visit(e.lhs);
  visit(e.rhs);
  visit(e.expression);
  for (ExprPtr& item : e.items) visit(item);
  for (auto& [k, v] : e.pairs) {
    visit(k);
    visit(v);
  }
  visit(e.procedure);
  visit(e.then_branch);
  visit(e.else_branch);
  visit(e.pattern);
  visit(e.update);
  visit(e.remove);
  visit(e.body);
  for (Stage& stage : e.predicates) visit(stage.filter);
  for (Stage& stage : e.stages) visit(stage.filter);
  if (e.group) {
    for (auto& [k, v] : e.group->pairs) {
      visit(k);
      visit(v);
    }
  }
  for (SortTerm& term : e.terms) visit(term.expression);
  switch (e.type) {
    case ExprType::kString:
    case ExprType::kNumber:
    case ExprType::kValue:
      e.context_free = true;
      break;
    case ExprType::kVariable:
      e.context_free = !e.value.empty();
      break;
    case ExprType::kBinary:
      e.context_free = e.lhs->context_free && e.rhs->context_free;
      break;
    case ExprType::kNegate:
      e.context_free = e.expression->context_free;
      break;
    case ExprType::kArray: {
      bool all = true;
      for (const ExprPtr& item : e.items) all = all && item->context_free;
      e.context_free = all;
      break;
    }
    default:
      break;
  }
  if (!e.predicates.empty() || e.group || e.keep_array) e.context_free = false;
}

}  // namespace

BinaryOp BinaryOpFor(std::string_view op) {
  struct Entry {
    std::string_view text;
    BinaryOp op;
  };
  static constexpr Entry kOps[] = {
      {"and", BinaryOp::kAnd},       {"or", BinaryOp::kOr},         {"?:", BinaryOp::kElvis},
      {"??", BinaryOp::kCoalesce},   {"+", BinaryOp::kAdd},         {"-", BinaryOp::kSubtract},
      {"*", BinaryOp::kMultiply},    {"/", BinaryOp::kDivide},      {"%", BinaryOp::kModulo},
      {"&", BinaryOp::kConcat},      {"=", BinaryOp::kEqual},       {"!=", BinaryOp::kNotEqual},
      {"<", BinaryOp::kLess},        {"<=", BinaryOp::kLessEqual},  {">", BinaryOp::kGreater},
      {">=", BinaryOp::kGreaterEqual}, {"..", BinaryOp::kRange},    {"in", BinaryOp::kIn},
  };
  for (const Entry& e : kOps) {
    if (e.text == op) return e.op;
  }
  return BinaryOp::kOther;
}

ExprPtr ParseExpression(std::string_view text) {
  ExprPtr root = Parser(text).Parse();
  MarkSimplePaths(*root);
  return root;
}

}  // namespace zflow::jsonata
