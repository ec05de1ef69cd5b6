#include "jsonata/evaluator.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

#include "jsonata/error.h"
#include "jsonata/functions.h"
#include "jsonata/library.h"
#include "jsonata/parser.h"
#include "jsonata/regex.h"

namespace zflow::jsonata {
namespace {

// The C++ stack an evaluation may use before it fails with U1001, whatever max_depth says:
// evaluation recurses, and threads running it (the engine's workers) have 8 MiB stacks.
constexpr std::ptrdiff_t kStackBudget = 3 << 20;

std::string JsonText(const Value& v) { return DescribeValue(v); }

bool IsInteger(double d) { return std::isfinite(d) && std::trunc(d) == d; }

void PushFlattenedItems(std::vector<Value>& out, const Value& res) {
  if (res.is_array() && !res.array().cons) {
    for (const Value& v : res.array().items) out.push_back(v);
  } else {
    out.push_back(res);
  }
}

// JavaScript's "<" for two strings compares UTF-16 code units; byte order of UTF-8 agrees
// except between astral characters and U+E000..U+FFFF, which ASL data rarely mixes.
int CompareStrings(std::string_view a, std::string_view b) { return a.compare(b); }

Value DeepClone(const Value& v) {
  if (v.is_array()) {
    std::vector<Value> items;
    items.reserve(v.size());
    for (const Value& item : v.array().items) items.push_back(DeepClone(item));
    Value out = Value::Array(std::move(items));
    return out;
  }
  if (v.is_object()) {
    Value out = Value::Object();
    ObjectNode& obj = out.mutable_object();
    obj.Reserve(v.object().size());
    for (const auto& [key, member] : v.object().members()) obj.AppendNew(key, DeepClone(member));
    return out;
  }
  return v;
}

}  // namespace

Value ToBoolean(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return Value();
    case Kind::kNull:
      return Value::Bool(false);
    case Kind::kBool:
      return v;
    case Kind::kNumber:
      return Value::Bool(IsNumeric(v) && v.number() != 0);
    case Kind::kString:
      return Value::Bool(!v.string().empty());
    case Kind::kArray: {
      if (v.size() == 1) return ToBoolean(v[0]);
      for (const Value& item : v.array().items) {
        Value b = ToBoolean(item);
        if (b.is_bool() && b.boolean()) return Value::Bool(true);
      }
      return Value::Bool(false);
    }
    case Kind::kObject:
      return Value::Bool(!v.object().empty());
    case Kind::kFunction:
      return Value::Bool(false);
  }
  return Value::Bool(false);
}

bool Truthy(const Value& v) {
  Value b = ToBoolean(v);
  return b.is_bool() && b.boolean();
}

Value Append(const Value& a, const Value& b) {
  if (a.undefined()) return b;
  if (b.undefined()) return a;
  std::vector<Value> items;
  if (a.is_array()) {
    items.reserve(a.size() + (b.is_array() ? b.size() : 1));
    items = a.array().items;
  } else {
    items.push_back(a);
  }
  if (b.is_array()) {
    items.insert(items.end(), b.array().items.begin(), b.array().items.end());
  } else {
    items.push_back(b);
  }
  // A concatenation is a plain array, as Array.prototype.concat makes one.
  return Value::Array(std::move(items));
}

void Flatten(const Value& v, std::vector<Value>& out) {
  if (v.is_array()) {
    for (const Value& item : v.array().items) Flatten(item, out);
  } else {
    out.push_back(v);
  }
}

Value WrapInput(const Value& input) {
  if (input.is_array() && !input.is_sequence()) {
    Value wrapped = Value::Sequence1(input);
    wrapped.mutable_array().outer_wrapper = true;
    return wrapped;
  }
  return input;
}

Evaluator::Evaluator(const EvaluateOptions& options)
    : options_(options),
      max_depth_(options.max_depth == 0 ? static_cast<std::size_t>(-1) : options.max_depth) {
  char here = 0;
  stack_base_ = &here;
  now_millis_ = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          options.now.value_or(std::chrono::system_clock::now()).time_since_epoch())
          .count());
  if (options.time_limit.count() > 0) {
    has_deadline_ = true;
    deadline_ = std::chrono::steady_clock::now() + options.time_limit;
  }
}

void Evaluator::CheckDeadline() {
  if (has_deadline_ && std::chrono::steady_clock::now() > deadline_) {
    Fail("U1001", {.raw = "Expression evaluation timeout: Check for infinite loop"});
  }
}

void Evaluator::Enter() {
  ++depth_;
  char here = 0;
  std::ptrdiff_t used = stack_base_ - &here;
  if (depth_ > max_depth_ || used > kStackBudget || used < -kStackBudget) {
    Fail("U1001", {.raw = "Stack overflow error: Check for non-terminating recursive function.  "
                          "Consider rewriting as tail-recursive."});
  }
  if (has_deadline_ && (++checks_ & 63) == 0 && std::chrono::steady_clock::now() > deadline_) {
    Fail("U1001", {.raw = "Expression evaluation timeout: Check for infinite loop"});
  }
}

Value Evaluator::LookupVariable(std::string_view name, const FramePtr& env) const {
  if (const Value* v = env->Lookup(name)) return *v;
  if (options_.lookup) {
    if (const json::value* v = options_.lookup(name)) return Value::Borrow(*v);
  }
  const internal::Library* library =
      options_.functions != nullptr ? &options_.functions->library() : nullptr;
  if (library != nullptr) {
    auto it = library->natives.find(std::string(name));
    if (it != library->natives.end()) {
      boost::intrusive_ptr<FunctionNode> f(new FunctionNode());
      f->type = FunctionNode::Type::kExternal;
      f->native = it->second.get();
      f->signature = std::shared_ptr<const Signature>(std::shared_ptr<const Signature>(),
                                                      &it->second->signature);
      return Value::Function(std::move(f));
    }
    for (const std::string& withheld : library->withheld) {
      if (withheld == name) return Value();
    }
  }
  if (const Builtin* b = FindBuiltin(name)) {
    boost::intrusive_ptr<FunctionNode> f(new FunctionNode());
    f->type = FunctionNode::Type::kBuiltin;
    f->builtin = b;
    return Value::Function(std::move(f));
  }
  return Value();
}

namespace {
// Which names a function value answers to in errors (T1005-style hints use the step name).
std::string ProcedureName(const Expr& procedure) {
  if (procedure.type == ExprType::kPath && !procedure.items.empty()) {
    return procedure.items[0]->value;
  }
  return procedure.value;
}
}  // namespace

