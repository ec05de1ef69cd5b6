// The YAML pipeline loader: YAML -> Pipeline, with every error located (file:line:column).
#include "zflow/spec.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "asl/suggestion.h"
#include "common/file.h"
#include "pipeline/compiler.h"
#include "pipeline/spec_fields.h"

namespace zflow::spec {

LoadedPipeline::LoadedPipeline() = default;
LoadedPipeline::~LoadedPipeline() = default;
LoadedPipeline::LoadedPipeline(LoadedPipeline&&) noexcept = default;
LoadedPipeline& LoadedPipeline::operator=(LoadedPipeline&&) noexcept = default;

std::string LoadedPipeline::Locate(std::string_view message) const {
  constexpr std::string_view kStep = "step \"";
  std::size_t p = message.find(kStep);
  if (p != std::string_view::npos) {
    std::size_t start = p + kStep.size();
    std::size_t end = message.find('"', start);
    if (end != std::string_view::npos) {
      auto it = step_places_.find(std::string(message.substr(start, end - start)));
      if (it != step_places_.end() && it->second.first > 0) {
        if (it->second.second == 0) {
          return fmt::format("{}:{}: {}", file_, it->second.first, message);
        }
        return fmt::format("{}:{}:{}: {}", file_, it->second.first, it->second.second, message);
      }
    }
  }
  if (pipeline_line_ > 0) return fmt::format("{}:{}: {}", file_, pipeline_line_, message);
  return fmt::format("{}: {}", file_, message);
}

LoadedPipeline::Place LoadedPipeline::StepPlace(const std::string& step) const {
  auto it = step_places_.find(step);
  if (it == step_places_.end()) return {file_, pipeline_line_, 0};
  return {file_, it->second.first, it->second.second};
}

namespace {

struct SpecError {
  std::string message;
};

bool IsNumber(std::string_view s, json::value* out) {
  if (s.empty()) return false;
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) {
    *out = i;
    return true;
  }
  double d = 0;
  auto [pd, ecd] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ecd == std::errc() && pd == s.data() + s.size() && s.find_first_of(".eE") != s.npos) {
    *out = d;
    return true;
  }
  return false;
}

std::string Trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  std::size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}


}  // namespace

class Loader {
 public:
  explicit Loader(std::string file, const DeclaredPlaces* declared = nullptr)
      : file_(std::move(file)), declared_(declared) {}

  // A declared pipeline's document (see LoadPipelineDocument).
  Result<LoadedPipeline> Load(const YAML::Node& root) {
    try {
      LoadRoot(root);
      return std::move(out_);
    } catch (const SpecError& e) {
      return InvalidArgumentError(e.message);
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError(fmt::format("{}: {}", Here(), e.msg));
    }
  }

  Result<LoadedPipeline> Load(std::string_view text) {
    try {
      YAML::Node root;
      try {
        root = YAML::Load(std::string(text));
      } catch (const YAML::Exception& e) {
        return InvalidArgumentError(fmt::format("{}:{}:{}: YAML: {}", file_, e.mark.line + 1,
                                                e.mark.column + 1, e.msg));
      }
      LoadRoot(root);
      return std::move(out_);
    } catch (const SpecError& e) {
      return InvalidArgumentError(e.message);
    } catch (const YAML::Exception& e) {
      // A conversion this loader does not guard (it guards all it knows of).
      if (e.mark.is_null()) return InvalidArgumentError(fmt::format("{}: {}", Here(), e.msg));
      return InvalidArgumentError(fmt::format("{}:{}:{}: {}", file_, e.mark.line + 1,
                                              e.mark.column + 1, e.msg));
    }
  }

 private:
  [[noreturn]] void Fail(const YAML::Node& at, std::string_view message) {
    YAML::Mark m = at.Mark();
    if (m.is_null()) throw SpecError{fmt::format("{}: {}", Here(), message)};
    throw SpecError{fmt::format("{}:{}:{}: {}", file_, m.line + 1, m.column + 1, message)};
  }

  // Without a place in a YAML text: the declaring line of the step being read, or of the
  // pipeline.
  std::string Here() const {
    if (declared_ != nullptr) {
      int line = declared_->pipeline_line;
      auto it = declared_->steps.find(current_step_);
      if (it != declared_->steps.end()) line = it->second;
      if (line > 0) return fmt::format("{}:{}", file_, line);
    }
    return file_;
  }

  // A mapping key: a plain value (not a list or mapping).
  std::string Key(const YAML::Node& k) {
    if (!k.IsScalar()) Fail(k, "a key must be a plain name, not a list or mapping");
    return k.Scalar();
  }

