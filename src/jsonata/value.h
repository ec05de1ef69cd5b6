// The values a JSONata evaluation works on: JSON values plus JSONata's undefined, functions and
// sequences (arrays made by path navigation, which flatten and collapse to a single item; see
// "sequence" below). A value is 24 bytes: a kind, a number or boolean, and a reference-counted
// node for strings, arrays, objects and functions. Copies share nodes; a node is changed only
// while it has a single owner (the evaluator builds results in place before handing them on).
#ifndef ZFLOW_JSONATA_VALUE_H_
#define ZFLOW_JSONATA_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include "zflow/json.h"

namespace zflow::jsonata {

class Value;
struct FunctionNode;

// Shared by every node kind. Reference counts are atomic: compiled expressions hold literal
// values that evaluations on several threads share.
struct Node : boost::intrusive_ref_counter<Node, boost::thread_safe_counter> {
  virtual ~Node() = default;
};

struct StringNode;
struct ArrayNode;
struct ObjectNode;

enum class Kind : std::uint8_t {
  kUndefined,
  kNull,
  kBool,
  kNumber,
  kString,
  kArray,
  kObject,
  kFunction,
};

class ObjectView;

class Value {
 public:
  Value() = default;  // undefined
  Value(const Value& o) : kind_(o.kind_), borrowed_(o.borrowed_), number_(o.number_), ptr_(o.ptr_) {
    if (!borrowed_ && ptr_ != nullptr) intrusive_ptr_add_ref(static_cast<const Node*>(ptr_));
  }
  Value(Value&& o) noexcept
      : kind_(o.kind_), borrowed_(o.borrowed_), number_(o.number_), ptr_(o.ptr_) {
    o.ptr_ = nullptr;
    o.kind_ = Kind::kUndefined;
  }
  Value& operator=(const Value& o) {
    Value copy(o);
    Swap(copy);
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    Value moved(std::move(o));
    Swap(moved);
    return *this;
  }
  ~Value() {
    if (!borrowed_ && ptr_ != nullptr) intrusive_ptr_release(static_cast<const Node*>(ptr_));
  }

  static Value Null() { return Value(Kind::kNull); }
  static Value Bool(bool b) {
    Value v(Kind::kBool);
    v.number_ = b ? 1 : 0;
    return v;
  }
  static Value Number(double n) {
    Value v(Kind::kNumber);
    v.number_ = n;
    return v;
  }
  static Value String(std::string s);
  static Value String(std::string_view s) { return String(std::string(s)); }
  static Value String(const char* s) { return String(std::string(s)); }
  // An array (a JSON array) and a sequence (a result of navigation) start empty.
  static Value Array(std::vector<Value> items = {});
  static Value Sequence(std::vector<Value> items = {});
  static Value Sequence1(Value item);
  static Value Object();
  static Value Function(boost::intrusive_ptr<FunctionNode> f);
  // A view of JSON that the caller keeps alive and unchanged while the value (and every value
  // taken from it) is used: strings and objects are read in place, arrays get an array of views.
  static Value Borrow(const json::value& v);

  Kind kind() const { return kind_; }
  bool undefined() const { return kind_ == Kind::kUndefined; }
  bool defined() const { return kind_ != Kind::kUndefined; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_function() const { return kind_ == Kind::kFunction; }
  // Borrowed from JSON (read-only): strings and objects made by Borrow.
  bool borrowed() const { return borrowed_; }

  bool boolean() const { return number_ != 0; }
  double number() const { return number_; }
  std::string_view string() const;
  const ArrayNode& array() const;
  // The array for changes; precondition: this value is its only owner (a freshly built one).
  ArrayNode& mutable_array() const;
  ObjectView object() const;
  // Precondition: an object made by Object() (not borrowed) with this value its only owner.
  ObjectNode& mutable_object() const;
  const FunctionNode& function() const;
  // The node's address: identity for JavaScript's === on objects, arrays and functions.
  const void* identity() const { return ptr_; }

  // Array helpers (precondition: is_array()).
  bool is_sequence() const;
  std::size_t size() const;
  const Value& operator[](std::size_t i) const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  void Swap(Value& o) noexcept {
    std::swap(kind_, o.kind_);
    std::swap(borrowed_, o.borrowed_);
    std::swap(number_, o.number_);
    std::swap(ptr_, o.ptr_);
  }
  Kind kind_ = Kind::kUndefined;
  bool borrowed_ = false;
  double number_ = 0;
  // A Node (owned, counted) or, when borrowed_, a json::string / json::object.
  const void* ptr_ = nullptr;
};

struct StringNode final : Node {
  explicit StringNode(std::string s) : text(std::move(s)) {}
  std::string text;
};

struct ArrayNode final : Node {
  std::vector<Value> items;
  bool sequence = false;        // made by navigation: flattens into its parent, collapses
  bool keep_singleton = false;  // a sequence of one stays an array ("[]" in a path)
  bool cons = false;            // made by an array constructor: not flattened by a path
  bool outer_wrapper = false;   // wraps an array given as the whole input
  bool tuple_stream = false;    // items are tuples (focus/index/parent bindings)
};

// An object keeps its members in insertion order; large objects also keep an index.
class ObjectNode final : public Node {
 public:
  const Value* Find(std::string_view key) const;
  // Sets `key`, keeping its place when it exists.
  void Set(std::string_view key, Value value);
  // Adds `key`, which the caller knows is not a member yet.
  void AppendNew(std::string_view key, Value value);
  bool Erase(std::string_view key);
  std::size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }
  void Reserve(std::size_t n) { members_.reserve(n); }

