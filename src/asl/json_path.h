// JSONPath and reference paths as Amazon States Language uses them: compiled once, evaluated
// many times.
//
//   auto path = JsonPath::Compile("$.orders[?(@.total > 100)].id");
//   Outcome<json::value> ids = path->Evaluate(ctx);
//
// Roots: "$" (the effective input), "$$" (the context object), "$name" (a workflow variable).
// Steps: .name, ['name'], [index] (negative from the end), [*] / .*, [start:end:step],
// [a,b] unions, ..name (recursive descent), [?(@.x op value)] filters with && || ! and
// comparisons (== != < <= > >=), [?(@.x)] existence.
// A reference path is the subset that names exactly one node: names and indices only.
#ifndef ZFLOW_ASL_JSON_PATH_H_
#define ZFLOW_ASL_JSON_PATH_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/smart_ptr/intrusive_ptr.hpp>

#include "asl/evaluation.h"
#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::asl {

class JsonPath {
 public:
  enum class Root : std::uint8_t { kInput, kContext, kVariable };

  // Parses `text`. kInvalidArgument with a message naming the offending column on bad syntax.
  static Result<JsonPath> Compile(std::string_view text);
  // Like Compile, and also fails unless the path is a reference path.
  static Result<JsonPath> CompileReferencePath(std::string_view text);

  JsonPath(JsonPath&&) noexcept;
  JsonPath& operator=(JsonPath&&) noexcept;
  JsonPath(const JsonPath&);
  JsonPath& operator=(const JsonPath&);
  ~JsonPath();

  const std::string& text() const;
  Root root() const;
  // For kVariable roots: the variable name (without '$').
  const std::string& variable() const;
  // True when the path has only names and indices (no wildcards, filters, slices, unions or
  // recursive descent), so it selects at most one node.
  bool is_reference_path() const;
  // The member names of a path made of names only ("$.a['b c']" gives {"a", "b c"}); nullopt
  // when a step is anything else.
  std::optional<std::vector<std::string>> member_names() const;
  // True for exactly "$" / "$$" / "$var".
  bool is_root_only() const;

  // The JSONata expression that selects what this path selects, `input` standing for "$" (for
  // example "$states.input"); "$$" becomes $states.context and "$name" the variable. An
  // indefinite path becomes a list ("[...]"). Fails for unions of names, slices from the end
  // and recursive descent before anything but a name, which have no JSONata form.
  Result<std::string> ToJsonata(std::string_view input) const;

  // Hints the CPU to load the compiled path (the engine calls it one state ahead).
  void Prefetch() const;

  // Selects from the context's roots. A definite path (a reference path) yields the one node it
  // names; an indefinite path yields an array of the matches (possibly empty).
  // Errors: States.Runtime when a definite path names nothing (the cause names the path).
  Outcome<json::value> Evaluate(const EvaluationContext& ctx) const;
  // Like Evaluate for a definite path, but a missing node is reported as nullptr (no error).
  const json::value* Find(const EvaluationContext& ctx) const;

  // ResultPath semantics: returns `target` with `value` stored at this reference path, creating
  // intermediate objects. Errors: States.ResultPathMatchFailure when the path cannot be applied
  // (e.g. it steps into a non-object). Precondition: is_reference_path() and root() == kInput.
  Outcome<json::value> Assign(json::value target, json::value value) const;
  // The same, storing into `target` in place (no copy or move of the document). On error
  // `target` may have gained empty intermediate objects.
  std::optional<WorkflowError> AssignInPlace(json::value& target, json::value&& value) const;

  struct Program;

 private:
  explicit JsonPath(boost::intrusive_ptr<const Program> program);
  boost::intrusive_ptr<const Program> program_;
};

// Compiled paths by their text, for one definition: the validator compiles each distinct path
// once, and the engine takes the validator's copies, which share the compiled program (a large
// machine repeats its paths: "$", "$.result", "$$.Execution.Id"). For one thread at a time.
class JsonPathCache {
 public:
  // JsonPath::Compile(text), remembered (errors too).
  const Result<JsonPath>& Compile(std::string_view text);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Result<JsonPath>, Hash, std::equal_to<>> paths_;
};

// Compile(text) through `cache` when there is one.
inline Result<JsonPath> CompilePath(std::string_view text, JsonPathCache* cache) {
  return cache != nullptr ? cache->Compile(text) : JsonPath::Compile(text);
}

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_JSON_PATH_H_