  void CheckKeys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                 std::string_view what) {
    CheckKeys(map, std::vector<std::string_view>(allowed), what);
  }

  // A step kind's keys come from the field table (pipeline/spec_fields.h).
  void CheckKindKeys(const YAML::Node& map, std::string_view kind, std::string_view what) {
    std::vector<std::string_view> keys;
    for (const FieldInfo& f : StepKind(kind).fields) keys.push_back(f.key);
    CheckKeys(map, keys, what);
  }

  void CheckKeys(const YAML::Node& map, const std::vector<std::string_view>& candidates,
                 std::string_view what) {
    if (!map.IsMap()) Fail(map, fmt::format("{}: expected a mapping (key: value)", what));
    for (const auto& kv : map) {
      std::string key = Key(kv.first);
      if (std::find(candidates.begin(), candidates.end(), key) == candidates.end()) {
        std::string expected;
        for (auto a : candidates) expected += (expected.empty() ? "" : ", ") + std::string(a);
        Fail(kv.first, fmt::format("{}: unknown key \"{}\"{}; expected one of: {}", what, key,
                                   asl::DidYouMean(key, candidates), expected));
      }
    }
  }

  std::string Scalar(const YAML::Node& n, std::string_view what) {
    if (!n.IsScalar()) Fail(n, fmt::format("{}: expected a single value", what));
    return n.Scalar();
  }

  // Plain scalars take their YAML type; quoted ones are strings.
  json::value Literal(const YAML::Node& n) {
    if (n.IsNull()) return nullptr;
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return json::value(s);
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~") return nullptr;
      json::value num;
      if (IsNumber(s, &num)) return num;
      return json::value(s);
    }
    if (n.IsSequence()) {
      json::array a;
      for (const auto& item : n) a.push_back(Literal(item));
      return a;
    }
    json::object o;
    for (const auto& kv : n) {
      const json::value v = Literal(kv.second);
      if (v.is_string() && v.as_string().find("{{") != json::string::npos) {
        Fail(kv.second, "references ({{ }}) are allowed in a field's own value, not inside "
                        "nested objects or lists");
      }
      o[Key(kv.first)] = v;
    }
    return o;
  }

  // "${Name}" must name a declared external.
  void CheckExternals(const YAML::Node& at, std::string_view s) {
    for (std::size_t p = s.find("${"); p != std::string_view::npos; p = s.find("${", p + 2)) {
      std::size_t close = s.find('}', p);
      if (close == std::string_view::npos) Fail(at, "unterminated ${ in a value");
      std::string name(s.substr(p + 2, close - p - 2));
      if (!externals_.count(name)) {
        std::vector<std::string_view> names(externals_.begin(), externals_.end());
        Fail(at, fmt::format("${{{}}} is not a declared external{}; declare it under "
                             "\"externals:\"",
                             name, asl::DidYouMean(name, names)));
      }
    }
  }

  // A reference inside {{ }}.
  Value Reference(const YAML::Node& at, std::string_view text) {
    std::string ref = Trim(text);
    auto rest_of = [&](std::string_view rest) -> std::string {
      if (!rest.empty() && rest.front() != '.' && rest.front() != '[') {
        Fail(at, fmt::format("{{{{ {} }}}}: expected '.' or '[' after the name", ref));
      }
      return std::string(rest);
    };
    if (ref.starts_with("params.")) {
      std::string name = ref.substr(7);
      auto it = parameters_.find(name);
      if (it == parameters_.end()) {
        std::vector<std::string_view> names;
        for (const auto& [k, v] : parameters_) names.push_back(k);
        Fail(at, fmt::format("{{{{ {} }}}}: \"{}\" is not a parameter{}", ref, name,
                             asl::DidYouMean(name, names)));
      }
      return Value::Expression(pipeline::ParameterPath(name), it->second);
    }
    if (ref.starts_with("steps.")) {
      std::string_view tail = std::string_view(ref).substr(6);
      // The longest step name that the text starts with (names may contain '.').
      std::string best;
      for (const auto& name : step_names_) {
        if (tail.starts_with(name) && name.size() > best.size() &&
            (tail.size() == name.size() || tail[name.size()] == '.' || tail[name.size()] == '[')) {
          best = name;
        }
      }
      if (best.empty()) {
        std::string first(tail.substr(0, tail.find_first_of(".[")));
        std::vector<std::string_view> names(step_names_.begin(), step_names_.end());
        Fail(at, fmt::format("{{{{ {} }}}}: \"{}\" is not a step{}", ref, first,
                             asl::DidYouMean(first, names)));
      }
      return Value::Expression(
          pipeline::StepResultPath(best) + rest_of(tail.substr(best.size())), ValueType::kAny,
          {best});
    }
    if (ref == "execution.name") return ExecutionName();
    if (ref == "execution.id") return Value::Expression("$$.Execution.Id", ValueType::kString);
    if (ref == "execution.start_time") {
      return Value::Expression("$$.Execution.StartTime", ValueType::kString);
    }
    if (ref == "item" || ref.starts_with("item.") || ref.starts_with("item[")) {
      if (!in_body_) Fail(at, fmt::format("{{{{ {} }}}}: \"item\" exists only inside for_each", ref));
      return Value::Expression("$.item" + rest_of(std::string_view(ref).substr(4)),
                               ValueType::kAny);
    }
    Fail(at, fmt::format("unknown reference {{{{ {} }}}}; expected params.<name>, "
                         "steps.<step>.<path>, execution.name, execution.id, "
                         "execution.start_time or item",
                         ref));
  }

  // A string with {{ }} references: the reference itself, or a formatted string.
  Value Template(const YAML::Node& at, const std::string& s) {
    CheckExternals(at, s);
    if (s.find("{{") == std::string::npos) return Value(s);
    std::string pattern;
    std::vector<Value> args;
    std::size_t pos = 0;
    while (pos < s.size()) {
      std::size_t open = s.find("{{", pos);
      if (open == std::string::npos) {
        pattern += s.substr(pos);
        break;
      }
      std::size_t close = s.find("}}", open);
      if (close == std::string::npos) Fail(at, fmt::format("\"{}\": {{{{ without }}}}", s));
      pattern += s.substr(pos, open - pos) + "{}";
      args.push_back(Reference(at, std::string_view(s).substr(open + 2, close - open - 2)));
      pos = close + 2;
    }
    if (pattern == "{}") return args[0];
    return Format(pattern, args);
  }

  Value AnyValue(const YAML::Node& n) {
    if (n.IsScalar()) {
      json::value lit = Literal(n);
      if (lit.is_string()) return Template(n, n.Scalar());
      return Value::Json(lit);
    }
    return Value::Json(Literal(n));
  }

  StringValue Str(const YAML::Node& n, std::string_view what) {
    if (!n.IsScalar()) Fail(n, fmt::format("{}: expected a string", what));
    Value v = Template(n, n.Scalar());  // a plain 6 in a string field is the string "6"
    if (v.type() != ValueType::kString && v.type() != ValueType::kAny) {
      Fail(n, fmt::format("{}: expected a string, got {}", what, pipeline::TypeWord(v.type())));
    }
    return StringValue(v);
  }

  NumberValue Num(const YAML::Node& n, std::string_view what) {
    if (n.IsScalar() && n.Tag() != "!") {
      json::value num;
      if (IsNumber(n.Scalar(), &num)) return NumberValue(Value::Json(num));
    }
    if (n.IsScalar() && n.Scalar().find("{{") != std::string::npos) {
      Value v = Template(n, n.Scalar());
      if (v.type() == ValueType::kNumber || (v.type() == ValueType::kAny && v.is_path())) {
        return NumberValue(v);
      }
      Fail(n, fmt::format("{}: expected a number, got {}", what, pipeline::TypeWord(v.type())));
    }
    Fail(n, fmt::format("{}: expected a number, got \"{}\"", what,
                        n.IsScalar() ? n.Scalar() : std::string("a structure")));
  }

  int Int(const YAML::Node& n, std::string_view what) {
    json::value num;
    if (!n.IsScalar() || n.Tag() == "!" || !IsNumber(n.Scalar(), &num) || !num.is_int64() ||
        num.as_int64() < INT32_MIN || num.as_int64() > INT32_MAX) {
      Fail(n, fmt::format("{}: expected a whole number", what));
    }
    return static_cast<int>(num.as_int64());
  }

  double Double(const YAML::Node& n, std::string_view what) {
    json::value num;
    if (!n.IsScalar() || n.Tag() == "!" || !IsNumber(n.Scalar(), &num)) {
      Fail(n, fmt::format("{}: expected a number", what));
    }
    return num.to_number<double>();
  }

  bool Bool(const YAML::Node& n, std::string_view what) {
    json::value v = n.IsScalar() ? Literal(n) : json::value();
    if (!v.is_bool()) Fail(n, fmt::format("{}: expected true or false", what));
    return v.as_bool();
  }

  std::string Text(const YAML::Node& n, std::string_view what) {
    if (!n.IsScalar()) Fail(n, fmt::format("{}: expected a string", what));
    if (n.Scalar().find("{{") != std::string::npos) {
      Fail(n, fmt::format("{}: a fixed value is expected here, not a reference", what));
    }
    return n.Scalar();
  }

  std::map<std::string, StringValue> StrMap(const YAML::Node& n, std::string_view what) {
    if (!n.IsMap()) Fail(n, fmt::format("{}: expected a mapping (key: value)", what));
    std::map<std::string, StringValue> out;
    for (const auto& kv : n) {
      std::string k = Key(kv.first);
      out.emplace(k, Str(kv.second, fmt::format("{}.{}", what, k)));
    }
    return out;
  }

  std::vector<StringValue> StrList(const YAML::Node& n, std::string_view what) {
    if (!n.IsSequence()) Fail(n, fmt::format("{}: expected a list", what));
    std::vector<StringValue> out;
    for (std::size_t i = 0; i < n.size(); ++i) out.push_back(Str(n[i], fmt::format("{}[{}]", what, i)));
    return out;
  }

  std::vector<std::string> TextList(const YAML::Node& n, std::string_view what) {
    if (n.IsScalar()) return {Text(n, what)};
    if (!n.IsSequence()) Fail(n, fmt::format("{}: expected a list", what));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) out.push_back(Text(n[i], fmt::format("{}[{}]", what, i)));
    return out;
  }

  RetryPolicy Retry(const YAML::Node& n, std::string_view what) {
    CheckKeys(n, {"errors", "interval_seconds", "max_attempts", "backoff_rate",
                  "max_delay_seconds", "jitter"},
              what);
    RetryPolicy r;
    if (n["errors"]) r.errors = TextList(n["errors"], fmt::format("{}.errors", what));
    if (n["interval_seconds"]) r.interval_seconds = Int(n["interval_seconds"], "interval_seconds");
    if (n["max_attempts"]) r.max_attempts = Int(n["max_attempts"], "max_attempts");
    if (n["backoff_rate"]) r.backoff_rate = Double(n["backoff_rate"], "backoff_rate");
    if (n["max_delay_seconds"]) r.max_delay_seconds = Int(n["max_delay_seconds"], "max_delay_seconds");
    if (n["jitter"]) r.jitter = Bool(n["jitter"], "jitter");
    return r;
  }

  // ---- Conditions: a small expression language over references and literals. ----
  class ConditionParser {
   public:
    ConditionParser(Loader& l, const YAML::Node& at, std::string text)
        : l_(l), at_(at), text_(std::move(text)) {}

    Condition Parse() {
      Condition c = Or();
      Skip();
      if (pos_ < text_.size()) Error("unexpected text");
      return c;
    }

   private:
    [[noreturn]] void Error(std::string_view what) {
      l_.Fail(at_, fmt::format("when: {} at character {} of \"{}\"; expected comparisons "
                               "(a > b, a == 'x') joined by and, or, not and parentheses",
                               what, pos_ + 1,
                               text_.size() > 80 ? text_.substr(0, 77) + "..." : text_));
    }
    void Skip() {
      while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    }
    bool Word(std::string_view w) {
      Skip();
      if (text_.compare(pos_, w.size(), w) != 0) return false;
      std::size_t end = pos_ + w.size();
      if (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) {
        return false;
      }
      pos_ = end;
      return true;
    }
    Condition Or() {
      Condition c = And();
      while (Word("or")) c = c || And();
      return c;
    }
    Condition And() {
      Condition c = Unary();
      while (Word("and")) c = c && Unary();
      return c;
    }
    // Every nesting (a "not", a parenthesis) passes through here: bounded, so that a condition
    // cannot overflow the stack.
    Condition Unary() {
      struct Level {
        explicit Level(int& d) : depth(++d) {}
        ~Level() { --depth; }
        int& depth;
      } level(depth_);
      if (depth_ > kMaxDepth) Error(fmt::format("nested deeper than {} levels", kMaxDepth));
      if (Word("not")) return !Unary();
      Skip();
      if (pos_ < text_.size() && text_[pos_] == '(') {
        ++pos_;
        Condition c = Or();
        Skip();
        if (pos_ >= text_.size() || text_[pos_] != ')') Error("missing ')'");
        ++pos_;
        return c;
      }
      for (bool present : {true, false}) {
        if (Word(present ? "present" : "absent")) {
          Skip();
          if (pos_ >= text_.size() || text_[pos_] != '(') Error("expected '(' after present/absent");
          ++pos_;
          Value v = Operand();
          Skip();
          if (pos_ >= text_.size() || text_[pos_] != ')') Error("missing ')'");
          ++pos_;
          return Condition::IsPresent(v, present);
        }
      }
      Value left = Operand();
      Skip();
      std::string op;
      for (const char* o : {"==", "!=", "<=", ">=", "<", ">"}) {
        if (text_.compare(pos_, std::strlen(o), o) == 0) {
          op = o;
          break;
        }
      }
      if (op.empty()) Error("expected a comparison operator (== != < <= > >=)");
      pos_ += op.size();
      Value right = Operand();
      return Condition::Compare(left, op, right);
    }
    Value Operand() {
      Skip();
      if (pos_ >= text_.size()) Error("expected a value");
      char c = text_[pos_];
      if (c == '\'' || c == '"') {
        std::size_t end = text_.find(c, pos_ + 1);
        if (end == std::string::npos) Error("unterminated string");
        std::string s = text_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return Value(s);
      }
      if (text_.compare(pos_, 2, "{{") == 0) {
        std::size_t end = text_.find("}}", pos_);
        if (end == std::string::npos) Error("{{ without }}");
        Value v = l_.Reference(at_, std::string_view(text_).substr(pos_ + 2, end - pos_ - 2));
        pos_ = end + 2;
        return v;
      }
      std::size_t start = pos_;
      // A bare reference or literal: up to a space, an operator or a parenthesis (brackets
      // with quoted names are kept whole).
      char quote = 0;
      while (pos_ < text_.size()) {
        char ch = text_[pos_];
        if (quote != 0) {
          if (ch == quote) quote = 0;
        } else if (ch == '\'' || ch == '"') {
          quote = ch;
        } else if (ch == ' ' || ch == '(' || ch == ')' || ch == '=' || ch == '!' || ch == '<' ||
                   ch == '>') {
          break;
        }
        ++pos_;
      }
      std::string word = text_.substr(start, pos_ - start);
      if (word.empty()) Error("expected a value");
      if (word == "true") return Value(true);
      if (word == "false") return Value(false);
      json::value num;
      if (IsNumber(word, &num)) return Value::Json(num);
      return l_.Reference(at_, word);
    }

    static constexpr int kMaxDepth = 100;
    Loader& l_;
    const YAML::Node& at_;
    std::string text_;
    std::size_t pos_ = 0;
    int depth_ = 0;
  };

  // ---- Steps ----

  TrainingJob Training(const YAML::Node& n, std::string_view what) {
    CheckKindKeys(n, "training", what);
    TrainingJob t;
    auto key = [&](const char* k) { return fmt::format("{}.{}", what, k); };
    if (n["image"]) t.image = Str(n["image"], key("image"));
    if (n["role_arn"]) t.role_arn = Str(n["role_arn"], key("role_arn"));
    if (n["hyperparameters"]) t.hyperparameters = StrMap(n["hyperparameters"], key("hyperparameters"));
    if (n["channels"]) t.channels = StrMap(n["channels"], key("channels"));
    if (n["content_type"]) t.content_type = Str(n["content_type"], key("content_type"));
    if (n["output_path"]) t.output_path = Str(n["output_path"], key("output_path"));
    if (n["instance_type"]) t.instance_type = Str(n["instance_type"], key("instance_type"));
    if (n["instance_count"]) t.instance_count = Num(n["instance_count"], key("instance_count"));
    if (n["volume_size_gb"]) t.volume_size_gb = Num(n["volume_size_gb"], key("volume_size_gb"));
    if (n["max_runtime_seconds"]) {
      t.max_runtime_seconds = Num(n["max_runtime_seconds"], key("max_runtime_seconds"));
    }
    if (n["environment"]) t.environment = StrMap(n["environment"], key("environment"));
    if (const YAML::Node m = n["metric_definitions"]) {
      if (!m.IsMap()) Fail(m, fmt::format("{}: expected name: regex pairs", key("metric_definitions")));
      for (const auto& kv : m) {
        t.metric_definitions.push_back({Key(kv.first), Text(kv.second, "regex")});
      }
    }
    return t;
  }

  void AddStep(Pipeline& p, const YAML::Node& n, std::map<std::string, StepRef>& refs,
               std::vector<std::pair<const YAML::Node, StepRef>>& afters) {
    std::vector<std::string_view> kinds;
    for (const StepKindInfo& info : StepKinds()) kinds.push_back(info.kind);
    std::vector<std::string_view> allowed;
    for (const FieldInfo& f : CommonStepFields()) allowed.push_back(f.key);
    const std::string common_words = fmt::format("{}", fmt::join(allowed, ", "));
    const std::string kind_words = fmt::format("{}", fmt::join(kinds, ", "));
    allowed.insert(allowed.end(), kinds.begin(), kinds.end());
    if (!n.IsMap()) Fail(n, "a step is a mapping with a name and one kind (lambda, training, ...)");
    if (!n["name"]) Fail(n, "step: \"name\" is required");
    std::string name = Text(n["name"], "name");
    std::string what = fmt::format("step \"{}\"", name);
    std::vector<std::string_view> keys;
    std::string_view kind;
    for (const auto& kv : n) {
      std::string key = Key(kv.first);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Fail(kv.first, fmt::format("{}: unknown key \"{}\"{}; a step has {} and one of {}",
                                   what, key, asl::DidYouMean(key, allowed), common_words,
                                   kind_words));
      }
      for (auto k : kinds) {
        if (key == k) {
          if (!kind.empty()) Fail(kv.first, fmt::format("{}: has both {} and {}; a step has one kind", what, kind, key));
          kind = k;
        }
      }
    }
    if (kind.empty()) {
      Fail(n, fmt::format("{}: missing its kind: one of {}", what, kind_words));
    }
    current_step_ = name;
    if (auto other = out_.step_places_.find(name); other != out_.step_places_.end()) {
      Fail(n["name"], other->second.first > 0
                          ? fmt::format("{}: two steps are named \"{}\" (the other is on line {})",
                                        what, name, other->second.first)
                          : fmt::format("{}: two steps are named \"{}\"", what, name));
    }
    if (declared_ != nullptr) {
      auto it = declared_->steps.find(name);
      out_.step_places_[name] = {it == declared_->steps.end() ? 0 : it->second, 0};
    } else {
      YAML::Mark mark = n.Mark();
      out_.step_places_[name] = {mark.line + 1, mark.column + 1};
    }
    const YAML::Node body = n[std::string(kind)];
    std::string k = fmt::format("{}: {}", what, kind);
    auto key = [&](const char* field) { return fmt::format("{}.{}", k, field); };
    StepRef ref = [&]() -> StepRef {
      if (kind == "lambda") {
        CheckKindKeys(body, kind, k);
        LambdaFunction l{.name = name};
        if (body["function_name"]) l.function_name = Str(body["function_name"], key("function_name"));
        if (const YAML::Node pl = body["payload"]) {
          if (!pl.IsMap()) Fail(pl, fmt::format("{}: expected a mapping", key("payload")));
          for (const auto& kv : pl) l.payload[Key(kv.first)] = AnyValue(kv.second);
        }
        return p.Add(std::move(l));
      }
      if (kind == "training") {
        TrainingJob t = Training(body, k);
        t.name = name;
        return p.Add(std::move(t));
      }
      if (kind == "processing") {
        CheckKindKeys(body, kind, k);
        ProcessingJob j{.name = name};
        if (body["image"]) j.image = Str(body["image"], key("image"));
        if (body["role_arn"]) j.role_arn = Str(body["role_arn"], key("role_arn"));
        if (body["entrypoint"]) j.entrypoint = TextList(body["entrypoint"], key("entrypoint"));
        if (body["arguments"]) j.arguments = StrList(body["arguments"], key("arguments"));
        for (const char* io : {"inputs", "outputs"}) {
          const YAML::Node list = body[io];
          if (!list) continue;
          if (!list.IsSequence()) Fail(list, fmt::format("{}: expected a list", key(io)));
          for (std::size_t i = 0; i < list.size(); ++i) {
            std::string w = fmt::format("{}[{}]", key(io), i);
            CheckKeys(list[i], {"name", "s3_uri", "local_path"}, w);
            if (!list[i]["name"] || !list[i]["s3_uri"] || !list[i]["local_path"]) {
              Fail(list[i], fmt::format("{}: name, s3_uri and local_path are required", w));
            }
            std::string nm = Text(list[i]["name"], w);
            StringValue uri = Str(list[i]["s3_uri"], w + ".s3_uri");
            std::string local = Text(list[i]["local_path"], w + ".local_path");
            if (std::string_view(io) == "inputs") {
              j.inputs.push_back({nm, uri, local});
            } else {
              j.outputs.push_back({nm, uri, local});
            }
          }
        }
        if (body["instance_type"]) j.instance_type = Str(body["instance_type"], key("instance_type"));
        if (body["instance_count"]) j.instance_count = Num(body["instance_count"], key("instance_count"));
        if (body["volume_size_gb"]) j.volume_size_gb = Num(body["volume_size_gb"], key("volume_size_gb"));
        if (body["max_runtime_seconds"]) {
          j.max_runtime_seconds = Num(body["max_runtime_seconds"], key("max_runtime_seconds"));
        }
        if (body["environment"]) j.environment = StrMap(body["environment"], key("environment"));
        return p.Add(std::move(j));
      }
      if (kind == "transform") {
        CheckKindKeys(body, kind, k);
        BatchTransformJob b{.name = name};
        if (body["model_name"]) b.model_name = Str(body["model_name"], key("model_name"));
        if (body["input_uri"]) b.input_uri = Str(body["input_uri"], key("input_uri"));
        if (body["output_uri"]) b.output_uri = Str(body["output_uri"], key("output_uri"));
        if (body["content_type"]) b.content_type = Text(body["content_type"], key("content_type"));
        if (body["split_type"]) b.split_type = Text(body["split_type"], key("split_type"));
        if (body["strategy"]) b.strategy = Text(body["strategy"], key("strategy"));
        if (body["assemble_with"]) b.assemble_with = Text(body["assemble_with"], key("assemble_with"));
        if (body["accept"]) b.accept = Text(body["accept"], key("accept"));
        if (body["max_payload_mb"]) b.max_payload_mb = Int(body["max_payload_mb"], key("max_payload_mb"));
        if (body["instance_type"]) b.instance_type = Str(body["instance_type"], key("instance_type"));
        if (body["instance_count"]) b.instance_count = Num(body["instance_count"], key("instance_count"));
        if (body["environment"]) b.environment = StrMap(body["environment"], key("environment"));
        return p.Add(std::move(b));
      }
      if (kind == "tuning") {
        CheckKindKeys(body, kind, k);
        HyperparameterTuningJob h{.name = name};
        if (!body["training"]) Fail(body, fmt::format("{}: training is required", k));
        h.training = Training(body["training"], key("training"));
        if (body["objective_metric"]) h.objective_metric = Text(body["objective_metric"], key("objective_metric"));
        if (body["objective_type"]) h.objective_type = Text(body["objective_type"], key("objective_type"));
        if (body["strategy"]) h.strategy = Text(body["strategy"], key("strategy"));
        if (body["max_jobs"]) h.max_jobs = Int(body["max_jobs"], key("max_jobs"));
        if (body["max_parallel_jobs"]) h.max_parallel_jobs = Int(body["max_parallel_jobs"], key("max_parallel_jobs"));
        if (const YAML::Node ranges = body["ranges"]) {
          if (!ranges.IsMap()) Fail(ranges, fmt::format("{}: expected name: range pairs", key("ranges")));
          for (const auto& kv : ranges) {
            std::string rn = Key(kv.first);
            std::string w = fmt::format("{}.{}", key("ranges"), rn);
            const YAML::Node r = kv.second;
            CheckKeys(r, {"continuous", "integer", "categorical", "scaling"}, w);
            ParameterRange pr{.name = rn};
            if (r["categorical"]) {
              pr.kind = ParameterRange::Kind::kCategorical;
              pr.values = TextList(r["categorical"], w + ".categorical");
            } else {
              const char* which = r["integer"] ? "integer" : "continuous";
              if (!r[which]) Fail(r, fmt::format("{}: one of continuous: [min, max], integer: [min, max] or categorical: [values]", w));
              pr.kind = r["integer"] ? ParameterRange::Kind::kInteger
                                     : ParameterRange::Kind::kContinuous;
              const YAML::Node mm = r[which];
              if (!mm.IsSequence() || mm.size() != 2) Fail(mm, fmt::format("{}.{}: expected [min, max]", w, which));
              Double(mm[0], w + " min");
              Double(mm[1], w + " max");
              pr.min_value = mm[0].Scalar();
              pr.max_value = mm[1].Scalar();
            }
            if (r["scaling"]) pr.scaling = Text(r["scaling"], w + ".scaling");
            h.ranges.push_back(std::move(pr));
          }
        }
        return p.Add(std::move(h));
      }
      if (kind == "model") {
        CheckKindKeys(body, kind, k);
        Model m{.name = name};
        if (body["image"]) m.image = Str(body["image"], key("image"));
        if (body["model_data_url"]) m.model_data_url = Str(body["model_data_url"], key("model_data_url"));
        if (body["role_arn"]) m.role_arn = Str(body["role_arn"], key("role_arn"));
        if (body["environment"]) m.environment = StrMap(body["environment"], key("environment"));
        return p.Add(std::move(m));
      }
      if (kind == "endpoint") {
        CheckKindKeys(body, kind, k);
        EndpointDeployment e{.name = name};
        if (body["endpoint_name"]) e.endpoint_name = Str(body["endpoint_name"], key("endpoint_name"));
        if (body["model_name"]) e.model_name = Str(body["model_name"], key("model_name"));
        if (body["instance_type"]) e.instance_type = Str(body["instance_type"], key("instance_type"));
        if (body["initial_instance_count"]) {
          e.initial_instance_count = Num(body["initial_instance_count"], key("initial_instance_count"));
        }
        if (body["variant_name"]) e.variant_name = Text(body["variant_name"], key("variant_name"));
        if (body["poll_seconds"]) e.poll_seconds = Int(body["poll_seconds"], key("poll_seconds"));
        return p.Add(std::move(e));
      }
      if (kind == "databricks") {
        CheckKindKeys(body, kind, k);
        DatabricksJob d{.name = name};
        if (body["workspace_url"]) d.workspace_url = Str(body["workspace_url"], key("workspace_url"));
        if (body["connection_arn"]) d.connection_arn = Str(body["connection_arn"], key("connection_arn"));
        if (body["python_file"]) d.python_file = Str(body["python_file"], key("python_file"));
        if (body["parameters"]) d.parameters = StrList(body["parameters"], key("parameters"));
        if (body["existing_cluster_id"]) {
          d.existing_cluster_id = Str(body["existing_cluster_id"], key("existing_cluster_id"));
        }
        if (body["spark_version"]) d.spark_version = Text(body["spark_version"], key("spark_version"));
        if (body["node_type_id"]) d.node_type_id = Text(body["node_type_id"], key("node_type_id"));
        if (body["num_workers"]) d.num_workers = Int(body["num_workers"], key("num_workers"));
        if (body["poll_seconds"]) d.poll_seconds = Int(body["poll_seconds"], key("poll_seconds"));
        return p.Add(std::move(d));
      }
      if (kind == "wait") {
        CheckKindKeys(body, kind, k);
        if (!body["seconds"]) Fail(body, fmt::format("{}: seconds is required", k));
        return p.Add(WaitStep{.name = name, .seconds = Num(body["seconds"], key("seconds"))});
      }
      if (kind == "pass") {
        CheckKindKeys(body, kind, k);
        return p.Add(PassStep{.name = name,
                              .result = body["result"] ? Literal(body["result"]) : json::object()});
      }
      if (kind == "fail") {
        CheckKindKeys(body, kind, k);
        FailStep f{.name = name};
        if (body["error"]) f.error = Text(body["error"], key("error"));
        if (body["cause"]) f.cause = Text(body["cause"], key("cause"));
        return p.Add(std::move(f));
      }
      if (kind == "state") {
        return p.Add(RawState{.name = name, .state = Literal(body)});
      }
      // for_each
      CheckKindKeys(body, kind, k);
      if (!body["items"] || !body["steps"]) Fail(body, fmt::format("{}: items and steps are required", k));
      ForEach f{.name = name};
      f.items = Template(body["items"], Scalar(body["items"], key("items")));
      if (body["max_concurrency"]) f.max_concurrency = Int(body["max_concurrency"], key("max_concurrency"));
      auto inner = std::make_unique<Pipeline>(name + " body");
      bool was = in_body_;
      in_body_ = true;
      AddSteps(*inner, body["steps"], key("steps"));
      in_body_ = was;
      f.body = inner.get();
      out_.bodies_.push_back(std::move(inner));
      return p.Add(std::move(f));
    }();
    refs.emplace(name, ref);
    if (n["after"]) afters.emplace_back(n["after"], ref);
    if (const YAML::Node w = n["when"]) {
      ref.When(ConditionParser(*this, w, Scalar(w, what + ": when")).Parse());
    }
    if (n["retry"]) ref.Retry(Retry(n["retry"], what + ": retry"));
    if (n["timeout_seconds"]) ref.TimeoutSeconds(Int(n["timeout_seconds"], what + ": timeout_seconds"));
    if (const YAML::Node c = n["continue_on_failure"]) {
      if (c.IsScalar() && Literal(c).is_bool()) {
        if (Bool(c, "continue_on_failure")) ref.ContinueOnFailure();
      } else {
        ref.ContinueOnFailure(TextList(c, what + ": continue_on_failure"));
      }
    }
  }

  void AddSteps(Pipeline& p, const YAML::Node& steps, std::string_view what) {
    if (!steps.IsSequence()) Fail(steps, fmt::format("{}: expected a list of steps", what));
    std::map<std::string, StepRef> refs;
    std::vector<std::pair<const YAML::Node, StepRef>> afters;
    for (const auto& s : steps) AddStep(p, s, refs, afters);
    for (auto& [node, ref] : afters) {
      std::vector<std::string> names = TextList(node, "after");
      for (std::size_t i = 0; i < names.size(); ++i) {
        auto it = refs.find(names[i]);
        if (it == refs.end()) {
          std::vector<std::string_view> known;
          for (const auto& [k, v] : refs) known.push_back(k);
          Fail(node.IsSequence() ? node[i] : node,
               fmt::format("step \"{}\": after: \"{}\" is not a step of {}{}", ref.name(),
                           names[i], in_body_ ? "this for_each" : "the pipeline",
                           asl::DidYouMean(names[i], known)));
        }
        ref.After(it->second);
      }
    }
  }

  // Every step name in the file (for_each bodies too), for {{ steps.X }} references.
  void CollectNames(const YAML::Node& steps) {
    if (!steps || !steps.IsSequence()) return;
    for (const auto& s : steps) {
      if (!s.IsMap()) continue;
      if (s["name"] && s["name"].IsScalar()) step_names_.insert(s["name"].Scalar());
      if (s["for_each"] && s["for_each"].IsMap()) CollectNames(s["for_each"]["steps"]);
    }
  }

  void LoadRoot(const YAML::Node& root) {
    if (!root.IsMap()) Fail(root, "a pipeline file is a mapping with pipeline: and steps:");
    CheckKeys(root, {"pipeline", "comment", "schedule", "query_language", "tags", "parameters",
                     "externals", "defaults", "on_failure", "steps"},
              "pipeline file");
    if (!root["pipeline"]) Fail(root, "\"pipeline: <name>\" is required");
    PipelineOptions options;
    options.language = declared_ != nullptr ? declared_->language : AuthoringLanguage::kYaml;
    if (root["comment"]) options.comment = Text(root["comment"], "comment");
    if (const YAML::Node q = root["query_language"]) {
      const std::string text = Text(q, "query_language");
      if (text == "JSONata") {
        options.query_language = asl::QueryLanguage::kJsonata;
      } else if (text != "JSONPath") {
        Fail(q, fmt::format("query_language: expected JSONPath or JSONata, not \"{}\"", text));
      }
    }
    if (const YAML::Node s = root["schedule"]) {
      options.schedule = Text(s, "schedule");
      Status st = ValidateScheduleExpression(options.schedule);
      if (!st.ok()) Fail(s, fmt::format("schedule: {}", st.message()));
    }
    if (const YAML::Node t = root["tags"]) {
      if (!t.IsMap()) Fail(t, "tags: expected key: value pairs");
      for (const auto& kv : t) options.tags[Key(kv.first)] = Text(kv.second, "tags");
    }
    if (const YAML::Node d = root["defaults"]) {
      CheckKeys(d, {"retry", "timeout_seconds"}, "defaults");
      if (d["retry"]) options.default_retry = Retry(d["retry"], "defaults.retry");
      if (d["timeout_seconds"]) options.default_timeout_seconds = Int(d["timeout_seconds"], "defaults.timeout_seconds");
    }
    if (const YAML::Node e = root["externals"]) {
      if (!e.IsMap()) Fail(e, "externals: expected Name: {description, local} entries");
      for (const auto& kv : e) externals_.insert(Key(kv.first));
    }
    if (const YAML::Node ps = root["parameters"]) {
      if (!ps.IsMap()) Fail(ps, "parameters: expected name: default pairs");
      for (const auto& kv : ps) {
        json::value def = Literal(kv.second);
        ValueType type = def.is_string()   ? ValueType::kString
                         : def.is_number() ? ValueType::kNumber
                         : def.is_bool()   ? ValueType::kBoolean
                                           : ValueType::kAny;
        if (type == ValueType::kAny) {
          Fail(kv.second, fmt::format("parameter \"{}\": the default must be a string, a number "
                                      "or a boolean",
                                      Key(kv.first)));
        }
        parameters_[Key(kv.first)] = type;
      }
    }
    if (const YAML::Node of = root["on_failure"]) {
      CheckKeys(of, {"name", "function_name", "payload"}, "on_failure");
      if (!of["name"] || !of["function_name"]) Fail(of, "on_failure: name and function_name are required (a Lambda function)");
      LambdaFunction l{.name = Text(of["name"], "on_failure.name")};
      l.function_name = Str(of["function_name"], "on_failure.function_name");
      if (const YAML::Node pl = of["payload"]) {
        if (!pl.IsMap()) Fail(pl, "on_failure.payload: expected a mapping");
        for (const auto& kv : pl) {
          std::string v = kv.second.IsScalar() ? kv.second.Scalar() : "";
          // {{ error }}: the failed step's {"Error", "Cause"}.
          l.payload[Key(kv.first)] =
              Trim(v) == "{{ error }}" ? FailureError()
                                       : AnyValue(kv.second);
        }
      }
      options.on_failure = std::move(l);
    }
    out_.file_ = file_;
    if (declared_ != nullptr) out_.pipeline_line_ = declared_->pipeline_line;
    out_.pipeline_ = std::make_unique<Pipeline>(Text(root["pipeline"], "pipeline"), options);
    Pipeline& p = *out_.pipeline_;
    if (const YAML::Node e = root["externals"]) {
      for (const auto& kv : e) {
        std::string name = Key(kv.first);
        CheckKeys(kv.second, {"description", "local"}, fmt::format("externals.{}", name));
        std::string description = kv.second["description"] ? Text(kv.second["description"], "description") : name;
        std::string local = kv.second["local"] ? Text(kv.second["local"], "local") : "";
        p.External(name, description, local);
      }
    }
    if (const YAML::Node ps = root["parameters"]) {
      for (const auto& kv : ps) {
        std::string name = Key(kv.first);
        json::value def = Literal(kv.second);
        if (def.is_string()) {
          p.Parameter(name, std::string(def.as_string()));
        } else if (def.is_bool()) {
          p.Parameter(name, def.as_bool());
        } else {
          p.Parameter(name, def.to_number<double>());
        }
      }
    }
    if (!root["steps"]) Fail(root, "\"steps:\" is required");
    CollectNames(root["steps"]);
    AddSteps(p, root["steps"], "steps");
  }

  std::string file_;
  const DeclaredPlaces* declared_ = nullptr;
  std::string current_step_;
  LoadedPipeline out_;
  std::set<std::string> externals_;
  std::map<std::string, ValueType> parameters_;
  std::set<std::string> step_names_;
  bool in_body_ = false;
};

