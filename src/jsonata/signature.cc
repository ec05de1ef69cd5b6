#include "jsonata/signature.h"

#include <utility>

#include "jsonata/error.h"

namespace zflow::jsonata {

char SignatureSymbol(const Value& v) {
  switch (v.kind()) {
    case Kind::kString:
      return 's';
    case Kind::kNumber:
      return 'n';
    case Kind::kBool:
      return 'b';
    case Kind::kNull:
      return 'l';
    case Kind::kArray:
      return 'a';
    case Kind::kObject:
      return 'o';
    case Kind::kFunction:
      return 'f';
    case Kind::kUndefined:
      return 'm';
  }
  return 'm';
}

namespace {

std::size_t ClosingBracket(std::string_view s, std::size_t open, char open_char,
                           char close_char) {
  int depth = 1;
  std::size_t i = open;
  while (i + 1 < s.size()) {
    ++i;
    if (s[i] == close_char) {
      if (--depth == 0) break;
    } else if (s[i] == open_char) {
      ++depth;
    }
  }
  return i;
}

std::string_view ArrayTypeName(char subtype) {
  switch (subtype) {
    case 'a':
      return "arrays";
    case 'b':
      return "booleans";
    case 'f':
      return "functions";
    case 'n':
      return "numbers";
    case 'o':
      return "objects";
    case 's':
      return "strings";
    default:
      return "";
  }
}

}  // namespace

Signature Signature::Parse(std::string_view text) {
  Signature sig;
  sig.text_ = std::string(text);
  Param param;
  for (std::size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':') break;
    Param* prev = sig.params_.empty() ? nullptr : &sig.params_.back();
    switch (c) {
      case 's':
      case 'n':
      case 'b':
      case 'l':
      case 'o':
        param = Param{};
        param.symbols = std::string(1, c) + "m";
        param.type = c;
        sig.params_.push_back(param);
        break;
      case 'a':
      case 'x':
        param = Param{};
        param.symbols = "asnblfom";
        param.type = c;
        sig.params_.push_back(param);
        break;
      case 'f':
        param = Param{};
        param.symbols = "f";
        param.type = c;
        sig.params_.push_back(param);
        break;
      case 'j':
        param = Param{};
        param.symbols = "asnblom";
        param.type = c;
        sig.params_.push_back(param);
        break;
      case '-':
        if (prev != nullptr) {
          prev->context = true;
          prev->context_symbols = prev->symbols;
          prev->min = 0;  // "x?" lazily after "-": the context fills in only when missing
          prev->greedy = true;
        }
        break;
      case '?':
        if (prev != nullptr) {
          if (prev->min == 0 && prev->max == 1) {
            prev->greedy = false;  // "??": lazy
          } else if (prev->max == -1) {
            prev->greedy = false;  // "+?"
          } else {
            prev->min = 0;
          }
        }
        break;
      case '+':
        if (prev != nullptr) prev->max = -1;
        break;
      case '(': {
        std::size_t end = ClosingBracket(text, i, '(', ')');
        std::string_view choice = text.substr(i + 1, end - i - 1);
        if (choice.find('<') != std::string_view::npos) {
          Fail("S0402", {.position = i, .value = "\"" + std::string(choice) + "\""});
        }
        param = Param{};
        param.symbols = std::string(choice) + "m";
        param.type = '(';
        sig.params_.push_back(param);
        i = end;
        break;
      }
      case '<': {
        if (prev == nullptr || (prev->type != 'a' && prev->type != 'f')) {
          Fail("S0401",
               {.position = i, .value = prev ? "\"" + std::string(1, prev->type) + "\"" : ""});
        }
        std::size_t end = ClosingBracket(text, i, '<', '>');
        prev->subtype = std::string(text.substr(i + 1, end - i - 1));
        i = end;
        break;
      }
      default:
        break;
    }
  }
  return sig;
}

