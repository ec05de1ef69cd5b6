// Semantic rules of ASL, checked over the typed model. Structural rules (types, allowed
// fields) are checked while parsing (parser.cc).
#include "zflow/validator.h"

#include <algorithm>
#include <map>

#include <boost/unordered/unordered_flat_map.hpp>
#include <fmt/format.h>

#include "asl/diagnostic_sink.h"
#include "asl/evaluation.h"
#include "asl/field_table.h"
#include "asl/intrinsics.h"
#include "asl/json_path.h"
#include "asl/jsonata_template.h"
#include "asl/suggestion.h"
#include "asl/timestamp.h"
#include "zflow/jsonata.h"

namespace zflow::asl {
namespace {

bool IsJsonataExpression(const json::value& v) {
  if (!v.is_string()) return false;
  std::string_view s = v.get_string();
  return s.size() >= 4 && s.starts_with("{%") && s.ends_with("%}");
}

// Length in Unicode code points (the unit of AWS's name limits); input is valid UTF-8.
std::size_t CharacterCount(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The first `max` characters of `s`, cut on a character boundary.
std::string_view FirstCharacters(std::string_view s, std::size_t max) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == max) return s.substr(0, i);
  }
  return s;
}

bool IsVariableName(std::string_view name) {
  if (name.empty() || name.size() > 80) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!start(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

// The first state of each name in the machine, and its branch.
struct NamedState {
  const Branch* branch;
  const State* state;
};
// Open addressing (no allocation per name): a large machine's 10,000 names are inserted and
// looked up once each.
using NameTable = boost::unordered_flat_map<std::string_view, NamedState>;

// A branch's states by name. The machine's table answers for nearly every name; the branch's own
// table is built only when it does not (a name used twice, a name of no state, suggestions).
class BranchNames {
 public:
  BranchNames(const Branch& b, const NameTable& machine) : branch_(b), machine_(machine) {}

  const State* Find(std::string_view name) {
    auto it = machine_.find(name);
    if (it != machine_.end() && it->second.branch == &branch_) return it->second.state;
    Build();
    auto own = own_.find(name);
    return own == own_.end() ? nullptr : own->second;
  }

  const std::vector<std::string_view>& names() {
    Build();
    return names_;
  }

 private:
  void Build() {
    if (built_) return;
    built_ = true;
    for (const State& s : branch_.states) {
      own_.emplace(s.name, &s);
      names_.push_back(s.name);
    }
  }

  const Branch& branch_;
  const NameTable& machine_;
  bool built_ = false;
  boost::unordered_flat_map<std::string_view, const State*> own_;
  std::vector<std::string_view> names_;
};

// The first "${Name}" in `text` (CloudFormation's placeholder syntax), or nullopt.
std::optional<std::string> FirstPlaceholder(std::string_view text) {
  for (std::size_t at = text.find("${"); at != std::string_view::npos;
       at = text.find("${", at + 2)) {
    std::size_t end = at + 2;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                 text[end] == '_' || text[end] == '.' || text[end] == ':')) {
      ++end;
    }
    if (end < text.size() && text[end] == '}' && end > at + 2) {
      return std::string(text.substr(at, end + 1 - at));
    }
  }
  return std::nullopt;
}

class Validator {
 public:
  // `paths`: where compiled paths go (for the engine); the validator's own when null.
  Validator(const StateMachine& m, DiagnosticSink& sink, JsonPathCache* paths,
            bool strict_placeholders = false)
      : machine_(m),
        sink_(sink),
        paths_(paths != nullptr ? paths : &own_paths_),
        strict_placeholders_(strict_placeholders) {}

  void Run() {
    if (machine_.timeout_seconds && *machine_.timeout_seconds > kMaxIntegerField) {
      sink_.Error(diag::kQuota, "/TimeoutSeconds",
                  fmt::format("\"TimeoutSeconds\" is {}; AWS allows at most {}",
                              *machine_.timeout_seconds, kMaxIntegerField));
    }
    all_names_.reserve(machine_.states().size());
    CollectNames(machine_.top());
    CheckBranch(machine_.top(), machine_.DefaultQueryLanguage(), "the state machine");
    CheckVariableScopes(machine_.top(), {});
  }

 private:
  // Each Assign of a branch's states (their own, their Choice rules', their catchers'), with
  // its pointer.
  template <typename Fn>
  static void ForEachAssign(const Branch& b, Fn fn) {
    for (const State& s : b.states) {
      // Pointers are made only for the states that assign (most states do not).
      auto at = [&] { return StatePointer(b, s); };
      if (s.assign) fn(*s.assign, JsonPointerAppend(at(), "Assign"), s);
      for (std::size_t i = 0; i < s.choice().choices.size(); ++i) {
        const ChoiceRule& r = s.choice().choices[i];
        if (r.assign) {
          fn(*r.assign,
             JsonPointerAppend(JsonPointerAppend(JsonPointerAppend(at(), "Choices"), i), "Assign"),
             s);
        }
      }
      for (std::size_t i = 0; i < s.catch_.size(); ++i) {
        if (s.catch_[i].assign) {
          fn(*s.catch_[i].assign,
             JsonPointerAppend(JsonPointerAppend(JsonPointerAppend(at(), "Catch"), i), "Assign"),
             s);
        }
      }
    }
  }