Result<LoadedPipeline> LoadPipelineText(std::string_view text, const std::string& file_name) {
  // yaml-cpp recurses once per nesting level: refuse absurd flow nesting before it does.
  int depth = 0;
  int line = 1;
  int indent = 0;
  bool line_start = true;
  for (char c : text) {
    if (c == '\n') {
      ++line;
      indent = 0;
      line_start = true;
      continue;
    }
    if (line_start && c == ' ') {
      if (++indent > 400) {
        return InvalidArgumentError(fmt::format("{}:{}: indented more than 400 columns",
                                                file_name, line));
      }
      continue;
    }
    line_start = false;
    if (c == '[' || c == '{') {
      if (++depth > 100) {
        return InvalidArgumentError(fmt::format(
            "{}:{}: nested deeper than 100 levels of [ and {{", file_name, line));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  Loader loader(file_name);
  return loader.Load(text);
}

namespace {

// JSON to the YAML loader's tree: strings are quoted scalars (text), numbers and booleans plain.
YAML::Node ToYaml(const json::value& v, int depth) {
  if (depth > 100) throw SpecError{"nested deeper than 100 levels"};
  switch (v.kind()) {
    case json::kind::null:
      return YAML::Node(YAML::NodeType::Null);
    case json::kind::bool_:
      return YAML::Node(v.as_bool() ? "true" : "false");
    case json::kind::int64:
      return YAML::Node(std::to_string(v.as_int64()));
    case json::kind::uint64:
      return YAML::Node(std::to_string(v.as_uint64()));
    case json::kind::double_: {
      double d = v.as_double();
      if (!std::isfinite(d)) throw SpecError{fmt::format("{} is not a number JSON can hold", d)};
      std::string s = fmt::format("{}", d);
      if (s.find_first_of(".e") == std::string::npos) s += ".0";  // stays a fraction
      return YAML::Node(s);
    }
    case json::kind::string: {
      YAML::Node n(std::string(v.as_string()));
      n.SetTag("!");
      return n;
    }
    case json::kind::array: {
      YAML::Node n(YAML::NodeType::Sequence);
      for (const auto& item : v.as_array()) n.push_back(ToYaml(item, depth + 1));
      return n;
    }
    case json::kind::object: {
      YAML::Node n(YAML::NodeType::Map);
      for (const auto& [key, item] : v.as_object()) n[std::string(key)] = ToYaml(item, depth + 1);
      return n;
    }
  }
  return YAML::Node();
}

}  // namespace

Result<LoadedPipeline> LoadPipelineDocument(const json::value& document, const std::string& file,
                                            const DeclaredPlaces& places) {
  YAML::Node root;
  try {
    root = ToYaml(document, 0);
  } catch (const SpecError& e) {
    return InvalidArgumentError(fmt::format("{}: {}", file, e.message));
  }
  Loader loader(file, &places);
  return loader.Load(root);
}

Result<LoadedPipeline> LoadPipelineFile(const std::string& path) {
  ZFLOW_ASSIGN_OR_RETURN(FileContents contents, ReadFileCapped(path, 4 << 20));
  if (contents.truncated) {
    return InvalidArgumentError(fmt::format("{}: larger than 4 MiB", path));
  }
  return LoadPipelineText(contents.data, path);
}

}  // namespace zflow::spec
