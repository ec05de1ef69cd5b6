#include "asl/json_path.h"

#include "asl/jsonata_text.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include <boost/smart_ptr/intrusive_ref_counter.hpp>
#include <fmt/format.h>

namespace zflow::asl {

namespace {

struct FilterExpr;

// One selector: what a step picks from the current node(s).
struct Selector {
  enum class Kind : std::uint8_t { kName, kIndex, kWildcard, kSlice, kNames, kIndices, kFilter };
  Kind kind = Kind::kName;
  bool bracket = false;             // kWildcard: written "[*]" (not ".*")
  std::string name;                 // kName
  std::int64_t index = 0;           // kIndex
  std::vector<std::string> names;   // kNames
  std::vector<std::int64_t> indices;  // kIndices
  std::optional<std::int64_t> slice_start, slice_end;
  std::shared_ptr<const FilterExpr> filter;  // kFilter; shared so programs copy cheaply
};

struct Step {
  bool recursive = false;  // ".." before the selector
  Selector selector;
};

// Filter operands and expressions ([?(...)]).
struct Operand {
  enum class Kind : std::uint8_t { kLiteral, kRelative, kAbsolute };
  Kind kind = Kind::kLiteral;
  json::value literal;
  std::vector<Step> steps;  // definite steps from @ or $
};

struct FilterExpr {
  enum class Kind : std::uint8_t { kOr, kAnd, kNot, kCompare, kExists };
  Kind kind = Kind::kExists;
  std::vector<std::unique_ptr<FilterExpr>> children;
  std::string op;  // == != < <= > >=
  Operand lhs, rhs;
};

bool IsDefinite(const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    if (s.recursive) return false;
    if (s.selector.kind != Selector::Kind::kName && s.selector.kind != Selector::Kind::kIndex) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Immutable once compiled, and shared by the copies of a path (the validator's, the engine's).
struct JsonPath::Program
    : boost::intrusive_ref_counter<JsonPath::Program, boost::thread_safe_counter> {
  std::string text;
  Root root = Root::kInput;
  std::string variable;
  std::vector<Step> steps;
  bool definite = true;
};

namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

class PathParser {
 public:
  explicit PathParser(std::string_view text) : text_(text) {}

  Status Parse(JsonPath::Program& p) {
    if (text_.empty() || text_[0] != '$') {
      return Error(0, "a path must start with '$'");
    }
    pos_ = 1;
    if (pos_ < text_.size() && text_[pos_] == '$') {
      p.root = JsonPath::Root::kContext;
      ++pos_;
    } else if (pos_ < text_.size() && IsNameStart(text_[pos_])) {
      p.root = JsonPath::Root::kVariable;
      std::size_t start = pos_;
      while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
      p.variable = std::string(text_.substr(start, pos_ - start));
    }
    ZFLOW_RETURN_IF_ERROR(ParseSteps(p.steps, /*in_filter=*/false));
    if (pos_ != text_.size()) return Error(pos_, "unexpected character");
    p.definite = IsDefinite(p.steps);
    return Status::Ok();
  }

 private:
  Status Error(std::size_t at, std::string_view what) const {
    return InvalidArgumentError(fmt::format("invalid path \"{}\": {} at character {}", text_,
                                            what, at + 1));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  void SkipSpace() {
    while (!AtEnd() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  // Parses steps until the text ends (or, inside a filter, until a character that cannot
  // continue a path).
  Status ParseSteps(std::vector<Step>& steps, bool in_filter) {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c == '.') {
        Step step;
        ++pos_;
        if (!AtEnd() && text_[pos_] == '.') {
          step.recursive = true;
          ++pos_;
        }
        // ".[" and "..[": a bracket step ($.abc.['def ghi'] is valid in AWS's paths).
        if (!AtEnd() && text_[pos_] == '[') {
          ZFLOW_RETURN_IF_ERROR(ParseBracket(step.selector));
          steps.push_back(std::move(step));
          continue;
        }
        if (AtEnd()) return Error(pos_, "a name or '*' must follow '.'");
        if (text_[pos_] == '*') {
          ++pos_;
          step.selector.kind = Selector::Kind::kWildcard;
        } else {
          std::size_t start = pos_;
          while (!AtEnd() && IsDotNameChar(text_[pos_], in_filter)) ++pos_;
          if (pos_ == start) return Error(pos_, "a name or '*' must follow '.'");
          step.selector.kind = Selector::Kind::kName;
          step.selector.name = std::string(text_.substr(start, pos_ - start));
        }
        steps.push_back(std::move(step));
      } else if (c == '[') {
        Step step;
        ZFLOW_RETURN_IF_ERROR(ParseBracket(step.selector));
        steps.push_back(std::move(step));
      } else if (in_filter) {
        return Status::Ok();
      } else {
        return Error(pos_, fmt::format("unexpected '{}'; expected '.' or '['", c));
      }
    }
    return Status::Ok();
  }

  static bool IsDotNameChar(char c, bool in_filter) {
    if (c == '.' || c == '[' || c == ']' || c == ' ' || c == '\t') return false;
    if (in_filter) {
      return c != ')' && c != '=' && c != '!' && c != '<' && c != '>' && c != '&' && c != '|' &&
             c != ',';
    }
    return true;
  }

  Result<std::string> ParseQuoted() {
    char quote = text_[pos_];
    std::size_t start = pos_;
    ++pos_;
    std::string out;
    while (!AtEnd() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        ++pos_;
      }
      out.push_back(text_[pos_]);
      ++pos_;
    }
    if (AtEnd()) return Error(start, "unterminated quoted name");
    ++pos_;
    return out;
  }

  Result<std::int64_t> ParseInteger() {
    std::size_t start = pos_;
    if (!AtEnd() && text_[pos_] == '-') ++pos_;
    while (!AtEnd() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    std::int64_t v = 0;
    auto r = std::from_chars(text_.data() + start, text_.data() + pos_, v);
    if (r.ec != std::errc() || r.ptr != text_.data() + pos_) {
      return Error(start, "expected an integer");
    }
    return v;
  }

  bool PeekInteger() const {
    if (AtEnd()) return false;
    char c = text_[pos_];
    if (c == '-') return pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
                         text_[pos_ + 1] <= '9';
    return c >= '0' && c <= '9';
  }

  Status ParseBracket(Selector& sel) {
    std::size_t open = pos_;
    ++pos_;  // [
    SkipSpace();
    if (AtEnd()) return Error(open, "unterminated '['");
    char c = text_[pos_];
    if (c == '*') {
      ++pos_;
      sel.kind = Selector::Kind::kWildcard;
      sel.bracket = true;
    } else if (c == '\'' || c == '"') {
      std::vector<std::string> names;
      while (true) {
        SkipSpace();
        if (AtEnd() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
          return Error(pos_, "expected a quoted name");
        }
        ZFLOW_ASSIGN_OR_RETURN(std::string name, ParseQuoted());
        names.push_back(std::move(name));
        SkipSpace();
        if (!AtEnd() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        break;
      }
      if (names.size() == 1) {
        sel.kind = Selector::Kind::kName;
        sel.name = std::move(names[0]);
      } else {
        sel.kind = Selector::Kind::kNames;
        sel.names = std::move(names);
      }
    } else if (c == '?') {
      ++pos_;
      SkipSpace();
      if (AtEnd() || text_[pos_] != '(') return Error(pos_, "expected '(' after '?'");
      ++pos_;
      // A filter inside a filter's operand counts on from that operand's depth: the bound is on
      // the whole path's nesting, so no path can exhaust the stack.
      ZFLOW_ASSIGN_OR_RETURN(auto expr, ParseOr(operand_depth_));
      SkipSpace();
      if (AtEnd() || text_[pos_] != ')') return Error(pos_, "expected ')' to close the filter");
      ++pos_;
      sel.kind = Selector::Kind::kFilter;
      sel.filter = std::shared_ptr<const FilterExpr>(std::move(expr));
    } else if (c == ':' || PeekInteger()) {
      std::optional<std::int64_t> first;
      if (c != ':') {
        ZFLOW_ASSIGN_OR_RETURN(first, ParseInteger());
      }
      SkipSpace();
      if (!AtEnd() && text_[pos_] == ':') {
        // AWS evaluates paths with Jayway JsonPath: [from:], [:to] and [from:to]; no step.
        sel.kind = Selector::Kind::kSlice;
        sel.slice_start = first;
        ++pos_;
        SkipSpace();
        if (PeekInteger()) {
          ZFLOW_ASSIGN_OR_RETURN(sel.slice_end, ParseInteger());
        }
        SkipSpace();
        if (!AtEnd() && text_[pos_] == ':') {
          return Error(pos_, "slice steps are not supported; use [from:to]");
        }
        if (!sel.slice_start && !sel.slice_end) {
          return Error(pos_, "an empty slice [:] selects nothing; use [*]");
        }
      } else {
        std::vector<std::int64_t> indices{*first};
        while (!AtEnd() && text_[pos_] == ',') {
          ++pos_;
          SkipSpace();
          ZFLOW_ASSIGN_OR_RETURN(std::int64_t i, ParseInteger());
          indices.push_back(i);
          SkipSpace();
        }
        if (indices.size() == 1) {
          sel.kind = Selector::Kind::kIndex;
          sel.index = indices[0];
        } else {
          sel.kind = Selector::Kind::kIndices;
          sel.indices = std::move(indices);
        }
      }
    } else {
      return Error(pos_, "expected a quoted name, an index, '*', a slice or a filter in '[...]'");
    }
    SkipSpace();
    if (AtEnd() || text_[pos_] != ']') return Error(pos_, "expected ']'");
    ++pos_;
    return Status::Ok();
  }

  // Filter grammar: or := and ('||' and)* ; and := unary ('&&' unary)* ;
  // unary := '!' unary | '(' or ')' | operand [cmp operand]
  static constexpr int kMaxFilterDepth = 32;
  int operand_depth_ = 0;  // nesting of the operand being parsed (filters inside it go deeper)

  // And/Or nodes are n-ary, so long chains stay shallow; the total size is capped so a huge
  // filter is an error rather than a huge tree.
  static constexpr int kMaxFilterTerms = 256;

  Result<std::unique_ptr<FilterExpr>> ParseOr(int depth) {
    if (depth > kMaxFilterDepth) return Error(pos_, "filter nested too deeply");
    return ParseChain(depth, "||", FilterExpr::Kind::kOr);
  }

  Result<std::unique_ptr<FilterExpr>> ParseChain(int depth, std::string_view op,
                                                 FilterExpr::Kind kind) {
    auto operand = [&]() -> Result<std::unique_ptr<FilterExpr>> {
      if (kind == FilterExpr::Kind::kOr) return ParseChain(depth, "&&", FilterExpr::Kind::kAnd);
      return ParseUnary(depth);
    };
    ZFLOW_ASSIGN_OR_RETURN(auto first, operand());
    SkipSpace();
    if (text_.substr(pos_, 2) != op) return first;
    auto node = std::make_unique<FilterExpr>();
    node->kind = kind;
    node->children.push_back(std::move(first));
    while (true) {
      SkipSpace();
      if (text_.substr(pos_, 2) != op) return node;
      pos_ += 2;
      ZFLOW_ASSIGN_OR_RETURN(auto next, operand());
      node->children.push_back(std::move(next));
    }
  }

  Result<std::unique_ptr<FilterExpr>> ParseUnary(int depth) {
    if (depth > kMaxFilterDepth) return Error(pos_, "filter nested too deeply");
    SkipSpace();
    if (AtEnd()) return Error(pos_, "unterminated filter");
    if (text_[pos_] == '!' && text_.substr(pos_, 2) != "!=") {
      ++pos_;
      ZFLOW_ASSIGN_OR_RETURN(auto child, ParseUnary(depth + 1));
      auto node = std::make_unique<FilterExpr>();
      node->kind = FilterExpr::Kind::kNot;
      node->children.push_back(std::move(child));
      return node;
    }
    if (text_[pos_] == '(') {
      ++pos_;
      ZFLOW_ASSIGN_OR_RETURN(auto inner, ParseOr(depth + 1));
      SkipSpace();
      if (AtEnd() || text_[pos_] != ')') return Error(pos_, "expected ')'");
      ++pos_;
      return inner;
    }
    if (++filter_terms_ > kMaxFilterTerms) {
      return Error(pos_, fmt::format("filter has more than {} terms", kMaxFilterTerms));
    }
    auto node = std::make_unique<FilterExpr>();
    struct OperandDepth {
      int& slot;
      int saved;
      ~OperandDepth() { slot = saved; }
    } restore{operand_depth_, operand_depth_};
    operand_depth_ = depth + 1;
    ZFLOW_ASSIGN_OR_RETURN(node->lhs, ParseOperand());
    SkipSpace();
    static constexpr std::string_view kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (std::string_view op : kOps) {
      if (text_.substr(pos_, op.size()) == op) {
        pos_ += op.size();
        node->kind = FilterExpr::Kind::kCompare;
        node->op = std::string(op);
        ZFLOW_ASSIGN_OR_RETURN(node->rhs, ParseOperand(/*right_side=*/true));
        return node;
      }
    }
    if (node->lhs.kind == Operand::Kind::kLiteral) {
      return Error(pos_, "a filter needs a comparison or a path to test");
    }
    node->kind = FilterExpr::Kind::kExists;
    return node;
  }

  // `right_side`: the value compared with. There an unquoted word is a string
  // ($.Labels[?(@.Name==Receipt)] matches the Name "Receipt"): AWS accepts such filters, which
  // its published workflows use, and compares them as Jayway JsonPath 2.0 did.
  Result<Operand> ParseOperand(bool right_side = false) {
    SkipSpace();
    if (AtEnd()) return Error(pos_, "expected a value in the filter");
    Operand out;
    char c = text_[pos_];
    if (right_side && (std::isalpha(static_cast<unsigned char>(c)) || c == '_')) {
      std::size_t start = pos_;
      while (!AtEnd() && std::string_view(" \t)&|]=!<>,").find(text_[pos_]) ==
                             std::string_view::npos) {
        ++pos_;
      }
      std::string_view word = text_.substr(start, pos_ - start);
      if (word == "true" || word == "false") {
        out.literal = word == "true";
      } else if (word == "null") {
        out.literal = nullptr;
      } else {
        out.literal = json::string(word);
      }
      return out;
    }
    if (c == '@' || c == '$') {
      out.kind = c == '@' ? Operand::Kind::kRelative : Operand::Kind::kAbsolute;
      ++pos_;
      ZFLOW_RETURN_IF_ERROR(ParseSteps(out.steps, /*in_filter=*/true));
      if (!IsDefinite(out.steps)) return Error(pos_, "filter paths must be definite");
      return out;
    }
    if (c == '\'' || c == '"') {
      ZFLOW_ASSIGN_OR_RETURN(std::string s, ParseQuoted());
      out.literal = json::string(s);
      return out;
    }
    for (auto [word, value] : {std::pair<std::string_view, json::value>{"true", true},
                               {"false", false}, {"null", nullptr}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        out.literal = value;
        return out;
      }
    }
    std::size_t start = pos_;
    if (c == '-') ++pos_;
    bool is_double = false;
    while (!AtEnd()) {
      char d = text_[pos_];
      bool exponent_sign = (d == '-' || d == '+') && pos_ > start &&
                           (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E');
      if (!((d >= '0' && d <= '9') || d == '.' || d == 'e' || d == 'E' || exponent_sign)) break;
      is_double |= d == '.' || d == 'e' || d == 'E';
      ++pos_;
    }
    std::string_view num = text_.substr(start, pos_ - start);
    if (num.empty() || num == "-") return Error(start, "expected a value in the filter");
    if (!is_double) {
      std::int64_t i = 0;
      auto r = std::from_chars(num.data(), num.data() + num.size(), i);
      if (r.ec == std::errc() && r.ptr == num.data() + num.size()) {
        out.literal = i;
        return out;
      }
    }
    double d = 0;
    auto r = std::from_chars(num.data(), num.data() + num.size(), d);
    if (r.ec != std::errc() || r.ptr != num.data() + num.size()) {
      return Error(start, "invalid number in the filter");
    }
    out.literal = d;
    return out;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int filter_terms_ = 0;
};

// --- evaluation ---

const json::value* Child(const json::value& v, const Selector& sel) {
  if (sel.kind == Selector::Kind::kName) {
    if (!v.is_object()) return nullptr;
    return v.get_object().if_contains(sel.name);
  }
  if (!v.is_array()) return nullptr;
  const json::array& a = v.get_array();
  std::int64_t i = sel.index < 0 ? static_cast<std::int64_t>(a.size()) + sel.index : sel.index;
  if (i < 0 || i >= static_cast<std::int64_t>(a.size())) return nullptr;
  return &a[static_cast<std::size_t>(i)];
}

const json::value* WalkDefinite(const json::value* v, const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    if (v == nullptr) return nullptr;
    v = Child(*v, s.selector);
  }
  return v;
}

const json::value kEmptyObject = json::object();

bool EvalFilter(const FilterExpr& f, const json::value& current, const json::value& root);

std::optional<json::value> OperandValue(const Operand& o, const json::value& current,
                                        const json::value& root) {
  if (o.kind == Operand::Kind::kLiteral) return o.literal;
  const json::value* v =
      WalkDefinite(o.kind == Operand::Kind::kRelative ? &current : &root, o.steps);
  if (v == nullptr) return std::nullopt;
  return *v;
}

int CompareNumbers(const json::value& a, const json::value& b) {
  if (a.is_int64() && b.is_int64()) {
    return a.get_int64() < b.get_int64() ? -1 : (a.get_int64() > b.get_int64() ? 1 : 0);
  }
  double x = a.to_number<double>();
  double y = b.to_number<double>();
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool Compare(const json::value& a, std::string_view op, const json::value& b) {
  std::optional<int> cmp;
  if (a.is_number() && b.is_number()) {
    cmp = CompareNumbers(a, b);
  } else if (a.is_string() && b.is_string()) {
    int c = std::string_view(a.get_string()).compare(std::string_view(b.get_string()));
    cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (op == "==") return cmp ? *cmp == 0 : a == b;
  if (op == "!=") return cmp ? *cmp != 0 : a != b;
  if (!cmp) return false;
  if (op == "<") return *cmp < 0;
  if (op == "<=") return *cmp <= 0;
  if (op == ">") return *cmp > 0;
  return *cmp >= 0;
}

bool EvalFilter(const FilterExpr& f, const json::value& current, const json::value& root) {
  switch (f.kind) {
    case FilterExpr::Kind::kOr:
      for (const auto& c : f.children) {
        if (EvalFilter(*c, current, root)) return true;
      }
      return false;
    case FilterExpr::Kind::kAnd:
      for (const auto& c : f.children) {
        if (!EvalFilter(*c, current, root)) return false;
      }
      return true;
    case FilterExpr::Kind::kNot:
      return !EvalFilter(*f.children[0], current, root);
    case FilterExpr::Kind::kExists:
      return OperandValue(f.lhs, current, root).has_value();
    case FilterExpr::Kind::kCompare: {
      auto l = OperandValue(f.lhs, current, root);
      auto r = OperandValue(f.rhs, current, root);
      if (!l || !r) return false;
      return Compare(*l, f.op, *r);
    }
  }
  return false;
}

void Select(const json::value& v, const Selector& sel, const json::value& root,
            std::vector<const json::value*>& out) {
  switch (sel.kind) {
    case Selector::Kind::kName:
    case Selector::Kind::kIndex:
      if (const json::value* c = Child(v, sel)) out.push_back(c);
      return;
    case Selector::Kind::kWildcard:
      if (v.is_object()) {
        for (const auto& kv : v.get_object()) out.push_back(&kv.value());
      } else if (v.is_array()) {
        for (const auto& e : v.get_array()) out.push_back(&e);
      }
      return;
    case Selector::Kind::kNames:
      if (v.is_object()) {
        for (const std::string& n : sel.names) {
          if (const json::value* c = v.get_object().if_contains(n)) out.push_back(c);
        }
      }
      return;
    case Selector::Kind::kIndices:
      if (v.is_array()) {
        Selector one;
        one.kind = Selector::Kind::kIndex;
        for (std::int64_t i : sel.indices) {
          one.index = i;
          if (const json::value* c = Child(v, one)) out.push_back(c);
        }
      }
      return;
    case Selector::Kind::kSlice: {
      // Jayway JsonPath semantics, which AWS uses:
      //   [from:]  from < 0 counts from the end; clamped at 0.
      //   [:to]    to < 0 counts from the end; clamped at the length.
      //   [from:to] to clamped at the length (a negative to selects nothing); each index in
      //            [from, to) is read like a single index (negative from the end).
      if (!v.is_array()) return;
      const json::array& a = v.get_array();
      const auto n = static_cast<std::int64_t>(a.size());
      if (n == 0) return;
      auto push = [&](std::int64_t i) {
        std::int64_t e = i < 0 ? n + i : i;
        if (e >= 0 && e < n) out.push_back(&a[static_cast<std::size_t>(e)]);
      };
      if (sel.slice_start && !sel.slice_end) {
        std::int64_t from = *sel.slice_start;
        if (from < 0) from = std::max<std::int64_t>(0, n + std::max(from, -n));
        for (std::int64_t i = from; i < n; ++i) push(i);
      } else if (!sel.slice_start && sel.slice_end) {
        std::int64_t to = *sel.slice_end;
        if (to < 0) to = n + std::max(to, -n);
        to = std::min(n, to);
        for (std::int64_t i = 0; i < to; ++i) push(i);
      } else {
        std::int64_t from = *sel.slice_start;
        std::int64_t to = std::min(n, *sel.slice_end);
        if (from >= to) return;
        from = std::max(from, -n);  // earlier indices read nothing
        for (std::int64_t i = from; i < to; ++i) push(i);
      }
      return;
    }
    case Selector::Kind::kFilter:
      if (v.is_array()) {
        for (const auto& e : v.get_array()) {
          if (EvalFilter(*sel.filter, e, root)) out.push_back(&e);
        }
      } else if (v.is_object()) {
        // A filter on an object tests the object itself (Jayway semantics).
        if (EvalFilter(*sel.filter, v, root)) out.push_back(&v);
      }
      return;
  }
}

// "..selector": the selector applied at this node and at every node below it, pre-order.
// A filter in a deep scan tests every object node (the start node included), as Jayway does;
// arrays are only walked through.
void SelectRecursive(const json::value& v, const Selector& sel, const json::value& root,
                     std::vector<const json::value*>& out) {
  if (sel.kind == Selector::Kind::kFilter) {
    if (v.is_object() && EvalFilter(*sel.filter, v, root)) out.push_back(&v);
  } else {
    Select(v, sel, root, out);
  }
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) SelectRecursive(kv.value(), sel, root, out);
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) SelectRecursive(e, sel, root, out);
  }
}

// Jayway-style normalized form of a definite path, as AWS prints it in error causes:
// $['a']['b'][0]
std::string NormalizedPath(std::string_view root, const std::vector<Step>& steps) {
  std::string out(root);
  for (const Step& s : steps) {
    if (s.selector.kind == Selector::Kind::kName) {
      out += fmt::format("['{}']", s.selector.name);
    } else {
      out += fmt::format("[{}]", s.selector.index);
    }
  }
  return out;
}

}  // namespace

JsonPath::JsonPath(boost::intrusive_ptr<const Program> program) : program_(std::move(program)) {}
JsonPath::JsonPath(JsonPath&&) noexcept = default;
JsonPath& JsonPath::operator=(JsonPath&&) noexcept = default;
JsonPath::JsonPath(const JsonPath&) = default;
JsonPath& JsonPath::operator=(const JsonPath&) = default;
JsonPath::~JsonPath() = default;

Result<JsonPath> JsonPath::Compile(std::string_view text) {
  boost::intrusive_ptr<Program> program(new Program());
  program->text = std::string(text);
  PathParser parser(text);
  ZFLOW_RETURN_IF_ERROR(parser.Parse(*program));
  return JsonPath(std::move(program));
}

const Result<JsonPath>& JsonPathCache::Compile(std::string_view text) {
  if (auto it = paths_.find(text); it != paths_.end()) return it->second;
  return paths_.emplace(std::string(text), JsonPath::Compile(text)).first->second;
}

Result<JsonPath> JsonPath::CompileReferencePath(std::string_view text) {
  ZFLOW_ASSIGN_OR_RETURN(JsonPath path, Compile(text));
  if (!path.is_reference_path()) {
    return InvalidArgumentError(fmt::format(
        "\"{}\" is not a reference path; use only '.name', ['name'] and [index] steps (no "
        "wildcards, filters, slices, unions or '..')",
        text));
  }
  return path;
}

const std::string& JsonPath::text() const { return program_->text; }
JsonPath::Root JsonPath::root() const { return program_->root; }

namespace {

Result<std::string> StepsToJsonata(const std::vector<Step>& steps, std::string out,
                                   std::string_view input);

// A filter operand: relative steps read the item under test, absolute ones the input.
Result<std::string> OperandToJsonata(const Operand& o, std::string_view input) {
  switch (o.kind) {
    case Operand::Kind::kLiteral:
      return JsonataLiteral(o.literal);
    case Operand::Kind::kRelative: {
      if (o.steps.empty()) return std::string("$");
      ZFLOW_ASSIGN_OR_RETURN(std::string s, StepsToJsonata(o.steps, "", input));
      return s.starts_with('.') ? s.substr(1) : "$" + s;  // "@.x" is "x"; "@[0]" is "$[0]"
    }
    case Operand::Kind::kAbsolute:
      return StepsToJsonata(o.steps, std::string(input), input);
  }
  return std::string();
}

Result<std::string> FilterToJsonata(const FilterExpr& f, std::string_view input) {
  switch (f.kind) {
    case FilterExpr::Kind::kOr:
    case FilterExpr::Kind::kAnd: {
      std::string out = "(";
      for (std::size_t i = 0; i < f.children.size(); ++i) {
        if (i > 0) out += f.kind == FilterExpr::Kind::kOr ? " or " : " and ";
        ZFLOW_ASSIGN_OR_RETURN(std::string c, FilterToJsonata(*f.children[i], input));
        out += c;
      }
      return out + ")";
    }
    case FilterExpr::Kind::kNot: {
      ZFLOW_ASSIGN_OR_RETURN(std::string c, FilterToJsonata(*f.children[0], input));
      return fmt::format("$not({})", c);
    }
    case FilterExpr::Kind::kExists: {
      ZFLOW_ASSIGN_OR_RETURN(std::string l, OperandToJsonata(f.lhs, input));
      return fmt::format("$exists({})", l);
    }
    case FilterExpr::Kind::kCompare: {
      ZFLOW_ASSIGN_OR_RETURN(std::string l, OperandToJsonata(f.lhs, input));
      ZFLOW_ASSIGN_OR_RETURN(std::string r, OperandToJsonata(f.rhs, input));
      if (f.op == "==") return fmt::format("({} = {})", l, r);
      if (f.op == "!=") return fmt::format("({} != {})", l, r);
      // JSONPath orders numbers with numbers and strings with strings and is false otherwise;
      // JSONata would fail on mixed types, so the types are tested first.
      return fmt::format("(($type({0}) = 'number' and $type({1}) = 'number' or $type({0}) = "
                         "'string' and $type({1}) = 'string') and {0} {2} {1})",
                         l, r, f.op);
  }
  }
  return std::string();
}

Result<std::string> StepsToJsonata(const std::vector<Step>& steps, std::string out,
                                   std::string_view input) {
  for (const Step& step : steps) {
    const Selector& sel = step.selector;
    if (step.recursive) {
      if (sel.kind != Selector::Kind::kName) {
        return InvalidArgumentError("recursive descent ('..') is converted only before a name");
      }
      out += ".**";
    }
    switch (sel.kind) {
      case Selector::Kind::kName: {
        ZFLOW_ASSIGN_OR_RETURN(std::string name, JsonataName(sel.name));
        out += '.';
        out += name;
        break;
      }
      case Selector::Kind::kIndex:
        out += fmt::format("[{}]", sel.index);
        break;
      case Selector::Kind::kWildcard:
        // "[*]" takes an array's items, which a JSONata path step does by itself; ".*" takes
        // an object's values.
        if (!sel.bracket) out += ".*";
        break;
      case Selector::Kind::kIndices: {
        std::string list;
        for (std::int64_t i : sel.indices) list += fmt::format("{}{}", list.empty() ? "" : ", ", i);
        out += fmt::format("[[{}]]", list);
        break;
      }
      case Selector::Kind::kSlice: {
        std::int64_t start = sel.slice_start.value_or(0);
        if (start < 0 || (sel.slice_end && *sel.slice_end < 0)) {
          return InvalidArgumentError("a slice from the end ([-n:]) has no JSONata form");
        }
        out += sel.slice_end ? fmt::format("#$i[$i >= {} and $i < {}]", start, *sel.slice_end)
                             : fmt::format("#$i[$i >= {}]", start);
        break;
      }
      case Selector::Kind::kNames:
        return InvalidArgumentError("a union of names (['a','b']) has no JSONata form");
      case Selector::Kind::kFilter: {
        ZFLOW_ASSIGN_OR_RETURN(std::string pred, FilterToJsonata(*sel.filter, input));
        out += fmt::format("[{}]", pred);
        break;
      }
    }
  }
  return out;
}

}  // namespace

Result<std::string> JsonPath::ToJsonata(std::string_view input) const {
  const Program& p = *program_;
  std::string root;
  switch (p.root) {
    case Root::kInput:
      root = std::string(input);
      break;
    case Root::kContext:
      root = "$states.context";
      break;
    case Root::kVariable:
      root = "$" + p.variable;
      break;
  }
  Result<std::string> out = StepsToJsonata(p.steps, std::move(root), input);
  if (!out.ok()) {
    return InvalidArgumentError(
        fmt::format("the path \"{}\": {}", p.text, out.status().message()));
  }
  // An indefinite path selects a list, even of one item or none.
  return p.definite ? std::move(*out) : fmt::format("[{}]", *out);
}
const std::string& JsonPath::variable() const { return program_->variable; }
bool JsonPath::is_reference_path() const { return program_->definite; }
bool JsonPath::is_root_only() const { return program_->steps.empty(); }

std::optional<std::vector<std::string>> JsonPath::member_names() const {
  std::vector<std::string> out;
  for (const Step& s : program_->steps) {
    if (s.recursive || s.selector.kind != Selector::Kind::kName) return std::nullopt;
    out.push_back(s.selector.name);
  }
  return out;
}

namespace {

const json::value* RootValue(const JsonPath::Program& p, const EvaluationContext& ctx) {
  switch (p.root) {
    case JsonPath::Root::kInput:
      return ctx.input;
    case JsonPath::Root::kContext:
      return ctx.context != nullptr ? ctx.context : &kEmptyObject;
    case JsonPath::Root::kVariable:
      return ctx.variables ? ctx.variables(p.variable) : nullptr;
  }
  return nullptr;
}

}  // namespace

const json::value* JsonPath::Find(const EvaluationContext& ctx) const {
  const json::value* root = RootValue(*program_, ctx);
  if (root == nullptr || !program_->definite) return nullptr;
  return WalkDefinite(root, program_->steps);
}

Outcome<json::value> JsonPath::Evaluate(const EvaluationContext& ctx) const {
  const Program& p = *program_;
  const json::value* root = RootValue(p, ctx);
  if (root == nullptr) {
    if (p.root == Root::kVariable) {
      return WorkflowError{std::string(errors::kRuntime),
                           fmt::format("Invalid path '{}': The variable '{}' is not defined",
                                       p.text, p.variable)};
    }
    return WorkflowError{std::string(errors::kRuntime),
                         fmt::format("Invalid path '{}': there is no input", p.text)};
  }
  if (p.definite) {
    const json::value* v = WalkDefinite(root, p.steps);
    if (v == nullptr) {
      std::string_view root_text = p.root == Root::kContext ? "$$" : "$";
      return WorkflowError{
          std::string(errors::kRuntime),
          fmt::format("Invalid path '{}' : No results for path: {}", p.text,
                      NormalizedPath(root_text, p.steps))};
    }
    return *v;
  }
  std::vector<const json::value*> current{root};
  std::vector<const json::value*> next;
  for (const Step& s : p.steps) {
    next.clear();
    for (const json::value* v : current) {
      if (s.recursive) {
        SelectRecursive(*v, s.selector, *root, next);
      } else {
        Select(*v, s.selector, *root, next);
      }
    }
    current.swap(next);
  }
  json::array out;
  out.reserve(current.size());
  for (const json::value* v : current) out.push_back(*v);
  return json::value(std::move(out));
}

void JsonPath::Prefetch() const {
  const Program* p = program_.get();
  __builtin_prefetch(p);
  __builtin_prefetch(reinterpret_cast<const char*>(p) + 64);
  const Step* steps = p->steps.data();
  for (std::size_t i = 0; i < p->steps.size(); ++i) __builtin_prefetch(&steps[i]);
}

std::optional<WorkflowError> JsonPath::AssignInPlace(json::value& target,
                                                   json::value&& value) const {
  const Program& p = *program_;
  if (p.steps.empty()) {
    target = std::move(value);
    return std::nullopt;
  }
  json::value* node = &target;
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const Selector& sel = p.steps[i].selector;
    bool last = i + 1 == p.steps.size();
    if (sel.kind == Selector::Kind::kName) {
      if (!node->is_object()) {
        return WorkflowError{
            std::string(errors::kResultPathMatchFailure),
            fmt::format("Unable to apply ResultPath '{}' to input: the value at {} is not an "
                        "object",
                        p.text, NormalizedPath("$", {p.steps.begin(), p.steps.begin() +
                                                         static_cast<std::ptrdiff_t>(i)}))};
      }
      json::object& obj = node->get_object();
      if (last) {
        obj.insert_or_assign(sel.name, std::move(value));
        return std::nullopt;
      }
      json::value* child = obj.if_contains(sel.name);
      if (child == nullptr) child = &obj.emplace(sel.name, json::object()).first->value();
      node = child;
    } else {
      json::value* child = node->is_array() ? const_cast<json::value*>(Child(*node, sel))
                                            : nullptr;
      if (child == nullptr) {
        return WorkflowError{
            std::string(errors::kResultPathMatchFailure),
            fmt::format("Unable to apply ResultPath '{}' to input: index {} does not exist",
                        p.text, sel.index)};
      }
      if (last) {
        *child = std::move(value);
        return std::nullopt;
      }
      node = child;
    }
  }
  return std::nullopt;
}

Outcome<json::value> JsonPath::Assign(json::value target, json::value value) const {
  if (auto error = AssignInPlace(target, std::move(value))) return *std::move(error);
  return target;
}

}  // namespace zflow::asl