  static std::string_view VariableOf(std::string_view key) {
    if (key.ends_with(".$")) key.remove_suffix(2);
    return key;
  }

  // A state inside a Parallel branch or a Map processor cannot assign a variable that a state of
  // an enclosing scope assigns (AWS refuses the definition). A Map or Parallel state's own
  // Assign and catchers belong to the scope it is in.
  void CheckVariableScopes(const Branch& b,
                           const std::map<std::string, std::string, std::less<>>& outer) {
    std::map<std::string, std::string, std::less<>> scope = outer;  // name -> state that assigns
    ForEachAssign(b, [&](const json::value& assign, const std::string&, const State& s) {
      if (!assign.is_object()) return;
      for (const auto& m : assign.get_object()) scope.emplace(VariableOf(m.key()), s.name);
    });
    for (const State& s : b.states) {
      std::vector<const Branch*> inner;
      for (const Branch& nb : s.parallel().branches) inner.push_back(&nb);
      if (s.map().item_processor) inner.push_back(&*s.map().item_processor);
      for (const Branch* nb : inner) {
        ForEachAssign(*nb, [&](const json::value& assign, const std::string& at, const State&) {
          if (!assign.is_object()) return;
          for (const auto& m : assign.get_object()) {
            auto it = scope.find(VariableOf(m.key()));
            if (it == scope.end()) continue;
            std::string ptr = JsonPointerAppend(at, m.key());
            sink_.Error(diag::kInvalidValue, ptr,
                        fmt::format("variable \"{}\" is assigned in an enclosing scope (by state "
                                    "\"{}\"); a state inside a Parallel branch or a Map cannot "
                                    "assign it: choose another name",
                                    it->first, it->second));
          }
        });
        CheckVariableScopes(*nb, scope);
      }
    }
  }
  // The JSON pointer of state `s` of branch `b` (made when a diagnostic or a check needs it).
  static std::string StatePointer(const Branch& b, const State& s) {
    std::string p = JsonPointerAppend(b.pointer, "States");
    AppendJsonPointerToken(p, s.name);
    return p;
  }

  // State names are unique across the whole machine, nested scopes included.
  void CollectNames(const Branch& b) {
    for (const State& s : b.states) {
      auto [it, inserted] = all_names_.emplace(s.name, NamedState{&b, &s});
      if (!inserted) {
        sink_.Error(diag::kDuplicateStateName, StatePointer(b, s),
                    fmt::format("state name \"{}\" is already used at {}; state names must be "
                                "unique in the whole state machine, including inside Parallel "
                                "branches and Map processors",
                                s.name, StatePointer(*it->second.branch, s)));
      }
      for (const Branch& inner : s.parallel().branches) CollectNames(inner);
      if (s.map().item_processor) CollectNames(*s.map().item_processor);
    }
  }

  void CheckBranch(const Branch& b, QueryLanguage lang, std::string_view what) {
    BranchNames index(b, all_names_);
    const LazyPointer branch(b.pointer);
    const LazyPointer states(branch, "States");
    auto target = [&](const std::string& name, const LazyPointer& ptr, std::string_view field) {
      if (index.Find(name) != nullptr) return;
      // Suggestions cost a scan of the names; a definition full of bad targets gets a few.
      std::string where = all_names_.contains(name)
                              ? " (that state is in another scope: a Parallel branch or Map "
                                "processor can only transition to states of its own)"
                              : (suggestions_left_-- > 0 ? DidYouMean(name, index.names()) : "");
      sink_.Error(diag::kUnknownState, ptr,
                  fmt::format("{} \"{}\" names no state{}", field, name, where));
    };

    if (!b.start_at.empty() || b.states.empty()) {
      if (!b.states.empty()) target(b.start_at, LazyPointer(branch, "StartAt"), "StartAt");
    }

    bool has_terminal = false;
    for (const State& s : b.states) {
      QueryLanguage state_lang = s.EffectiveQueryLanguage(lang);
      const LazyPointer at(states, s.name);
      CheckState(s, at, state_lang);
      has_terminal |= s.IsTerminal();
      if (!s.next.empty()) target(s.next, LazyPointer(at, "Next"), "Next");
      if (!s.choice().default_next.empty()) {
        target(s.choice().default_next, LazyPointer(at, "Default"), "Default");
      }
      const LazyPointer choices(at, "Choices");
      for (std::size_t i = 0; i < s.choice().choices.size(); ++i) {
        if (!s.choice().choices[i].next.empty()) {
          const LazyPointer choice(choices, i);
          target(s.choice().choices[i].next, LazyPointer(choice, "Next"), "Next");
        }
      }
      const LazyPointer catchers(at, "Catch");
      for (std::size_t i = 0; i < s.catch_.size(); ++i) {
        if (!s.catch_[i].next.empty()) {
          const LazyPointer catcher(catchers, i);
          target(s.catch_[i].next, LazyPointer(catcher, "Next"), "Catch Next");
        }
      }
      // Nested states default to the top-level query language, not the enclosing state's.
      for (std::size_t i = 0; i < s.parallel().branches.size(); ++i) {
        CheckBranch(s.parallel().branches[i], lang, "a Parallel branch");
      }
      if (s.map().item_processor) CheckBranch(*s.map().item_processor, lang, "the Map ItemProcessor");
    }
    if (!b.states.empty() && !has_terminal) {
      sink_.Error(diag::kNoTerminalState, states,
                  fmt::format("{} has no terminal state; add \"End\": true to its last state, "
                              "or a Succeed or Fail state",
                              what));
    }
    CheckReachability(b, index);
  }