 private:
  static constexpr std::size_t kIndexFrom = 12;
  void BuildIndex();
  std::vector<std::pair<std::string, Value>> members_;
  boost::unordered_flat_map<std::string, std::uint32_t> index_;
};

// Read access to an object, owned or borrowed from JSON.
class ObjectView {
 public:
  // The member's value; undefined when there is none.
  Value Get(std::string_view key) const;
  std::size_t size() const;
  bool empty() const { return size() == 0; }

  // Members in order, as (key, value) pairs: for (const auto& [key, value] : view.members()).
  class Iterator {
   public:
    std::pair<std::string_view, Value> operator*() const;
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return index_ != o.index_; }

   private:
    friend class ObjectView;
    const ObjectNode* owned_ = nullptr;
    const json::object* json_ = nullptr;
    std::size_t index_ = 0;
  };
  struct Range {
    Iterator first, last;
    Iterator begin() const { return first; }
    Iterator end() const { return last; }
  };
  Range members() const;

 private:
  friend class Value;
  const ObjectNode* owned_ = nullptr;
  const json::object* json_ = nullptr;
};

inline const ArrayNode& Value::array() const { return *static_cast<const ArrayNode*>(ptr_); }
inline ArrayNode& Value::mutable_array() const {
  return *const_cast<ArrayNode*>(static_cast<const ArrayNode*>(ptr_));
}
inline ObjectNode& Value::mutable_object() const {
  return *const_cast<ObjectNode*>(static_cast<const ObjectNode*>(ptr_));
}
inline bool Value::is_sequence() const { return is_array() && array().sequence; }
inline std::size_t Value::size() const { return array().items.size(); }
inline const Value& Value::operator[](std::size_t i) const { return array().items[i]; }

// Conversions to and from JSON. Undefined members of objects are left out; undefined items of
// arrays and functions become null (as JSON.stringify writes them).
Value FromJson(const json::value& v);  // owned copies
// nullopt when `v` is undefined or a function.
std::optional<json::value> ToJson(const Value& v, const json::storage_ptr& sp = {});

// JavaScript's Number.prototype.toString for finite numbers (shortest round trip, exponent past
// 1e21 and below 1e-6).
std::string FormatNumberJs(double n);
// JSON text of a value, as JSONata's $string writes it: numbers with 15 significant digits,
// functions as "", undefined members left out; `indent` > 0 pretty-prints.
std::string Stringify(const Value& v, int indent = 0);

// A value as error messages show it: JSON text, with undefined as "" and infinities written
// out instead of failing.
std::string DescribeValue(const Value& v);

// Deep equality, as JSONata's "=" (numbers by value, objects regardless of member order).
bool DeepEqual(const Value& a, const Value& b);

// True for a number that is not NaN; an infinite number is an error (D1001), as in the
// reference, where infinities arise from arithmetic and fail where a number is read.
bool IsNumeric(const Value& v);
bool IsArrayOfNumbers(const Value& v);
bool IsArrayOfStrings(const Value& v);

// Number of code points in UTF-8 text.
std::size_t CodePointCount(std::string_view s);
// Appends code point `cp` as UTF-8 (surrogates and values past U+10FFFF as U+FFFD).
void AppendUtf8(std::string& out, std::uint32_t cp);

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_VALUE_H_