// Regular-expression matching of the argument kinds against the parameters, with the same
// greedy/lazy choices as the reference's regex, so the same arguments bind the same way.
bool Signature::Match(const std::string& supplied, std::size_t param, std::size_t at,
                      std::vector<std::size_t>& counts) const {
  if (param == params_.size()) return at == supplied.size();
  const Param& p = params_[param];
  std::size_t available = 0;
  while (at + available < supplied.size() &&
         p.symbols.find(supplied[at + available]) != std::string::npos) {
    ++available;
    if (p.max != -1 && available >= static_cast<std::size_t>(p.max)) break;
  }
  std::size_t min = static_cast<std::size_t>(p.min);
  if (available < min) return false;
  if (p.greedy) {
    for (std::size_t n = available + 1; n-- > min;) {
      counts[param] = n;
      if (Match(supplied, param + 1, at + n, counts)) return true;
    }
  } else {
    for (std::size_t n = min; n <= available; ++n) {
      counts[param] = n;
      if (Match(supplied, param + 1, at + n, counts)) return true;
    }
  }
  return false;
}

void Signature::ThrowMismatch(const std::vector<Value>& args,
                              const std::string& supplied) const {
  // Find the first argument that no longer matches, one parameter at a time.
  std::size_t good = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    std::size_t n = 0;
    while (good + n < supplied.size() && p.symbols.find(supplied[good + n]) != std::string::npos &&
           (p.max == -1 || n < static_cast<std::size_t>(p.max))) {
      ++n;
    }
    if (n < static_cast<std::size_t>(p.min)) break;
    good += n;
  }
  std::string value;
  if (good < args.size()) value = DescribeValue(args[good]);
  Fail("T0410", {.value = value, .index = static_cast<int>(good + 1)});
}

std::vector<Value> Signature::Validate(std::vector<Value> args, const Value& context) const {
  std::string supplied;
  supplied.reserve(args.size());
  for (const Value& a : args) supplied.push_back(SignatureSymbol(a));
  std::vector<std::size_t> counts(params_.size(), 0);
  if (!Match(supplied, 0, 0, counts)) ThrowMismatch(args, supplied);
  std::vector<Value> out;
  out.reserve(params_.size() + args.size());
  std::size_t arg = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    if (counts[i] == 0) {
      if (p.context) {
        char symbol = SignatureSymbol(context);
        if (p.context_symbols.find(symbol) == std::string::npos) {
          Fail("T0411", {.value = DescribeValue(context), .index = static_cast<int>(arg + 1)});
        }
        out.push_back(context);
      } else {
        out.push_back(arg < args.size() ? args[arg] : Value());
        ++arg;
      }
      continue;
    }
    for (std::size_t k = 0; k < counts[i]; ++k, ++arg) {
      // An optional parameter that matched nothing still took an argument (as the
      // reference's does), so the rest can run past the end.
      if (arg >= args.size()) {
        out.emplace_back();
        continue;
      }
      Value& a = args[arg];
      char single = supplied[arg];
      if (p.type == 'a') {
        if (single == 'm') {
          out.emplace_back();
          continue;
        }
        bool ok = true;
        if (!p.subtype.empty()) {
          if (single != 'a' && single != p.subtype[0]) {
            ok = false;
          } else if (single == 'a' && a.size() > 0) {
            char item = SignatureSymbol(a[0]);
            if (item != p.subtype[0]) {
              ok = false;
            } else {
              for (const Value& v : a.array().items) {
                if (SignatureSymbol(v) != item) {
                  ok = false;
                  break;
                }
              }
            }
          }
        }
        if (!ok) {
          Fail("T0412", {.value = DescribeValue(a),
                         .index = static_cast<int>(arg + 1),
                         .type = std::string(ArrayTypeName(p.subtype[0]))});
        }
        if (single != 'a') {
          out.push_back(Value::Array({std::move(a)}));
        } else {
          out.push_back(std::move(a));
        }
      } else {
        out.push_back(std::move(a));
      }
    }
  }
  return out;
}

}  // namespace zflow::jsonata