  void CheckReachability(const Branch& b, BranchNames& index) {
    const State* start = index.Find(b.start_at);
    if (start == nullptr) return;  // already reported
    // Visited states by their position in the branch.
    std::vector<bool> seen(b.states.size());
    auto position = [&](const State* s) { return static_cast<std::size_t>(s - b.states.data()); };
    seen[position(start)] = true;
    std::vector<const State*> work{start};
    auto visit = [&](const std::string& name) {
      const State* found = index.Find(name);
      if (found == nullptr || seen[position(found)]) return;
      seen[position(found)] = true;
      work.push_back(found);
    };
    while (!work.empty()) {
      const State* s = work.back();
      work.pop_back();
      if (!s->next.empty()) visit(s->next);
      if (!s->choice().default_next.empty()) visit(s->choice().default_next);
      for (const ChoiceRule& r : s->choice().choices) visit(r.next);
      for (const Catcher& c : s->catch_) visit(c.next);
    }
    for (const State& s : b.states) {
      if (!seen[position(&s)]) {
        sink_.Error(diag::kUnreachableState, StatePointer(b, s),
                    fmt::format("state \"{}\" is unreachable: no path from StartAt \"{}\" leads "
                                "to it; remove it or add a transition to it",
                                s.name, b.start_at));
      }
    }
  }