Value Evaluator::Evaluate(const Expr& expr, const Value& input, const FramePtr& env) {
  Enter();
  Value result;
  switch (expr.type) {
    case ExprType::kPath:
      if (!expr.simple_path || !TrySimplePath(expr, input, env, result)) {
        result = EvaluatePath(expr, input, env);
      }
      break;
    case ExprType::kBinary:
      result = EvaluateBinary(expr, input, env);
      break;
    case ExprType::kNegate: {
      Value v = Evaluate(*expr.expression, input, env);
      if (v.is_number()) {
        result = Value::Number(-v.number());
      } else if (v.defined()) {
        Fail("D1002", {.position = expr.position, .token = "-", .value = JsonText(v)});
      }
      break;
    }
    case ExprType::kArray:
      result = EvaluateArray(expr, input, env);
      break;
    case ExprType::kObject:
      result = EvaluateGroup(expr.pairs, expr.position, input, env);
      break;
    case ExprType::kName: {
      const std::string& key = expr.value;
      if (input.is_array()) {
        std::vector<Value> out;
        std::vector<Value> stack;
        // Arrays of arrays are searched at every level, as the reference's lookup does.
        struct Walker {
          static void Run(const Value& in, const std::string& k, std::vector<Value>& o) {
            for (const Value& item : in.array().items) {
              if (item.is_array()) {
                std::vector<Value> nested;
                Run(item, k, nested);
                for (Value& n : nested) o.push_back(std::move(n));
              } else if (item.is_object()) {
                Value v = item.object().Get(k);
                if (v.is_array()) {
                  for (const Value& x : v.array().items) o.push_back(x);
                } else if (v.defined()) {
                  o.push_back(std::move(v));
                }
              }
            }
          }
        };
        Walker::Run(input, key, out);
        result = Value::Sequence(std::move(out));
      } else if (input.is_object()) {
        result = input.object().Get(key);
      }
      break;
    }
    case ExprType::kString:
    case ExprType::kNumber:
    case ExprType::kValue:
      result = expr.literal;
      break;
    case ExprType::kWildcard: {
      const Value* in = &input;
      if (input.is_array() && input.array().outer_wrapper && input.size() > 0) in = &input[0];
      std::vector<Value> out;
      auto add = [&](const Value& value) {
        if (value.is_array()) {
          std::vector<Value> flat;
          Flatten(value, flat);
          for (Value& f : flat) out.push_back(std::move(f));
        } else {
          out.push_back(value);
        }
      };
      if (in->is_object()) {
        for (const auto& [k, v] : in->object().members()) add(v);
      } else if (in->is_array()) {
        for (const Value& v : in->array().items) add(v);
      }
      result = Value::Sequence(std::move(out));
      break;
    }
    case ExprType::kDescendant: {
      if (input.defined()) {
        std::vector<Value> out;
        struct Walker {
          static void Run(const Value& in, std::vector<Value>& o) {
            if (!in.is_array()) o.push_back(in);
            if (in.is_array()) {
              for (const Value& m : in.array().items) Run(m, o);
            } else if (in.is_object()) {
              for (const auto& [k, v] : in.object().members()) Run(v, o);
            }
          }
        };
        Walker::Run(input, out);
        if (out.size() == 1) {
          result = std::move(out[0]);
        } else {
          result = Value::Sequence(std::move(out));
        }
      }
      break;
    }
    case ExprType::kParent:
      if (const Value* v = env->Lookup(expr.slot->label)) result = *v;
      break;
    case ExprType::kCondition: {
      Value condition = Evaluate(*expr.lhs, input, env);
      if (Truthy(condition)) {
        result = Evaluate(*expr.then_branch, input, env);
      } else if (expr.else_branch) {
        result = Evaluate(*expr.else_branch, input, env);
      }
      break;
    }
    case ExprType::kBlock:
      result = EvaluateBlock(expr, input, env);
      break;
    case ExprType::kBind: {
      result = Evaluate(*expr.rhs, input, env);
      env->Bind(expr.lhs->value, result);
      break;
    }
    case ExprType::kRegex: {
      boost::intrusive_ptr<FunctionNode> f(new FunctionNode());
      f->type = FunctionNode::Type::kRegex;
      f->regex = expr.regex;
      result = Value::Function(std::move(f));
      break;
    }
    case ExprType::kFunction:
      result = EvaluateCall(expr, input, env, nullptr);
      break;
    case ExprType::kVariable:
      result = EvaluateVariable(expr, input, env);
      break;
    case ExprType::kLambda: {
      boost::intrusive_ptr<FunctionNode> f(new FunctionNode());
      f->type = FunctionNode::Type::kLambda;
      f->lambda = &expr;
      f->env = env;
      f->input = input;
      f->params = expr.params;
      f->thunk = expr.thunk;
      f->signature = expr.signature;
      result = Value::Function(std::move(f));
      break;
    }
    case ExprType::kPartial:
      result = EvaluatePartial(expr, input, env);
      break;
    case ExprType::kApply:
      result = EvaluateApply(expr, input, env);
      break;
    case ExprType::kTransform: {
      boost::intrusive_ptr<FunctionNode> f(new FunctionNode());
      f->type = FunctionNode::Type::kTransform;
      f->transform = &expr;
      f->env = env;
      result = Value::Function(std::move(f));
      break;
    }
    case ExprType::kSort:
      result = EvaluateSort(expr, input, env);
      break;
    case ExprType::kPlaceholder:
    case ExprType::kOperator:
      break;
  }
  for (const Stage& stage : expr.predicates) result = EvaluateFilter(*stage.filter, result, env);
  if (expr.type != ExprType::kPath && expr.group) {
    result = EvaluateGroup(expr.group->pairs, expr.group->position, result, env);
  }
  if (result.is_sequence() && !result.array().tuple_stream) {
    ArrayNode& seq = result.mutable_array();
    if (expr.keep_array) seq.keep_singleton = true;
    if (seq.items.empty()) {
      result = Value();
    } else if (seq.items.size() == 1 && !seq.keep_singleton) {
      Value only = std::move(seq.items[0]);
      result = std::move(only);
    }
  }
  Leave();
  return result;
}

Value Evaluator::EvaluateVariable(const Expr& expr, const Value& input, const FramePtr& env) {
  if (expr.value.empty()) {
    if (input.is_array() && input.array().outer_wrapper && input.size() > 0) return input[0];
    return input;
  }
  return LookupVariable(expr.value, env);
}

Value Evaluator::EvaluateBlock(const Expr& expr, const Value& input, const FramePtr& env) {
  FramePtr frame(new Frame(env));
  Value result;
  for (const ExprPtr& item : expr.items) result = Evaluate(*item, input, frame);
  return result;
}

Value Evaluator::EvaluateArray(const Expr& expr, const Value& input, const FramePtr& env) {
  std::vector<Value> items;
  for (const ExprPtr& item : expr.items) {
    Value v = Evaluate(*item, input, env);
    if (v.undefined()) continue;
    if (item->type == ExprType::kArray) {
      items.push_back(std::move(v));
    } else if (v.is_array()) {
      if (v.size() > 0xFFFF) CheckDeadline();
      for (const Value& x : v.array().items) items.push_back(x);
    } else {
      items.push_back(std::move(v));
    }
  }
  Value result = Value::Array(std::move(items));
  if (expr.cons_array) result.mutable_array().cons = true;
  return result;
}

