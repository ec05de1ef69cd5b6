// Aggregation, arrays, objects, higher-order functions and the rest of the JSONata library;
// and the table every built-in is found in.
#include <algorithm>
#include <cmath>
#include <random>
#include <string_view>

#include <boost/unordered/unordered_flat_map.hpp>

#include "jsonata/error.h"
#include "jsonata/functions.h"

namespace zflow::jsonata {
namespace {

const std::vector<Value>& Items(const Value& v) { return v.array().items; }

Value FnSum(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  double total = 0;
  for (const Value& v : Items(c.arg(0))) total += v.number();
  return Value::Number(total);
}

Value FnCount(CallContext& c) {
  if (c.arg(0).undefined()) return Value::Number(0);
  return Value::Number(static_cast<double>(c.arg(0).size()));
}

Value MinMax(CallContext& c, bool max) {
  if (c.arg(0).undefined() || c.arg(0).size() == 0) return Value();
  double r = max ? -INFINITY : INFINITY;
  for (const Value& v : Items(c.arg(0))) {
    double x = v.number();
    if (std::isnan(x)) return Value::Number(NAN);
    r = max ? std::max(r, x) : std::min(r, x);
  }
  return Value::Number(r);
}
Value FnMax(CallContext& c) { return MinMax(c, true); }
Value FnMin(CallContext& c) { return MinMax(c, false); }

Value FnAverage(CallContext& c) {
  if (c.arg(0).undefined() || c.arg(0).size() == 0) return Value();
  double total = 0;
  for (const Value& v : Items(c.arg(0))) total += v.number();
  return Value::Number(total / static_cast<double>(c.arg(0).size()));
}

Value FnBoolean(CallContext& c) { return ToBoolean(c.arg(0)); }

Value FnNot(CallContext& c) {
  Value b = ToBoolean(c.arg(0));
  if (b.undefined()) return Value();
  return Value::Bool(!b.boolean());
}

// The callback's arguments: the value, then the index and the whole array only when it
// declares them.
std::vector<Value> HofArgs(const Value& fn, const Value& a, const Value& b, const Value& all) {
  if (!fn.is_function()) Fail("T0410", {.index = 2});
  std::vector<Value> args{a};
  int arity = fn.function().Arity();
  if (arity >= 2) args.push_back(b);
  if (arity >= 3) args.push_back(all);
  return args;
}

Value FnMap(CallContext& c) {
  const Value& arr = c.arg(0);
  if (arr.undefined()) return Value();
  std::vector<Value> out;
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    Value r = c.evaluator.Apply(c.arg(1), HofArgs(c.arg(1), arr[i], Value::Number(double(i)), arr),
                                Value(), c.env);
    if (r.defined()) out.push_back(std::move(r));
  }
  return Value::Sequence(std::move(out));
}

Value FnFilter(CallContext& c) {
  const Value& arr = c.arg(0);
  if (arr.undefined()) return Value();
  std::vector<Value> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    Value r = c.evaluator.Apply(c.arg(1), HofArgs(c.arg(1), arr[i], Value::Number(double(i)), arr),
                                Value(), c.env);
    if (Truthy(r)) out.push_back(arr[i]);
  }
  return Value::Sequence(std::move(out));
}

Value FnSingle(CallContext& c) {
  const Value& arr = c.arg(0);
  if (arr.undefined()) return Value();
  bool found = false;
  Value result;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    bool positive = true;
    if (c.arg(1).defined()) {
      Value r = c.evaluator.Apply(c.arg(1),
                                  HofArgs(c.arg(1), arr[i], Value::Number(double(i)), arr),
                                  Value(), c.env);
      positive = Truthy(r);
    }
    if (positive) {
      if (found) Fail("D3138", {.index = static_cast<int>(i)});
      result = arr[i];
      found = true;
    }
  }
  if (!found) Fail("D3139", {});
  return result;
}

Value FnZip(CallContext& c) {
  std::size_t length = c.args.empty() ? 0 : static_cast<std::size_t>(-1);
  for (const Value& a : c.args) length = std::min(length, a.is_array() ? a.size() : 0);
  std::vector<Value> out;
  for (std::size_t i = 0; i < length; ++i) {
    std::vector<Value> tuple;
    for (const Value& a : c.args) tuple.push_back(a[i]);
    out.push_back(Value::Array(std::move(tuple)));
  }
  return Value::Array(std::move(out));
}