  // `at`: the state's JSON pointer.
  void CheckState(const State& s, const LazyPointer& at, QueryLanguage lang) {
    if (std::size_t n = CharacterCount(s.name); n > kMaxStateNameLength) {
      sink_.Error(diag::kStateNameTooLong, at,
                  fmt::format("state name \"{}...\" is {} characters; AWS allows at most {}",
                              FirstCharacters(s.name, 20), n, kMaxStateNameLength));
    }
    if (s.name.empty()) {
      sink_.Error(diag::kInvalidValue, at, "a state name must not be empty");
    }
    bool needs_transition = s.type == StateType::kPass || s.type == StateType::kTask ||
                            s.type == StateType::kWait || s.type == StateType::kParallel ||
                            s.type == StateType::kMap;
    if (needs_transition) {
      if (!s.next.empty() && s.end) {
        sink_.Error(diag::kTransition, at,
                    fmt::format("state \"{}\" has both \"Next\" and \"End\"; keep one", s.name));
      } else if (s.next.empty() && !s.end) {
        sink_.Error(diag::kTransition, at,
                    fmt::format("state \"{}\" has neither \"Next\" nor \"End\"; add \"Next\": "
                                "\"<state>\" or \"End\": true",
                                s.name));
      }
    }
    const LazyPointer& p = at;
    auto field = [&](std::string_view f) { return LazyPointer(p, f); };

    if (lang == QueryLanguage::kJsonPath) {
      // Paths and templates, by what the field table says each field holds.
      for (const FieldSpec& f : StateFields()) {
        if (f.const_slot == nullptr || !f.AllowedOn(s.type) ||
            !f.AllowedIn(QueryLanguage::kJsonPath)) {
          continue;
        }
        ConstFieldSlot v = f.const_slot(s);
        switch (f.shape) {
          case FieldShape::kIoPath:
            if (v.path->kind != PathField::Kind::kPath) break;
            if (f.name == "ResultPath") {
              CheckResultPath(v.path->path(), field(f.name));
            } else {
              CheckPath(v.path->path(), field(f.name), false);
            }
            break;
          case FieldShape::kTemplate:
            if (*v.json) CheckPayloadTemplate(**v.json, field(f.name));
            break;
          case FieldShape::kReferencePath:
            if (*v.text) CheckOptionalReferencePath(*v.text, field(f.name));
            break;
          case FieldShape::kPathOrIntrinsic:
            if (*v.text) CheckPathOrIntrinsic(*v.text, field(f.name));
            break;
          default:
            break;
        }
      }
      const LazyPointer choices(p, "Choices");
      for (std::size_t i = 0; i < s.choice().choices.size(); ++i) {
        CheckChoiceRule(s.choice().choices[i], LazyPointer(choices, i));
      }
    } else {
      // Every JSON-valued field may hold {% %} expressions.
      for (const FieldSpec& f : StateFields()) {
        if (f.const_slot == nullptr || !f.AllowedOn(s.type) ||
            !f.AllowedIn(QueryLanguage::kJsonata)) {
          continue;
        }
        const Boxed<json::value>* v = f.const_slot(s).json;
        // $states.result is there for a Task, Parallel or Map's own Output and Assign.
        bool with_result = (f.name == "Output" || f.name == "Assign") &&
                           (s.type == StateType::kTask || s.type == StateType::kParallel ||
                            s.type == StateType::kMap);
        if (v != nullptr && v->has_value()) {
          CheckJsonataStrings(**v, field(f.name),
                              with_result ? StatesAccess::kResult : StatesAccess::kInput);
        }
      }
      const LazyPointer choices(p, "Choices");
      for (std::size_t i = 0; i < s.choice().choices.size(); ++i) {
        const ChoiceRule& r = s.choice().choices[i];
        const LazyPointer rp(choices, i);
        if (r.condition.is_string()) {
          CheckJsonataStrings(r.condition, LazyPointer(rp, "Condition"));
        }
        if (r.output) CheckJsonataStrings(*r.output, LazyPointer(rp, "Output"));
        if (r.assign) CheckJsonataStrings(*r.assign, LazyPointer(rp, "Assign"));
      }
    }
    if (s.assign) CheckVariableNames(*s.assign, field("Assign"), lang);

    // Timestamps given literally must be RFC 3339.
    if (s.wait().timestamp && s.wait().timestamp->is_string() && !IsJsonataExpression(*s.wait().timestamp) &&
        !ParseTimestamp(s.wait().timestamp->get_string())) {
      sink_.Error(diag::kInvalidTimestamp, field("Timestamp"),
                  fmt::format("\"{}\" is not an RFC 3339 timestamp; write it like "
                              "\"2026-01-31T09:00:00Z\" (uppercase T and Z)",
                              std::string_view(s.wait().timestamp->get_string())));
    }
    CheckQuota(s.task().timeout_seconds, field("TimeoutSeconds"), kMaxIntegerField);
    CheckQuota(s.task().heartbeat_seconds, field("HeartbeatSeconds"), kMaxIntegerField);
    CheckQuota(s.wait().seconds, field("Seconds"), kMaxIntegerField);
    if (s.task().timeout_seconds && s.task().heartbeat_seconds && s.task().timeout_seconds->is_int64() &&
        s.task().heartbeat_seconds->is_int64() &&
        s.task().heartbeat_seconds->get_int64() >= s.task().timeout_seconds->get_int64()) {
      sink_.Error(diag::kInvalidValue, field("HeartbeatSeconds"),
                  fmt::format("HeartbeatSeconds ({}) must be smaller than TimeoutSeconds ({})",
                              s.task().heartbeat_seconds->get_int64(), s.task().timeout_seconds->get_int64()));
    }
    if (s.type == StateType::kTask) CheckResource(s.task().resource, field("Resource"));
    if (s.map().label && s.map().label->empty()) {
      sink_.Error(diag::kInvalidValue, field("Label"), "Label must not be empty");
    } else if (s.map().label && CharacterCount(*s.map().label) > kMaxMapLabelLength) {
      sink_.Error(diag::kQuota, field("Label"),
                  fmt::format("Label is {} characters; AWS allows at most {}",
                              CharacterCount(*s.map().label), kMaxMapLabelLength));
    } else if (s.map().label) {
      // Labels become part of child execution names, so AWS forbids whitespace, brackets,
      // wildcards, special and control characters in them.
      // Control characters are U+0000-U+001F and U+007F-U+009F (C2 80..C2 9F in UTF-8).
      constexpr std::string_view kForbidden = " \t\n\r{}[]?*\"#%\\^|~`$&,;:/<>";
      const std::string& label = *s.map().label;
      for (std::size_t i = 0; i < label.size(); ++i) {
        const auto c = static_cast<unsigned char>(label[i]);
        bool c1_control = c == 0xC2 && i + 1 < label.size() &&
                          static_cast<unsigned char>(label[i + 1]) >= 0x80 &&
                          static_cast<unsigned char>(label[i + 1]) <= 0x9F;
        if (kForbidden.find(label[i]) != std::string_view::npos || c < 0x20 || c == 0x7F ||
            c1_control) {
          std::string shown = c < 0x20 || c == 0x7F || c1_control
                                  ? fmt::format("a control character (byte 0x{:02X})",
                                                c1_control ? static_cast<unsigned char>(label[i + 1]) : c)
                                  : fmt::format("'{}'", label[i]);
          sink_.Error(diag::kInvalidValue, field("Label"),
                      fmt::format("Label \"{}\" contains {}; AWS forbids whitespace, brackets, "
                                  "wildcards, special and control characters: use letters, "
                                  "digits, '-', '_' and '.'",
                                  label, shown));
          break;
        }
      }
    }
    CheckRetryAndCatch(s, at, lang);
    if (s.type == StateType::kMap) CheckMap(s, at);
  }