Value Evaluator::EvaluatePath(const Expr& expr, const Value& input, const FramePtr& env) {
  Value sequence;
  // A path that starts with a variable navigates from its value, not from each input item.
  if (expr.items[0]->type == ExprType::kVariable) {
    sequence = Value::Sequence1(input);
  } else if (input.is_array()) {
    sequence = input;
  } else {
    sequence = Value::Sequence1(input);
  }
  Value result;
  bool tuple_stream = false;
  Value tuples;
  for (std::size_t i = 0; i < expr.items.size(); ++i) {
    const Expr& step = *expr.items[i];
    if (step.tuple) tuple_stream = true;
    if (i == 0 && step.cons_array) {
      result = Evaluate(step, sequence, env);
    } else if (tuple_stream) {
      tuples = EvaluateTupleStep(step, sequence, tuples, env);
    } else {
      result = EvaluateStep(step, sequence, env, i == expr.items.size() - 1);
    }
    if (!tuple_stream && (result.undefined() || (result.is_array() && result.size() == 0))) {
      break;
    }
    if (!step.has_focus) sequence = result;
  }
  if (tuple_stream) {
    if (expr.tuple) {
      result = tuples;
    } else {
      std::vector<Value> out;
      if (tuples.is_array()) {
        out.reserve(tuples.size());
        for (const Value& t : tuples.array().items) {
          out.push_back(t.object().Get("@"));
        }
      }
      result = Value::Sequence(std::move(out));
    }
  }
  if (expr.keep_singleton_array) {
    if (result.is_array() && result.array().cons && !result.is_sequence()) {
      result = Value::Sequence1(result);
    }
    if (result.is_array()) {
      if (!result.is_sequence()) {
        // Flag a copy: the array may be part of the input.
        result = Value::Array(result.array().items);
      }
      result.mutable_array().keep_singleton = true;
    }
  }
  if (expr.group) {
    result =
        EvaluateGroup(expr.group->pairs, expr.group->position, tuple_stream ? tuples : result, env);
  }
  return result;
}

Value Evaluator::EvaluateStep(const Expr& step, const Value& input, const FramePtr& env,
                              bool last) {
  if (step.type == ExprType::kSort) {
    Value result = EvaluateSort(step, input, env);
    if (!step.stages.empty()) result = EvaluateStages(step.stages, result, env);
    return result;
  }
  std::vector<Value> results;
  const auto& items = input.array().items;
  results.reserve(items.size());
  for (const Value& item : items) {
    Value res = Evaluate(step, item, env);
    for (const Stage& stage : step.stages) res = EvaluateFilter(*stage.filter, res, env);
    if (res.defined()) results.push_back(std::move(res));
  }
  if (last && results.size() == 1 && results[0].is_array() && !results[0].is_sequence()) {
    return results[0];
  }
  std::vector<Value> flat;
  flat.reserve(results.size());
  for (const Value& res : results) PushFlattenedItems(flat, res);
  return Value::Sequence(std::move(flat));
}

FramePtr Evaluator::FrameFromTuple(const FramePtr& env, const Value& tuple) {
  FramePtr frame(new Frame(env));
  if (!tuple.is_object()) return frame;
  for (const auto& [key, value] : tuple.object().members()) {
    if (key != "@") frame->Bind(key, value);
  }
  return frame;
}

Value Evaluator::EvaluateTupleStep(const Expr& step, const Value& input, const Value& tuples,
                                   const FramePtr& env) {
  if (step.type == ExprType::kSort) {
    Value result;
    if (tuples.defined()) {
      result = EvaluateSort(step, tuples, env);
    } else {
      Value sorted = EvaluateSort(step, input, env);
      std::vector<Value> out;
      for (std::size_t i = 0; i < sorted.size(); ++i) {
        Value tuple = Value::Object();
        tuple.mutable_object().Set("@", sorted[i]);
        if (step.has_index) tuple.mutable_object().Set(step.index, Value::Number(double(i)));
        out.push_back(std::move(tuple));
      }
      result = Value::Sequence(std::move(out));
      result.mutable_array().tuple_stream = true;
    }
    if (!step.stages.empty()) result = EvaluateStages(step.stages, result, env);
    return result;
  }
  Value bindings = tuples;
  if (bindings.undefined()) {
    std::vector<Value> initial;
    for (const Value& item : input.array().items) {
      Value tuple = Value::Object();
      tuple.mutable_object().Set("@", item);
      initial.push_back(std::move(tuple));
    }
    bindings = Value::Sequence(std::move(initial));
  }
  std::vector<Value> out;
  for (const Value& tuple : bindings.array().items) {
    FramePtr step_env = FrameFromTuple(env, tuple);
    Value context = tuple.object().Get("@");
    Value res = Evaluate(step, context, step_env);
    if (res.undefined()) continue;
    bool res_is_tuples = res.is_array() && res.array().tuple_stream;
    std::vector<Value> items;
    if (res.is_array()) {
      items = res.array().items;
    } else {
      items.push_back(res);
    }
    for (std::size_t b = 0; b < items.size(); ++b) {
      Value next = Value::Object();
      ObjectNode& obj = next.mutable_object();
      for (const auto& [k, v] : tuple.object().members()) obj.Set(k, v);
      if (res_is_tuples) {
        for (const auto& [k, v] : items[b].object().members()) obj.Set(k, v);
      } else {
        if (step.has_focus) {
          obj.Set(step.focus, items[b]);
          obj.Set("@", context);
        } else {
          obj.Set("@", items[b]);
        }
        if (step.has_index) obj.Set(step.index, Value::Number(static_cast<double>(b)));
        if (step.ancestor) obj.Set(step.ancestor->label, context);
      }
      out.push_back(std::move(next));
    }
  }
  Value result = Value::Sequence(std::move(out));
  result.mutable_array().tuple_stream = true;
  if (!step.stages.empty()) result = EvaluateStages(step.stages, result, env);
  return result;
}

Value Evaluator::EvaluateStages(const std::vector<Stage>& stages, Value input,
                                const FramePtr& env) {
  Value result = std::move(input);
  for (const Stage& stage : stages) {
    if (!stage.is_index) {
      result = EvaluateFilter(*stage.filter, result, env);
    } else if (result.is_array()) {
      ArrayNode& arr = result.mutable_array();
      for (std::size_t i = 0; i < arr.items.size(); ++i) {
        // Tuples are built per step, so each has one owner.
        arr.items[i].mutable_object().Set(stage.index_name, Value::Number(double(i)));
      }
    }
  }
  return result;
}