Value FnReduce(CallContext& c) {
  const Value& seq = c.arg(0);
  if (seq.undefined()) return Value();
  const Value& fn = c.arg(1);
  int arity = fn.function().Arity();
  if (arity < 2) Fail("D3050", {.index = 1});
  Value result;
  std::size_t index = 0;
  if (c.arg(2).undefined() && seq.size() > 0) {
    result = seq[0];
    index = 1;
  } else {
    result = c.arg(2);
  }
  for (; index < seq.size(); ++index) {
    std::vector<Value> args{result, seq[index]};
    if (arity >= 3) args.push_back(Value::Number(static_cast<double>(index)));
    if (arity >= 4) args.push_back(seq);
    result = c.evaluator.Apply(fn, std::move(args), Value(), c.env);
  }
  return result;
}

void CollectKeys(const Value& v, std::vector<std::string>& keys,
                 boost::unordered_flat_map<std::string, bool>& seen) {
  if (v.is_array()) {
    for (const Value& item : Items(v)) CollectKeys(item, keys, seen);
  } else if (v.is_object()) {
    for (const auto& [k, member] : v.object().members()) {
      if (seen.emplace(std::string(k), true).second) keys.emplace_back(k);
    }
  }
}

Value FnKeys(CallContext& c) {
  std::vector<std::string> keys;
  boost::unordered_flat_map<std::string, bool> seen;
  CollectKeys(c.arg(0), keys, seen);
  std::vector<Value> out;
  out.reserve(keys.size());
  for (std::string& k : keys) out.push_back(Value::String(std::move(k)));
  return Value::Sequence(std::move(out));
}

Value Lookup(const Value& input, std::string_view key) {
  if (input.is_array()) {
    std::vector<Value> out;
    for (const Value& item : Items(input)) {
      Value r = Lookup(item, key);
      if (r.undefined()) continue;
      if (r.is_array()) {
        for (const Value& x : Items(r)) out.push_back(x);
      } else {
        out.push_back(std::move(r));
      }
    }
    return Value::Sequence(std::move(out));
  }
  if (input.is_object()) {
    return input.object().Get(key);
  }
  return Value();
}

// An undefined key is "undefined", as JavaScript reads it.
Value FnLookup(CallContext& c) {
  return Lookup(c.arg(0), c.arg(1).is_string() ? c.arg(1).string() : "undefined");
}

Value FnAppend(CallContext& c) { return Append(c.arg(0), c.arg(1)); }

Value FnExists(CallContext& c) { return Value::Bool(c.arg(0).defined()); }

Value Spread(const Value& v) {
  if (v.is_array()) {
    Value result = Value::Sequence();
    for (const Value& item : Items(v)) result = Append(result, Spread(item));
    return result;
  }
  if (v.is_object()) {
    std::vector<Value> out;
    for (const auto& [k, member] : v.object().members()) {
      Value obj = Value::Object();
      obj.mutable_object().Set(k, member);
      out.push_back(std::move(obj));
    }
    return Value::Sequence(std::move(out));
  }
  return v;
}

Value FnSpread(CallContext& c) { return Spread(c.arg(0)); }

Value FnMerge(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  Value result = Value::Object();
  for (const Value& obj : Items(c.arg(0))) {
    for (const auto& [k, v] : obj.object().members()) result.mutable_object().Set(k, v);
  }
  return result;
}

Value FnReverse(CallContext& c) {
  const Value& arr = c.arg(0);
  if (arr.undefined()) return Value();
  if (arr.size() <= 1) return arr;
  std::vector<Value> out(Items(arr).rbegin(), Items(arr).rend());
  return Value::Array(std::move(out));
}

Value FnEach(CallContext& c) {
  std::vector<Value> out;
  const Value& obj = c.arg(0);
  if (obj.is_object()) {
    for (const auto& [k, v] : obj.object().members()) {
      Value r = c.evaluator.Apply(c.arg(1), HofArgs(c.arg(1), v, Value::String(k), obj), Value(),
                                  c.env);
      if (r.defined()) out.push_back(std::move(r));
    }
  }
  return Value::Sequence(std::move(out));
}