  void CheckMap(const State& s, const LazyPointer& at) {
    bool distributed = s.map().item_processor && s.map().item_processor->mode == ProcessorMode::kDistributed;
    const LazyPointer& p = at;
    const LazyPointer processor(p, "ItemProcessor");
    const LazyPointer config(processor, "ProcessorConfig");
    if (!distributed) {
      for (auto [v, name] : {std::pair{&s.map().item_reader, "ItemReader"},
                             std::pair{&s.map().item_batcher, "ItemBatcher"},
                             std::pair{&s.map().result_writer, "ResultWriter"}}) {
        if (v->has_value()) {
          sink_.Error(diag::kFieldNotAllowed, LazyPointer(p, name),
                      fmt::format("\"{}\" needs a distributed Map; set ItemProcessor."
                                  "ProcessorConfig.Mode to \"DISTRIBUTED\"",
                                  name));
        }
      }
      if (s.map().item_processor && s.map().item_processor->execution_type) {
        sink_.Error(diag::kFieldNotAllowed,
                    LazyPointer(config, "ExecutionType"),
                    "\"ExecutionType\" applies only to a DISTRIBUTED Map");
      }
    } else if (s.map().item_processor && !s.map().item_processor->execution_type) {
      sink_.Error(diag::kMissingField,
                  config,
                  "a DISTRIBUTED Map needs \"ExecutionType\": \"STANDARD\" or \"EXPRESS\" in "
                  "its ProcessorConfig");
    }
    if (s.map().reader) {
      if (s.map().reader->resource.empty()) {
        sink_.Error(diag::kMissingField, LazyPointer(p, "ItemReader"),
                    "ItemReader has no \"Resource\"");
      }
    }
  }