Value Evaluator::EvaluateFilter(const Expr& predicate, const Value& input, const FramePtr& env) {
  bool tuple_stream = input.is_array() && input.array().tuple_stream;
  std::vector<Value> results;
  std::vector<Value> single;
  const std::vector<Value>* items;
  if (input.is_array()) {
    items = &input.array().items;
  } else {
    single.push_back(input);
    items = &single;
  }
  std::size_t n = items->size();
  if (predicate.type == ExprType::kNumber) {
    double index = std::floor(predicate.literal.number());
    if (index < 0) index += static_cast<double>(n);
    if (index >= 0 && index < static_cast<double>(n) &&
        (*items)[static_cast<std::size_t>(index)].defined()) {
      const Value& item = (*items)[static_cast<std::size_t>(index)];
      if (item.is_array()) {
        Value out = item;
        return out;
      }
      results.push_back(item);
    }
  } else if (predicate.context_free && !tuple_stream) {
    // One evaluation serves every item.
    Value res = Evaluate(predicate, Value(), env);
    std::vector<double> indexes;
    if (IsNumeric(res)) {
      indexes.push_back(res.number());
    } else if (IsArrayOfNumbers(res) && res.size() > 0) {
      for (const Value& r : res.array().items) indexes.push_back(r.number());
    } else {
      if (Truthy(res)) results = *items;
      indexes.clear();
    }
    if (!indexes.empty()) {
      // Item i is kept once for each index naming it, in item order, as when each item
      // evaluates the predicate.
      std::vector<std::pair<std::size_t, std::size_t>> hits;  // (item, order)
      for (std::size_t k = 0; k < indexes.size(); ++k) {
        double idx = std::floor(indexes[k]);
        if (idx < 0) idx += static_cast<double>(n);
        if (idx >= 0 && idx < static_cast<double>(n)) hits.emplace_back(std::size_t(idx), k);
      }
      std::sort(hits.begin(), hits.end());
      for (const auto& hit : hits) results.push_back((*items)[hit.first]);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const Value& item = (*items)[i];
      Value context = item;
      FramePtr frame = env;
      if (tuple_stream) {
        context = item.object().Get("@");
        frame = FrameFromTuple(env, item);
      }
      Value res = Evaluate(predicate, context, frame);
      if (IsNumeric(res)) {
        double idx = std::floor(res.number());
        if (idx < 0) idx += static_cast<double>(n);
        if (idx == static_cast<double>(i)) results.push_back(item);
      } else if (IsArrayOfNumbers(res) && res.size() > 0) {
        for (const Value& r : res.array().items) {
          double idx = std::floor(r.number());
          if (idx < 0) idx += static_cast<double>(n);
          if (idx == static_cast<double>(i)) results.push_back(item);
        }
      } else if (Truthy(res)) {
        results.push_back(item);
      }
    }
  }
  Value out = Value::Sequence(std::move(results));
  if (tuple_stream) out.mutable_array().tuple_stream = true;
  return out;
}

Value Evaluator::EvaluateSort(const Expr& sort, const Value& input, const FramePtr& env) {
  bool tuples = input.is_array() && input.array().tuple_stream;
  std::vector<Value> items;
  if (input.is_array()) {
    items = input.array().items;
  } else if (input.defined()) {
    items.push_back(input);
  }
  // Keys are computed once per item and term (terms are side-effect free).
  std::size_t terms = sort.terms.size();
  std::vector<Value> keys(items.size() * terms);
  for (std::size_t i = 0; i < items.size(); ++i) {
    Value context = items[i];
    FramePtr frame = env;
    if (tuples) {
      context = items[i].object().Get("@");
      frame = FrameFromTuple(env, items[i]);
    }
    for (std::size_t t = 0; t < terms; ++t) {
      keys[i * terms + t] = Evaluate(*sort.terms[t].expression, context, frame);
    }
  }
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto compare = [&](std::size_t a, std::size_t b) -> int {
    for (std::size_t t = 0; t < terms; ++t) {
      const Value& x = keys[a * terms + t];
      const Value& y = keys[b * terms + t];
      int comp = 0;
      if (x.undefined()) {
        comp = y.undefined() ? 0 : 1;
        if (comp != 0) return comp;
        continue;
      }
      if (y.undefined()) return -1;
      bool xs = x.is_string() || x.is_number();
      bool ys = y.is_string() || y.is_number();
      if (!xs || !ys) {
        Fail("T2008", {.position = sort.position, .value = JsonText(!xs ? x : y)});
      }
      if (x.kind() != y.kind()) {
        Fail("T2007", {.position = sort.position, .value = JsonText(x), .value2 = JsonText(y)});
      }
      if (x.is_number()) {
        comp = x.number() == y.number() ? 0 : (x.number() < y.number() ? -1 : 1);
      } else {
        int c = CompareStrings(x.string(), y.string());
        comp = c == 0 ? 0 : (c < 0 ? -1 : 1);
      }
      if (comp == 0) continue;
      return sort.terms[t].descending ? -comp : comp;
    }
    return 0;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return compare(a, b) < 0; });
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (std::size_t i : order) sorted.push_back(items[i]);
  Value result = Value::Sequence(std::move(sorted));
  if (tuples) result.mutable_array().tuple_stream = true;
  return result;
}

Value Evaluator::EvaluateGroup(const std::vector<std::pair<ExprPtr, ExprPtr>>& pairs,
                               std::size_t position, const Value& input, const FramePtr& env) {
  bool reduce = input.is_array() && input.array().tuple_stream;
  if (!input.is_array()) {
    // One item (an object constructor's usual case): every key names one value. Keys first,
    // then values, as the general case orders them.
    std::vector<std::pair<Value, std::size_t>> keys;
    keys.reserve(pairs.size());
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      Value key = Evaluate(*pairs[p].first, input, env);
      if (key.undefined()) continue;
      if (!key.is_string()) Fail("T1003", {.position = position, .value = JsonText(key)});
      for (const auto& [seen, q] : keys) {
        if (seen.string() == key.string()) {
          Fail("D1009", {.position = position, .value = JsonText(key)});
        }
      }
      keys.emplace_back(std::move(key), p);
    }
    Value result = Value::Object();
    ObjectNode& obj = result.mutable_object();
    obj.Reserve(keys.size());
    for (const auto& [key, p] : keys) {
      Value value = Evaluate(*pairs[p].second, input, env);
      if (value.defined()) obj.AppendNew(key.string(), std::move(value));
    }
    return result;
  }
  std::vector<Value> items;
  if (input.is_array()) {
    items = input.array().items;
  } else {
    items.push_back(input);
  }
  // An empty input still makes the object (its literal keys and values).
  if (items.empty() && !reduce) items.emplace_back();
  struct Entry {
    std::string key;
    std::vector<Value> parts;  // the items with this key, appended at the end
    std::size_t pair;
    Value Data() const {
      // As successive $append calls would build it, without copying at every item.
      if (parts.size() == 1) return parts[0];
      std::vector<Value> items;
      for (const Value& part : parts) {
        if (part.is_array()) {
          items.insert(items.end(), part.array().items.begin(), part.array().items.end());
        } else {
          items.push_back(part);
        }
      }
      return Value::Array(std::move(items));
    }
  };
  std::vector<Entry> entries;
  boost::unordered_flat_map<std::string, std::size_t> index;
  for (const Value& item : items) {
    FramePtr frame = reduce ? FrameFromTuple(env, item) : env;
    Value context = item;
    if (reduce) {
      context = item.object().Get("@");
    }
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      Value key = Evaluate(*pairs[p].first, context, frame);
      if (key.undefined()) continue;
      if (!key.is_string()) {
        Fail("T1003", {.position = position, .value = JsonText(key)});
      }
      auto it = index.find(std::string(key.string()));
      if (it != index.end()) {
        Entry& entry = entries[it->second];
        if (entry.pair != p) {
          Fail("D1009", {.position = position, .value = JsonText(key)});
        }
        if (item.defined()) entry.parts.push_back(item);
      } else {
        index.emplace(std::string(key.string()), entries.size());
        entries.push_back(Entry{std::string(key.string()), {item}, p});
      }
    }
  }
  Value result = Value::Object();
  for (Entry& entry : entries) {
    Value data = entry.Data();
    Value context = data;
    FramePtr frame = env;
    if (reduce) {
      // Merge the group's tuples: each binding becomes the sequence of its values.
      Value merged = Value::Object();
      ObjectNode& m = merged.mutable_object();
      std::vector<Value> tuples_list;
      if (data.is_object()) {
        tuples_list.push_back(data);
      } else {
        tuples_list = data.array().items;
      }
      for (const auto& [k, v] : tuples_list[0].object().members()) m.Set(k, v);
      for (std::size_t t = 1; t < tuples_list.size(); ++t) {
        for (const auto& [k, v] : tuples_list[t].object().members()) {
          const Value* existing = m.Find(k);
          m.Set(k, Append(existing ? *existing : Value(), v));
        }
      }
      const Value* at = m.Find("@");
      context = at != nullptr ? *at : Value();
      m.Erase("@");
      frame = FrameFromTuple(env, merged);
    }
    Value value = Evaluate(*pairs[entry.pair].second, context, frame);
    if (value.defined()) result.mutable_object().Set(entry.key, std::move(value));
  }
  return result;
}