Value FnSift(CallContext& c) {
  const Value& obj = c.arg(0);
  Value result = Value::Object();
  if (obj.is_object()) {
    for (const auto& [k, v] : obj.object().members()) {
      Value r = c.evaluator.Apply(c.arg(1), HofArgs(c.arg(1), v, Value::String(k), obj), Value(),
                                  c.env);
      if (Truthy(r)) result.mutable_object().Set(k, v);
    }
  }
  if (result.object().empty()) return Value();
  return result;
}

Value FnError(CallContext& c) {
  std::string message = c.arg(0).is_string() && !c.arg(0).string().empty()
                            ? std::string(c.arg(0).string())
                            : "$error() function evaluated";
  Fail("D3137", {.raw = message});
}

Value FnAssert(CallContext& c) {
  if (!c.arg(0).boolean()) {
    std::string message = c.arg(1).is_string() && !c.arg(1).string().empty()
                              ? std::string(c.arg(1).string())
                              : "$assert() statement failed";
    Fail("D3141", {.raw = message});
  }
  return Value();
}

Value FnType(CallContext& c) {
  switch (c.arg(0).kind()) {
    case Kind::kUndefined: return Value();
    case Kind::kNull: return Value::String("null");
    case Kind::kNumber: return Value::String("number");
    case Kind::kString: return Value::String("string");
    case Kind::kBool: return Value::String("boolean");
    case Kind::kArray: return Value::String("array");
    case Kind::kFunction: return Value::String("function");
    case Kind::kObject: return Value::String("object");
  }
  return Value();
}

Value FnSort(CallContext& c) {
  const Value& arr = c.arg(0);
  if (arr.undefined()) return Value();
  if (arr.size() <= 1) return arr;
  std::vector<Value> items = Items(arr);
  const Value& comparator = c.arg(1);
  if (comparator.undefined()) {
    if (!IsArrayOfNumbers(arr) && !IsArrayOfStrings(arr)) Fail("D3070", {.index = 1});
    if (IsArrayOfNumbers(arr)) {
      std::stable_sort(items.begin(), items.end(),
                       [](const Value& a, const Value& b) { return a.number() < b.number(); });
    } else {
      std::stable_sort(items.begin(), items.end(),
                       [](const Value& a, const Value& b) { return a.string() < b.string(); });
    }
    return Value::Array(std::move(items));
  }
  // A merge sort that swaps only when the comparator says "greater", as the reference's.
  std::vector<Value> buffer(items.size());
  auto swap_needed = [&](const Value& a, const Value& b) {
    return Truthy(c.evaluator.Apply(comparator, {a, b}, Value(), c.env));
  };
  for (std::size_t width = 1; width < items.size(); width *= 2) {
    for (std::size_t lo = 0; lo < items.size(); lo += 2 * width) {
      std::size_t mid = std::min(lo + width, items.size());
      std::size_t hi = std::min(lo + 2 * width, items.size());
      std::size_t i = lo;
      std::size_t j = mid;
      std::size_t k = lo;
      while (i < mid && j < hi) {
        if (swap_needed(items[i], items[j])) {
          buffer[k++] = items[j++];
        } else {
          buffer[k++] = items[i++];
        }
      }
      while (i < mid) buffer[k++] = items[i++];
      while (j < hi) buffer[k++] = items[j++];
    }
    items.swap(buffer);
  }
  return Value::Array(std::move(items));
}

Value FnShuffle(CallContext& c) {
  const Value& arr = c.arg(0);
  if (arr.undefined()) return Value();
  if (arr.size() <= 1) return arr;
  std::vector<Value> items = Items(arr);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::shuffle(items.begin(), items.end(), rng);
  return Value::Array(std::move(items));
}

Value FnDistinct(CallContext& c) {
  const Value& arr = c.arg(0);
  if (arr.undefined()) return Value();
  if (!arr.is_array() || arr.size() <= 1) return arr;
  std::vector<Value> out;
  for (const Value& v : Items(arr)) {
    bool seen = false;
    for (const Value& o : out) {
      if (DeepEqual(v, o)) {
        seen = true;
        break;
      }
    }
    if (!seen) out.push_back(v);
  }
  return arr.is_sequence() ? Value::Sequence(std::move(out)) : Value::Array(std::move(out));
}