  void CheckRetryAndCatch(const State& s, const LazyPointer& at, QueryLanguage lang) {
    auto check_names = [&](const std::vector<std::string>& names, const LazyPointer& ptr,
                           bool is_last, std::string_view what) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string& n = names[i];
        const LazyPointer np(ptr, i);
        if (n == errors::kAll) {
          if (names.size() != 1) {
            sink_.Error(diag::kStatesAllPosition, np,
                        fmt::format("\"States.ALL\" must be the only error name in its {}",
                                    what));
          } else if (!is_last) {
            sink_.Error(diag::kStatesAllPosition, np,
                        fmt::format("the {} with \"States.ALL\" must be the last one", what));
          }
        } else if (n.starts_with("States.") && !errors::IsPredefinedError(n)) {
          // AWS deploys these (its own published workflows catch "States.QuorumMet" raised by
          // a Fail state): a warning, not an error.
          sink_.Warning(diag::kInvalidErrorName, np,
                        fmt::format("\"{}\" is not a predefined error; names starting with "
                                    "\"States.\" are reserved for Step Functions' own errors "
                                    "(States.ALL, States.Timeout, States.TaskFailed, ...)",
                                    n));
        }
      }
    };
    const LazyPointer rp(at, "Retry");
    for (std::size_t i = 0; i < s.retry.size(); ++i) {
      const Retrier& r = s.retry[i];
      const LazyPointer ptr(rp, i);
      check_names(r.error_equals, LazyPointer(ptr, "ErrorEquals"), i + 1 == s.retry.size(),
                  "retrier");
      auto quota = [&](const std::optional<std::int64_t>& v, std::string_view name,
                       std::int64_t max) {
        if (v && *v > max) {
          sink_.Error(diag::kQuota, LazyPointer(ptr, name),
                      fmt::format("\"{}\" is {}; AWS allows at most {}", name, *v, max));
        }
      };
      quota(r.interval_seconds, "IntervalSeconds", kMaxIntegerField);
      quota(r.max_attempts, "MaxAttempts", kMaxIntegerField);
      quota(r.max_delay_seconds, "MaxDelaySeconds", kMaxDelaySecondsLimit);
    }
    const LazyPointer cp(at, "Catch");
    for (std::size_t i = 0; i < s.catch_.size(); ++i) {
      const Catcher& c = s.catch_[i];
      const LazyPointer ptr(cp, i);
      check_names(c.error_equals, LazyPointer(ptr, "ErrorEquals"),
                  i + 1 == s.catch_.size(), "catcher");
      if (lang == QueryLanguage::kJsonPath && c.result_path.kind == PathField::Kind::kPath) {
        CheckResultPath(c.result_path.path(), LazyPointer(ptr, "ResultPath"));
      }
      if (c.assign) {
        if (lang == QueryLanguage::kJsonPath) {
          CheckPayloadTemplate(*c.assign, LazyPointer(ptr, "Assign"));
        } else {
          CheckJsonataStrings(*c.assign, LazyPointer(ptr, "Assign"), StatesAccess::kErrorOutput);
        }
        CheckVariableNames(*c.assign, LazyPointer(ptr, "Assign"), lang);
      }
      if (c.output) {
        CheckJsonataStrings(*c.output, LazyPointer(ptr, "Output"), StatesAccess::kErrorOutput);
      }
    }
  }

  void CheckResource(const std::string& resource, const LazyPointer& ptr) {
    // arn:partition:service:region:account:resource — at least six parts.
    if (resource.empty()) return;  // missing/typed errors come from the parser
    if (std::optional<std::string> placeholder = FirstPlaceholder(resource)) {
      // SAM, CDK and Terraform keep definitions with CloudFormation placeholders, which the
      // stack's DefinitionSubstitutions replace before AWS reads the definition.
      std::string message = fmt::format(
          "Resource \"{}\" holds the CloudFormation placeholder {}, which DefinitionSubstitutions "
          "replaces when the stack deploys; give --substitutions {}=VALUE to check the result",
          resource, *placeholder, placeholder->substr(2, placeholder->size() - 3));
      if (strict_placeholders_) {
        sink_.Error(diag::kInvalidValue, ptr, std::move(message));
      } else {
        sink_.Warning(diag::kInvalidValue, ptr, std::move(message));
      }
      return;
    }
    std::size_t colons = static_cast<std::size_t>(std::count(resource.begin(), resource.end(), ':'));
    if (!resource.starts_with("arn:") || colons < 5) {
      sink_.Error(diag::kInvalidValue, ptr,
                  fmt::format("Resource \"{}\" is not an ARN; use e.g. "
                              "\"arn:aws:states:::lambda:invoke\" or a function/activity ARN",
                              resource));
    }
  }

  void CheckQuota(const Boxed<json::value>& v, const LazyPointer& ptr, std::int64_t max) {
    if (!v) return;
    if ((v->is_int64() && v->get_int64() > max) || v->is_uint64()) {
      sink_.Error(diag::kQuota, ptr,
                  fmt::format("the value is {}; AWS allows at most {}", ToJsonText(*v), max));
    }
  }

  // InputPath/OutputPath (and Variable): any JSONPath.
  void CheckPath(std::string_view path, const LazyPointer& ptr, bool reference_only) {
    const Result<JsonPath>& compiled = paths_->Compile(path);
    if (!compiled.ok()) {
      sink_.Error(diag::kInvalidJsonPath, ptr, compiled.status().message());
      return;
    }
    if (reference_only && !compiled->is_reference_path()) {
      sink_.Error(diag::kInvalidReferencePath, ptr,
                  fmt::format("\"{}\" must be a reference path: only '.name', ['name'] and "
                              "[index] steps, no wildcards, filters, slices, unions or '..'",
                              path));
    }
  }

  // The path, compiled, when it is a reference path.
  const JsonPath* CheckReferencePath(std::string_view path, const LazyPointer& ptr) {
    const Result<JsonPath>& compiled = paths_->Compile(path);
    if (!compiled.ok()) {
      sink_.Error(diag::kInvalidReferencePath, ptr, compiled.status().message());
      return nullptr;
    }
    if (!compiled->is_reference_path()) {
      sink_.Error(diag::kInvalidReferencePath, ptr,
                  fmt::format("\"{}\" must be a reference path: only '.name', ['name'] and "
                              "[index] steps, no wildcards, filters, slices, unions or '..'",
                              path));
      return nullptr;
    }
    return &*compiled;
  }

  // ResultPath: a reference path into the state's input ("$" root only).
  void CheckResultPath(const std::string& path, const LazyPointer& ptr) {
    const JsonPath* compiled = CheckReferencePath(path, ptr);
    if (compiled != nullptr && compiled->root() != JsonPath::Root::kInput) {
      sink_.Error(diag::kInvalidReferencePath, ptr,
                  fmt::format("ResultPath \"{}\" must start with \"$\" and point into the state "
                              "input, not the context object or a variable",
                              path));
    }
  }

  void CheckOptionalReferencePath(const Boxed<std::string>& path,
                                  const LazyPointer& ptr) {
    if (path) CheckReferencePath(*path, ptr);
  }

  // Fail ErrorPath/CausePath: a reference path or an intrinsic function.
  void CheckPathOrIntrinsic(const Boxed<std::string>& value, const LazyPointer& ptr) {
    if (!value) return;
    if (LooksLikeIntrinsic(*value)) {
      CheckIntrinsic(*value, ptr);
    } else {
      CheckReferencePath(*value, ptr);
    }
  }

  void CheckIntrinsic(std::string_view text, const LazyPointer& ptr) {
    auto call = IntrinsicCall::Parse(text);
    if (!call.ok()) sink_.Error(diag::kInvalidIntrinsic, ptr, call.status().message());
  }

  // Parameters-style templates: keys ending in ".$" hold a path or an intrinsic.
  void CheckPayloadTemplate(const json::value& v, const LazyPointer& ptr) {
    std::string walk = ptr;
    CheckPayloadTemplateAt(v, walk);
  }

  void CheckPayloadTemplateAt(const json::value& v, std::string& ptr) {
    if (v.is_object()) {
      for (const auto& [key, child] : v.get_object()) {
        if (key.ends_with(".$")) {
          if (!child.is_string()) continue;  // reported by the parser
          std::string_view text = child.get_string();
          ScopedPointerToken token(ptr, key);
          if (LooksLikeIntrinsic(text)) {
            CheckIntrinsic(text, ptr);
          } else {
            CheckPath(text, LazyPointer(ptr), false);
          }
        } else if (child.is_structured()) {
          ScopedPointerToken token(ptr, key);
          CheckPayloadTemplateAt(child, ptr);
        }
      }
    } else if (v.is_array()) {
      for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        if (!v.get_array()[i].is_structured()) continue;
        ScopedPointerToken token(ptr, i);
        CheckPayloadTemplateAt(v.get_array()[i], ptr);
      }
    }
  }

  void CheckVariableNames(const json::value& assign, const LazyPointer& ptr, QueryLanguage lang) {
    if (!assign.is_object()) return;
    for (const auto& [key, child] : assign.get_object()) {
      std::string_view name = key;
      if (lang == QueryLanguage::kJsonPath && name.ends_with(".$")) {
        name.remove_suffix(2);
      }
      if (!IsVariableName(name)) {
        sink_.Error(diag::kInvalidValue, LazyPointer(ptr, key),
                    fmt::format("\"{}\" is not a valid variable name; use letters, digits and "
                                "'_', starting with a letter or '_' (at most 80 characters)",
                                name));
      } else if (name == "states") {
        sink_.Error(diag::kInvalidValue, LazyPointer(ptr, key),
                    "\"states\" is reserved for $states; choose another variable name");
      }
    }
  }

  // Which members of $states a field may read (AWS refuses the others at creation).
  enum class StatesAccess : std::uint8_t { kInput, kResult, kErrorOutput };

  // In JSONata states every string that opens "{%" must be a complete expression that parses,
  // reads no input document ("$", "$$" or a bare field name at its top level) and reads only
  // the members of $states the field has.
  void CheckJsonataStrings(const json::value& v, const LazyPointer& ptr,
                           StatesAccess access = StatesAccess::kInput) {
    std::string walk = ptr;
    CheckJsonataStringsAt(v, walk, access);
  }

  void CheckJsonataExpression(std::string_view body, const std::string& ptr,
                              StatesAccess access) {
    jsonata::Outcome<jsonata::Expression> e = jsonata::Expression::Compile(body);
    if (!e.ok()) {
      const jsonata::Error& error = e.error();
      sink_.Error(diag::kInvalidJsonata, ptr,
                  error.position
                      ? fmt::format("the JSONata expression does not parse: {} ({}, at character "
                                    "{} of \"{}\")",
                                    error.message, error.code, *error.position, body)
                      : fmt::format("the JSONata expression does not parse: {} ({})",
                                    error.message, error.code));
      return;
    }
    jsonata::ExpressionFacts facts = e->Facts();
    if (facts.reads_root) {
      sink_.Error(diag::kInvalidJsonata, ptr,
                  "Reference to '$$' is not supported. In a JSONata state the context object is "
                  "$states.context");
    }
    if (facts.reads_input) {
      sink_.Error(diag::kInvalidJsonata, ptr,
                  fmt::format("the JSONata expression \"{}\" reads \"$\" or a field name at its "
                              "top level, but a JSONata state has no input document there; read "
                              "the state input as $states.input",
                              body));
    }
    for (const std::string& member : facts.states_members) {
      bool known = member == "input" || member == "context" ||
                   (member == "result" && access == StatesAccess::kResult) ||
                   (member == "errorOutput" && access == StatesAccess::kErrorOutput);
      if (known) continue;
      std::string where;
      if (member == "result") {
        where = "; it exists only in the Output and Assign of a Task, Parallel or Map state";
      } else if (member == "errorOutput") {
        where = "; it exists only in the Output and Assign of a catcher";
      }
      sink_.Error(diag::kInvalidJsonata, ptr,
                  fmt::format("Field '$states.{}' does not exist{}.", member, where));
    }
  }

  void CheckJsonataStringsAt(const json::value& v, std::string& ptr, StatesAccess access) {
    if (v.is_string()) {
      std::string_view s = v.get_string();
      if (!s.starts_with("{%")) return;
      if (!s.ends_with("%}") || s.size() < 4) {
        sink_.Error(diag::kInvalidJsonata, ptr,
                    "a JSONata expression must be written \"{% expression %}\" with nothing "
                    "after \"%}\"");
        return;
      }
      std::string_view body = s.substr(2, s.size() - 4);
      if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        sink_.Error(diag::kInvalidJsonata, ptr, "the JSONata expression is empty");
        return;
      }
      CheckJsonataExpression(JsonataBody(s), ptr, access);
    } else if (v.is_object()) {
      for (const auto& [key, child] : v.get_object()) {
        ScopedPointerToken token(ptr, key);
        CheckJsonataStringsAt(child, ptr, access);
      }
    } else if (v.is_array()) {
      for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        ScopedPointerToken token(ptr, i);
        CheckJsonataStringsAt(v.get_array()[i], ptr, access);
      }
    }
  }

  void CheckChoiceRule(const ChoiceRule& r, const LazyPointer& ptr) {
    switch (r.kind) {
      case ChoiceRule::Kind::kComparison:
        // Variable and the operand of a ...Path operator name one value: reference paths.
        if (!r.variable.empty()) CheckReferencePath(r.variable, LazyPointer(ptr, "Variable"));
        if (IsPathOperator(r.op) && r.operand.is_string()) {
          CheckReferencePath(std::string(r.operand.get_string()),
                             LazyPointer(ptr, ComparisonOperatorName(r.op)));
        }
        break;
      case ChoiceRule::Kind::kAnd:
      case ChoiceRule::Kind::kOr: {
        const LazyPointer list(ptr, r.kind == ChoiceRule::Kind::kAnd ? "And" : "Or");
        for (std::size_t i = 0; i < r.children.size(); ++i) {
          CheckChoiceRule(r.children[i], LazyPointer(list, i));
        }
        break;
      }
      case ChoiceRule::Kind::kNot:
        if (!r.children.empty()) CheckChoiceRule(r.children[0], LazyPointer(ptr, "Not"));
        break;
      case ChoiceRule::Kind::kCondition:
        break;
    }
    if (r.assign) {
      CheckPayloadTemplate(*r.assign, LazyPointer(ptr, "Assign"));
      CheckVariableNames(*r.assign, LazyPointer(ptr, "Assign"), QueryLanguage::kJsonPath);
    }
  }

  const StateMachine& machine_;
  DiagnosticSink& sink_;
  JsonPathCache own_paths_;
  JsonPathCache* paths_;
  bool strict_placeholders_ = false;
  // Each state name, with its first state of that name.
  NameTable all_names_;
  int suggestions_left_ = 32;
};

}  // namespace