Value Evaluator::EvaluateBinary(const Expr& expr, const Value& input, const FramePtr& env) {
  const BinaryOp op = expr.op;
  Value lhs = Evaluate(*expr.lhs, input, env);
  switch (op) {
    case BinaryOp::kAnd:
      if (!Truthy(lhs)) return Value::Bool(false);
      return Value::Bool(Truthy(Evaluate(*expr.rhs, input, env)));
    case BinaryOp::kOr:
      if (Truthy(lhs)) return Value::Bool(true);
      return Value::Bool(Truthy(Evaluate(*expr.rhs, input, env)));
    case BinaryOp::kElvis:
      if (Truthy(lhs)) return lhs;
      return Evaluate(*expr.rhs, input, env);
    case BinaryOp::kCoalesce:
      if (lhs.defined()) return lhs;
      return Evaluate(*expr.rhs, input, env);
    default:
      break;
  }
  Value rhs = Evaluate(*expr.rhs, input, env);
  auto fail = [&](const char* code, const Value* a, const Value* b) {
    ErrorDetails where{.position = expr.position, .token = expr.value};
    if (a != nullptr) where.value = JsonText(*a);
    if (b != nullptr) where.value2 = JsonText(*b);
    Fail(code, std::move(where));
  };
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSubtract:
    case BinaryOp::kMultiply:
    case BinaryOp::kDivide:
    case BinaryOp::kModulo: {
      if (lhs.defined() && !IsNumeric(lhs)) fail("T2001", &lhs, nullptr);
      if (rhs.defined() && !IsNumeric(rhs)) fail("T2002", &rhs, nullptr);
      if (lhs.undefined() || rhs.undefined()) return Value();
      double a = lhs.number();
      double b = rhs.number();
      switch (op) {
        case BinaryOp::kAdd: return Value::Number(a + b);
        case BinaryOp::kSubtract: return Value::Number(a - b);
        case BinaryOp::kMultiply: return Value::Number(a * b);
        case BinaryOp::kDivide: return Value::Number(a / b);
        default: return Value::Number(std::fmod(a, b));
      }
    }
    case BinaryOp::kConcat: {
      std::string s;
      if (lhs.defined()) s = CastString(lhs);
      if (rhs.defined()) s += CastString(rhs);
      return Value::String(std::move(s));
    }
    case BinaryOp::kEqual:
    case BinaryOp::kNotEqual: {
      if (lhs.undefined() || rhs.undefined()) return Value::Bool(false);
      bool eq = DeepEqual(lhs, rhs);
      return Value::Bool(op == BinaryOp::kEqual ? eq : !eq);
    }
    case BinaryOp::kLess:
    case BinaryOp::kLessEqual:
    case BinaryOp::kGreater:
    case BinaryOp::kGreaterEqual: {
      bool lc = lhs.undefined() || lhs.is_string() || lhs.is_number();
      bool rc = rhs.undefined() || rhs.is_string() || rhs.is_number();
      if (!lc || !rc) {
        fail("T2010", !(lhs.is_string() || lhs.is_number()) ? &lhs : &rhs, nullptr);
      }
      if (lhs.undefined() || rhs.undefined()) return Value();
      if (lhs.kind() != rhs.kind()) fail("T2009", &lhs, &rhs);
      int c;
      if (lhs.is_number()) {
        double a = lhs.number();
        double b = rhs.number();
        if (std::isnan(a) || std::isnan(b)) return Value::Bool(false);
        c = a < b ? -1 : (a > b ? 1 : 0);
      } else {
        c = CompareStrings(lhs.string(), rhs.string());
      }
      switch (op) {
        case BinaryOp::kLess: return Value::Bool(c < 0);
        case BinaryOp::kLessEqual: return Value::Bool(c <= 0);
        case BinaryOp::kGreater: return Value::Bool(c > 0);
        default: return Value::Bool(c >= 0);
      }
    }
    case BinaryOp::kRange: {
      if (lhs.defined() && !(lhs.is_number() && IsInteger(lhs.number()))) {
        fail("T2003", &lhs, nullptr);
      }
      if (rhs.defined() && !(rhs.is_number() && IsInteger(rhs.number()))) {
        fail("T2004", &rhs, nullptr);
      }
      if (lhs.undefined() || rhs.undefined()) return Value();
      double a = lhs.number();
      double b = rhs.number();
      if (a > b) return Value();
      double size = b - a + 1;
      if (size > 1e7) {
        Fail("D2014", {.position = expr.position, .token = expr.value,
                       .value = FormatNumberJs(size)});
      }
      // One evaluation's ranges together stay under the same 10^7 items (memory), and a long
      // one still notices the time limit.
      range_items_ += size;
      if (range_items_ > 1e7) {
        Fail("D2014", {.position = expr.position, .token = expr.value,
                       .value = FormatNumberJs(range_items_)});
      }
      std::vector<Value> items;
      items.reserve(static_cast<std::size_t>(size));
      for (double x = a; x <= b; x += 1) {
        items.push_back(Value::Number(x));
        if ((items.size() & 0xFFFF) == 0) CheckDeadline();
      }
      return Value::Sequence(std::move(items));
    }
    case BinaryOp::kIn: {
      if (lhs.undefined() || rhs.undefined()) return Value::Bool(false);
      auto same = [&](const Value& v) {
        // JavaScript's ===: objects and arrays only equal themselves.
        if (v.kind() != lhs.kind()) return false;
        switch (v.kind()) {
          case Kind::kNull: return true;
          case Kind::kBool:
          case Kind::kNumber: return v.number() == lhs.number();
          case Kind::kString: return v.string() == lhs.string();
          default: return v.identity() == lhs.identity();
        }
      };
      if (rhs.is_array()) {
        for (const Value& v : rhs.array().items) {
          if (same(v)) return Value::Bool(true);
        }
        return Value::Bool(false);
      }
      return Value::Bool(same(rhs));
    }
    default:
      break;
  }
  Fail("S0201", {.position = expr.position, .token = expr.value});
}