Value Clone(const Value& v) {
  if (v.is_array()) {
    std::vector<Value> items;
    for (const Value& item : Items(v)) items.push_back(Clone(item));
    return Value::Array(std::move(items));
  }
  if (v.is_object()) {
    Value out = Value::Object();
    for (const auto& [k, member] : v.object().members()) {
      if (member.defined() && !member.is_function()) out.mutable_object().AppendNew(k, Clone(member));
    }
    return out;
  }
  return v;
}

Value FnClone(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  return Clone(c.arg(0));
}

Value FnEval(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  Value input = c.input;
  if (c.arg(1).defined()) input = WrapInput(c.arg(1));
  return c.evaluator.EvaluateText(std::string(c.arg(0).string()), input, c.env);
}

Builtin kBuiltins[] = {
    {"sum", "<a<n>:n>", 1, FnSum, {}},
    {"count", "<a:n>", 1, FnCount, {}},
    {"max", "<a<n>:n>", 1, FnMax, {}},
    {"min", "<a<n>:n>", 1, FnMin, {}},
    {"average", "<a<n>:n>", 1, FnAverage, {}},
    {"boolean", "<x-:b>", 1, FnBoolean, {}},
    {"not", "<x-:b>", 1, FnNot, {}},
    {"map", "<af>", 2, FnMap, {}},
    {"zip", "<a+>", 0, FnZip, {}},
    {"filter", "<af>", 2, FnFilter, {}},
    {"single", "<af?>", 2, FnSingle, {}},
    {"reduce", "<afj?:j>", 3, FnReduce, {}},
    {"sift", "<o-f?:o>", 2, FnSift, {}},
    {"keys", "<x-:a<s>>", 1, FnKeys, {}},
    {"lookup", "<x-s:x>", 2, FnLookup, {}},
    {"append", "<xx:a>", 2, FnAppend, {}},
    {"exists", "<x:b>", 1, FnExists, {}},
    {"spread", "<x-:a<o>>", 1, FnSpread, {}},
    {"merge", "<a<o>:o>", 1, FnMerge, {}},
    {"reverse", "<a:a>", 1, FnReverse, {}},
    {"each", "<o-f:a>", 2, FnEach, {}},
    {"error", "<s?:x>", 1, FnError, {}},
    {"assert", "<bs?:x>", 2, FnAssert, {}},
    {"type", "<x:s>", 1, FnType, {}},
    {"sort", "<af?:a>", 2, FnSort, {}},
    {"shuffle", "<a:a>", 1, FnShuffle, {}},
    {"distinct", "<x:x>", 1, FnDistinct, {}},
    {"eval", "<sx?:x>", 2, FnEval, {}},
    {"clone", "<(oa)-:o>", 1, FnClone, {}},
};

struct Table {
  boost::unordered_flat_map<std::string_view, const Builtin*> by_name;
  Table() {
    for (std::span<Builtin> part : {StringAndNumberBuiltins(), CollectionBuiltins()}) {
      for (Builtin& b : part) {
        b.signature = Signature::Parse(b.signature_text);
        by_name.emplace(b.name, &b);
      }
    }
  }
};

}  // namespace

std::span<Builtin> CollectionBuiltins() { return kBuiltins; }

const Builtin* FindBuiltin(std::string_view name) {
  static const Table table;
  auto it = table.by_name.find(name);
  return it == table.by_name.end() ? nullptr : it->second;
}

int FunctionNode::Arity() const {
  switch (type) {
    case Type::kLambda:
      return static_cast<int>(params.size());
    case Type::kBuiltin:
      return builtin->arity;
    case Type::kPartialBuiltin: {
      int n = 0;
      for (const auto& b : bound) {
        if (!b) ++n;
      }
      return n;
    }
    case Type::kRegex:
      return 2;
    case Type::kTransform:
    case Type::kComposition:
      return 1;
    case Type::kExternal:
      return signature ? static_cast<int>(signature->param_count()) : 1;
  }
  return 1;
}

}  // namespace zflow::jsonata