std::vector<Diagnostic> ValidateStateMachine(const StateMachine& machine) {
  return ValidateStateMachine(machine, nullptr);
}

std::vector<Diagnostic> ValidateStateMachine(const StateMachine& machine, JsonPathCache* paths) {
  DiagnosticSink sink;
  Validator(machine, sink, paths).Run();
  return sink.Take(&machine.source_map());
}

ValidationReport ValidateDefinition(std::string_view text, const ParseOptions& options) {
  ParseReport parsed = ParseStateMachineText(text, options);
  ValidationReport report;
  report.diagnostics = std::move(parsed.diagnostics);
  report.machine = std::move(parsed.machine);
  if (report.machine && !HasErrors(report.diagnostics)) {
    report.compiled_paths = std::make_shared<JsonPathCache>();
    DiagnosticSink sink;
    Validator(*report.machine, sink, report.compiled_paths.get(), options.strict_placeholders)
        .Run();
    std::vector<Diagnostic> semantic = sink.Take(&report.machine->source_map());
    report.diagnostics.insert(report.diagnostics.end(), std::make_move_iterator(semantic.begin()),
                              std::make_move_iterator(semantic.end()));
  }
  return report;
}

namespace {

void CheckExpressBranch(const Branch& b, const std::string& pointer, DiagnosticSink& sink) {
  for (std::size_t i = 0; i < b.states.size(); ++i) {
    const State& s = b.states[i];
    std::string at = JsonPointerAppend(JsonPointerAppend(pointer, "States"), s.name);
    if (s.type == StateType::kTask) {
      const std::string& r = s.task().resource;
      std::string why;
      if (r.ends_with(".sync") || r.find(".sync:") != std::string::npos) {
        why = "a .sync integration (run a job and wait for it)";
      } else if (r.ends_with(".waitForTaskToken")) {
        why = "a .waitForTaskToken integration (wait for a task token)";
      } else if (r.starts_with("arn:") && r.find(":activity:") != std::string::npos) {
        why = "an activity";
      }
      if (!why.empty()) {
        sink.Error(diag::kFieldNotAllowed, JsonPointerAppend(at, "Resource"),
                   fmt::format("Express state machines do not support {}: \"{}\"; create the "
                               "state machine as STANDARD, or call the service without waiting",
                               why, r));
      }
    }
    for (std::size_t k = 0; k < s.parallel().branches.size(); ++k) {
      CheckExpressBranch(s.parallel().branches[k],
                         JsonPointerAppend(JsonPointerAppend(at, "Branches"), std::to_string(k)),
                         sink);
    }
    if (s.map().item_processor) {
      CheckExpressBranch(*s.map().item_processor,
                         JsonPointerAppend(at, s.map().uses_iterator ? "Iterator" : "ItemProcessor"),
                         sink);
    }
  }
}

}  // namespace

std::vector<Diagnostic> CheckWorkflowType(const StateMachine& machine, WorkflowType type) {
  DiagnosticSink sink;
  if (type == WorkflowType::kExpress) CheckExpressBranch(machine.top(), "", sink);
  return sink.Take(&machine.source_map());
}

Result<std::string> ApplyDefinitionSubstitutions(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) {
    if (key.empty() || FirstPlaceholder("${" + key + "}") != "${" + key + "}") {
      return InvalidArgumentError(
          fmt::format("\"{}\" is not a DefinitionSubstitutions key (letters, digits, '_', '.', "
                      "':')",
                      key));
    }
  }
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      for (const auto& [key, value] : values) {
        if (text.compare(i + 2, key.size(), key) == 0 && i + 2 + key.size() < text.size() &&
            text[i + 2 + key.size()] == '}') {
          out += value;
          i += key.size() + 3;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

}  // namespace zflow::asl