// Reads a simple path (see Expr::simple_path) without sequences. False when an array is met:
// the general evaluation then decides how it flattens.
bool Evaluator::TrySimplePath(const Expr& expr, const Value& input, const FramePtr& env,
                              Value& result) {
  std::size_t i = 0;
  Value v;
  if (expr.items[0]->type == ExprType::kVariable) {
    v = LookupVariable(expr.items[0]->value, env);
    i = 1;
  } else {
    if (input.is_array()) return false;
    v = input;
  }
  for (; i < expr.items.size(); ++i) {
    if (v.is_object()) {
      v = v.object().Get(expr.items[i]->value);
      if (v.undefined()) break;
    } else if (v.is_array()) {
      return false;
    } else {
      v = Value();
      break;
    }
  }
  if (v.is_array()) return false;
  result = std::move(v);
  return true;
}

Value Evaluator::EvaluateCall(const Expr& expr, const Value& input, const FramePtr& env,
                              const Value* apply_to) {
  Value proc = Evaluate(*expr.procedure, input, env);
  std::string name = ProcedureName(*expr.procedure);
  if (proc.undefined() && expr.procedure->type == ExprType::kPath &&
      LookupVariable(name, env).defined()) {
    Fail("T1005", {.position = expr.position, .token = name});
  }
  std::vector<Value> args;
  args.reserve(expr.items.size() + (apply_to ? 1 : 0));
  if (apply_to != nullptr) args.push_back(*apply_to);
  for (const ExprPtr& arg : expr.items) args.push_back(Evaluate(*arg, input, env));
  try {
    return Apply(proc, std::move(args), input, env);
  } catch (Failure& f) {
    if (!f.details.position) f.details.position = expr.position;
    if (f.details.token.empty()) f.details.token = name;
    throw;
  }
}

Value Evaluator::Apply(const Value& fn, std::vector<Value> args, const Value& input,
                       const FramePtr& env) {
  Value result = ApplyInner(fn, std::move(args), input, env);
  // Tail calls come back as thunks and run here, in a loop, instead of on the stack.
  while (result.is_function() && result.function().thunk) {
    const FunctionNode& thunk = result.function();
    const Expr& call = *thunk.lambda->body;
    Value next = Evaluate(*call.procedure, thunk.input, thunk.env);
    std::vector<Value> next_args;
    next_args.reserve(call.items.size());
    for (const ExprPtr& arg : call.items)
      next_args.push_back(Evaluate(*arg, thunk.input, thunk.env));
    std::string name = ProcedureName(*call.procedure);
    Value keep = result;  // the thunk's scope stays alive while its call runs
    try {
      result = ApplyInner(next, std::move(next_args), input, env);
    } catch (Failure& f) {
      if (!f.details.position) f.details.position = call.position;
      if (f.details.token.empty()) f.details.token = name;
      throw;
    }
  }
  return result;
}

Value Evaluator::ApplyInner(const Value& fn, std::vector<Value> args, const Value& input,
                            const FramePtr& env) {
  if (!fn.is_function()) Fail("T1006", {});
  const FunctionNode& f = fn.function();
  switch (f.type) {
    case FunctionNode::Type::kLambda: {
      if (f.signature) args = f.signature->Validate(std::move(args), input);
      FramePtr frame(new Frame(f.env));
      for (std::size_t i = 0; i < f.params.size(); ++i) {
        frame->Bind(f.params[i], i < args.size() ? std::move(args[i]) : Value());
      }
      return Evaluate(*f.lambda->body, f.input, frame);
    }
    case FunctionNode::Type::kBuiltin: {
      args = f.builtin->signature.Validate(std::move(args), input);
      CallContext ctx{*this, args, input, env};
      return f.builtin->call(ctx);
    }
    case FunctionNode::Type::kPartialBuiltin: {
      // Placeholders take the arguments in order; the call skips the signature, as the
      // reference's wrapper lambda does.
      std::vector<Value> full;
      std::size_t next = 0;
      for (const std::optional<Value>& b : f.bound) {
        if (b) {
          full.push_back(*b);
        } else {
          full.push_back(next < args.size() ? std::move(args[next]) : Value());
          ++next;
        }
      }
      CallContext ctx{*this, full, input, env};
      return f.builtin->call(ctx);
    }
    case FunctionNode::Type::kRegex: {
      return RegexMatchObject(*this, fn, args.empty() ? Value() : args[0],
                              args.size() > 1 && args[1].is_number() ? args[1].number() : 0);
    }
    case FunctionNode::Type::kTransform: {
      static const Signature kSignature = Signature::Parse("<(oa):o>");
      args = kSignature.Validate(std::move(args), input);
      return ApplyTransform(f, args.empty() ? Value() : args[0]);
    }
    case FunctionNode::Type::kComposition: {
      Value mid = Apply(f.first, {args.empty() ? Value() : args[0]}, Value(), env);
      return Apply(f.second, {mid}, Value(), env);
    }
    case FunctionNode::Type::kExternal: {
      const auto& native = *static_cast<const internal::Library::Native*>(f.native);
      args = native.signature.Validate(std::move(args), input);
      std::vector<std::optional<json::value>> json_args;
      json_args.reserve(args.size());
      for (const Value& a : args) json_args.push_back(ToJson(a));
      Outcome<std::optional<json::value>> r = native.function.call(json_args, options_.native_context);
      if (!r.ok()) Fail(r.error().code, {.raw = r.error().message});
      return r->has_value() ? FromJson(**r) : Value();
    }
  }
  Fail("T1006", {});
}

namespace {

Value ShallowCopy(const Value& object) {
  Value copy = Value::Object();
  ObjectNode& out = copy.mutable_object();
  out.Reserve(object.object().size());
  for (const auto& [key, member] : object.object().members()) out.AppendNew(key, member);
  return copy;
}

// The value with every object in `changed` (by identity) replaced by its changed copy; parts
// with nothing changed beneath them are returned as they are (still borrowed, not copied).
Value Rebuild(const Value& v, const boost::unordered_flat_map<const void*, Value>& changed) {
  if (v.is_object()) {
    auto it = changed.find(v.identity());
    const Value& base = it != changed.end() ? it->second : v;
    bool members_changed = false;
    std::vector<std::pair<std::string_view, Value>> members;
    members.reserve(base.object().size());
    for (const auto& [key, member] : base.object().members()) {
      Value rebuilt = Rebuild(member, changed);
      if (rebuilt.identity() != member.identity() || rebuilt.kind() != member.kind()) {
        members_changed = true;
      }
      members.emplace_back(key, std::move(rebuilt));
    }
    if (!members_changed) return base;  // the changed copy, or the value itself
    Value out = Value::Object();
    ObjectNode& obj = out.mutable_object();
    obj.Reserve(members.size());
    for (auto& [key, member] : members) obj.AppendNew(key, std::move(member));
    return out;
  }
  if (v.is_array()) {
    bool modified = false;
    std::vector<Value> items;
    items.reserve(v.size());
    for (const Value& item : v.array().items) {
      items.push_back(Rebuild(item, changed));
      if (items.back().identity() != item.identity()) modified = true;
    }
    if (!modified) return v;
    Value out = Value::Array(std::move(items));
    ArrayNode& arr = out.mutable_array();
    arr.sequence = v.array().sequence;
    arr.cons = v.array().cons;
    arr.outer_wrapper = v.array().outer_wrapper;
    return out;
  }
  return v;
}

}  // namespace

// A transform of borrowed JSON: instead of cloning the whole value first (the reference's
// $clone), the changed objects are copied when first changed and the result is rebuilt along
// their paths. JSON shares no nodes, so this gives the clone's result.
namespace {

// A matched object's changes: members set (in the update's order) and names removed.
struct JsonChange {
  // nullopt: set to undefined, which JSON leaves out.
  std::vector<std::pair<std::string, std::optional<json::value>>> sets;
  std::vector<std::string> removed;
};
using JsonChanges = boost::unordered_flat_map<const void*, JsonChange>;

// A copy of `v` with the changes made to the objects they name (by address), as ObjectNode's
// Set (in place for a member that exists, else appended) and then Erase would make them.
// The containers with a changed object somewhere below them (not counting themselves).
using Dirty = boost::unordered_flat_set<const void*>;

// Whether `v` is changed or holds a changed object; records the containers that hold one.
bool MarkDirty(const json::value& v, const JsonChanges& changes, Dirty& dirty) {
  bool below = false;
  const void* self = nullptr;
  if (const json::object* o = v.if_object()) {
    self = o;
    for (const auto& m : *o) below = MarkDirty(m.value(), changes, dirty) || below;
  } else if (const json::array* a = v.if_array()) {
    self = a;
    for (const auto& e : *a) below = MarkDirty(e, changes, dirty) || below;
  } else {
    return false;
  }
  if (below) dirty.insert(self);
  return below || changes.contains(self);
}

json::value CopyChanged(const json::value& v, const JsonChanges& changes, const Dirty& dirty,
                        const json::storage_ptr& sp);

// A copy of the object with its changes made, as ObjectNode's Set (in place for a member that
// exists, else appended) and then Erase would make them; what holds no change is copied whole.
json::object CopyObject(const json::object* o, const JsonChanges& changes, const Dirty& dirty,
                        const json::storage_ptr& sp) {
  auto it = changes.find(o);
  json::object out(sp);
  if (!dirty.contains(o)) {
    out = json::object(*o, sp);
  } else {
    out.reserve(o->size());
    for (const auto& m : *o) out.emplace(m.key(), CopyChanged(m.value(), changes, dirty, sp));
  }
  if (it == changes.end()) return out;
  for (const auto& [name, value] : it->second.sets) {
    if (value) {
      out.insert_or_assign(name, json::value(*value, sp));
    } else {
      out.stable_erase(name);  // set to undefined: JSON leaves it out
    }
  }
  for (const std::string& name : it->second.removed) out.stable_erase(name);
  return out;
}

json::value CopyChanged(const json::value& v, const JsonChanges& changes, const Dirty& dirty,
                        const json::storage_ptr& sp) {
  if (const json::object* o = v.if_object()) return CopyObject(o, changes, dirty, sp);
  if (const json::array* a = v.if_array(); a != nullptr && dirty.contains(a)) {
    json::array out(sp);
    out.reserve(a->size());
    for (const auto& e : *a) out.push_back(CopyChanged(e, changes, dirty, sp));
    return out;
  }
  return json::value(v, sp);
}

}  // namespace

std::optional<json::value> Evaluator::ResultJson(const Value& result) {
  if (result.borrowed() && result.is_object()) {
    for (json::value& doc : documents_) {
      if (doc.is_object() && &doc.get_object() == result.identity()) return std::move(doc);
    }
  }
  // A result built here (not a value of the input): one arena for all of it, which the JSON
  // keeps alive (shared).
  const bool built = (result.is_array() && result.size() > 0) ||
                     (result.is_object() && !result.borrowed());
  if (built) return ToJson(result, json::make_shared_resource<json::monotonic_resource>());
  return ToJson(result);
}

Value Evaluator::TransformJson(const FunctionNode& fn, const Value& target,
                               const std::vector<Value>& list) {
  const Expr& expr = *fn.transform;
  JsonChanges changes;
  changes.reserve(list.size());
  for (const Value& match : list) {
    Value update = Evaluate(*expr.update, match, fn.env);
    JsonChange* change = nullptr;
    if (update.defined()) {
      if (!update.is_object()) {
        Fail("T2011", {.position = expr.update->position, .value = JsonText(update)});
      }
      if (match.is_object()) {
        change = &changes[match.identity()];
        for (const auto& [k, v] : update.object().members()) {
          std::optional<json::value> j = ToJson(v);
          const std::string_view key = k;  // a structured binding cannot be captured (clang 14)
          auto same = std::find_if(change->sets.begin(), change->sets.end(),
                                   [&](const auto& s) { return s.first == key; });
          if (same != change->sets.end()) {
            same->second = std::move(*j);
          } else {
            change->sets.emplace_back(std::string(key), std::move(*j));
          }
        }
      }
    }
    if (expr.remove) {
      Value deletions = Evaluate(*expr.remove, match, fn.env);
      if (deletions.defined()) {
        Value names = deletions.is_array() ? deletions : Value::Array({deletions});
        if (!IsArrayOfStrings(names)) {
          Fail("T2012", {.position = expr.remove->position, .value = JsonText(deletions)});
        }
        if (match.is_object()) {
          if (change == nullptr) change = &changes[match.identity()];
          for (const Value& name : names.array().items) {
            change->removed.emplace_back(name.string());
          }
        }
      }
    }
  }
  if (changes.empty()) return target;
  // One arena for the copy, shared with the result: it lives as long as the JSON does (the
  // caller's, when this is the evaluation's result).
  json::storage_ptr sp = json::make_shared_resource<json::monotonic_resource>();
  const auto* root = static_cast<const json::object*>(target.identity());
  Dirty dirty;
  for (const auto& m : *root) {
    if (MarkDirty(m.value(), changes, dirty)) dirty.insert(root);
  }
  documents_.emplace_back(CopyObject(root, changes, dirty, sp));
  return Value::Borrow(documents_.back());
}

Value Evaluator::TransformBorrowed(const FunctionNode& fn, const Value& target) {
  const Expr& expr = *fn.transform;
  Value matches = Evaluate(*expr.pattern, target, fn.env);
  if (matches.undefined()) return target;
  std::vector<Value> list;
  if (matches.is_array()) {
    list = matches.array().items;
  } else {
    list.push_back(matches);
  }
  // Distinct objects read in place: change them while copying the JSON once.
  if (target.is_object()) {
    boost::unordered_flat_set<const void*> seen;
    seen.reserve(list.size());
    bool distinct = true;
    for (const Value& match : list) {
      if (match.is_object() && (!match.borrowed() || !seen.insert(match.identity()).second)) {
        distinct = false;
        break;
      }
    }
    if (distinct) return TransformJson(fn, target, list);
  }
  boost::unordered_flat_map<const void*, Value> changed;
  for (const Value& match : list) {
    const void* id = match.identity();
    auto current = [&]() -> Value {
      auto it = changed.find(id);
      return it != changed.end() ? it->second : match;
    };
    auto writable = [&]() -> ObjectNode& {
      auto it = changed.find(id);
      if (it == changed.end()) it = changed.emplace(id, ShallowCopy(match)).first;
      return it->second.mutable_object();
    };
    Value update = Evaluate(*expr.update, current(), fn.env);
    if (update.defined()) {
      if (!update.is_object()) {
        Fail("T2011", {.position = expr.update->position, .value = JsonText(update)});
      }
      if (match.is_object()) {
        ObjectNode& obj = writable();
        for (const auto& [k, v] : update.object().members()) obj.Set(k, v);
      }
    }
    if (expr.remove) {
      Value deletions = Evaluate(*expr.remove, current(), fn.env);
      if (deletions.defined()) {
        Value names = deletions.is_array() ? deletions : Value::Array({deletions});
        if (!IsArrayOfStrings(names)) {
          Fail("T2012", {.position = expr.remove->position, .value = JsonText(deletions)});
        }
        if (match.is_object()) {
          ObjectNode& obj = writable();
          for (const Value& name : names.array().items) obj.Erase(name.string());
        }
      }
    }
  }
  if (changed.empty()) return target;
  return Rebuild(target, changed);
}

Value Evaluator::ApplyTransform(const FunctionNode& fn, const Value& target) {
  if (target.undefined()) return Value();
  const Expr& expr = *fn.transform;
  const Value* clone = fn.env->Lookup("clone");
  if (clone != nullptr && !clone->is_function()) Fail("T2013", {.position = expr.position});
  if (clone == nullptr && target.borrowed()) return TransformBorrowed(fn, target);
  Value result = clone != nullptr ? Apply(*clone, {target}, Value(), fn.env) : DeepClone(target);
  Value matches = Evaluate(*expr.pattern, result, fn.env);
  if (matches.undefined()) return result;
  std::vector<Value> list;
  if (matches.is_array()) {
    list = matches.array().items;
  } else {
    list.push_back(matches);
  }
  for (const Value& match : list) {
    Value update = Evaluate(*expr.update, match, fn.env);
    if (update.defined()) {
      if (!update.is_object()) {
        Fail("T2011", {.position = expr.update->position, .value = JsonText(update)});
      }
      if (match.is_object() && !match.borrowed()) {
        // The match is a node of the fresh clone: changing it changes the result.
        ObjectNode& target_obj = match.mutable_object();
        for (const auto& [k, v] : update.object().members()) target_obj.Set(k, v);
      }
    }
    if (expr.remove) {
      Value deletions = Evaluate(*expr.remove, match, fn.env);
      if (deletions.defined()) {
        Value list_value = deletions.is_array() ? deletions : Value::Array({deletions});
        if (!IsArrayOfStrings(list_value)) {
          Fail("T2012", {.position = expr.remove->position, .value = JsonText(deletions)});
        }
        if (match.is_object() && !match.borrowed()) {
          for (const Value& name : list_value.array().items) {
            match.mutable_object().Erase(name.string());
          }
        }
      }
    }
  }
  return result;
}

Value Evaluator::EvaluatePartial(const Expr& expr, const Value& input, const FramePtr& env) {
  std::vector<std::optional<Value>> args;
  for (const ExprPtr& arg : expr.items) {
    if (arg->type == ExprType::kPlaceholder) {
      args.emplace_back(std::nullopt);
    } else {
      args.emplace_back(Evaluate(*arg, input, env));
    }
  }
  Value proc = Evaluate(*expr.procedure, input, env);
  std::string name = ProcedureName(*expr.procedure);
  if (proc.undefined() && expr.procedure->type == ExprType::kPath &&
      LookupVariable(name, env).defined()) {
    Fail("T1007", {.position = expr.position, .token = name});
  }
  if (!proc.is_function()) Fail("T1008", {.position = expr.position, .token = name});
  const FunctionNode& f = proc.function();
  boost::intrusive_ptr<FunctionNode> partial(new FunctionNode());
  if (f.type == FunctionNode::Type::kLambda) {
    *partial = f;
    partial->env = FramePtr(new Frame(f.env));
    partial->params.clear();
    for (std::size_t i = 0; i < f.params.size(); ++i) {
      if (i < args.size() && !args[i]) {
        partial->params.push_back(f.params[i]);
      } else {
        partial->env->Bind(f.params[i], i < args.size() ? *args[i] : Value());
      }
    }
    return Value::Function(std::move(partial));
  }
  if (f.type == FunctionNode::Type::kBuiltin) {
    // Like the reference's wrapper lambda over the native's declared parameters: those not
    // supplied are bound as undefined, extra arguments are dropped.
    partial->type = FunctionNode::Type::kPartialBuiltin;
    partial->builtin = f.builtin;
    std::size_t arity = static_cast<std::size_t>(std::max(f.builtin->arity, 0));
    for (std::size_t i = 0; i < arity; ++i) {
      partial->bound.push_back(i < args.size() ? args[i] : std::optional<Value>(Value()));
    }
    return Value::Function(std::move(partial));
  }
  if (f.type == FunctionNode::Type::kPartialBuiltin) {
    // A partial of a partial: its placeholders are its parameters.
    *partial = f;
    std::size_t k = 0;
    for (std::optional<Value>& slot : partial->bound) {
      if (slot) continue;
      if (k >= args.size()) {
        slot = Value();
      } else if (args[k]) {
        slot = *args[k];
      }
      ++k;
    }
    return Value::Function(std::move(partial));
  }
  Fail("T1008", {.position = expr.position, .token = name});
}

Value Evaluator::EvaluateApply(const Expr& expr, const Value& input, const FramePtr& env) {
  Value lhs = Evaluate(*expr.lhs, input, env);
  if (expr.rhs->type == ExprType::kFunction) return EvaluateCall(*expr.rhs, input, env, &lhs);
  Value fn = Evaluate(*expr.rhs, input, env);
  if (!fn.is_function()) {
    Fail("T2006", {.position = expr.position, .value = JsonText(fn)});
  }
  if (lhs.is_function()) {
    boost::intrusive_ptr<FunctionNode> composed(new FunctionNode());
    composed->type = FunctionNode::Type::kComposition;
    composed->first = lhs;
    composed->second = fn;
    return Value::Function(std::move(composed));
  }
  return Apply(fn, {lhs}, Value(), env);
}

double EvaluationNow(Evaluator& evaluator) { return evaluator.now_millis(); }

Value Evaluator::EvaluateText(const std::string& text, const Value& input, const FramePtr& env) {
  std::shared_ptr<Expr> ast;
  try {
    ast = std::shared_ptr<Expr>(ParseExpression(text).release());
  } catch (Failure& f) {
    Fail("D3120", {.value = "\"" + f.ToError().message + "\""});
  }
  try {
    eval_programs_.push_back(ast);  // lambdas made by it may outlive this call
    return Evaluate(*ast, WrapInput(input), env);
  } catch (Failure& f) {
    if (f.code == "U1001") throw;
    Fail("D3121", {.value = "\"" + f.ToError().message + "\""});
  }
}

}  // namespace zflow::jsonata
