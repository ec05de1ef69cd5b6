// Function signatures ("<s-nn?:s>"): the parameter types a JSONata function accepts, checked
// (and coerced: a single value where an array is expected becomes an array, a missing first
// argument marked "-" becomes the context) before every call.
#ifndef ZFLOW_JSONATA_SIGNATURE_H_
#define ZFLOW_JSONATA_SIGNATURE_H_

#include <string>
#include <string_view>
#include <vector>

#include "jsonata/value.h"

namespace zflow::jsonata {

class Signature {
 public:
  // Throws S0401/S0402 (with the offset into `text` as position) for malformed signatures.
  static Signature Parse(std::string_view text);

  // The arguments to call with. Throws T0410, T0411 or T0412 (without a token: the caller
  // names the function).
  std::vector<Value> Validate(std::vector<Value> args, const Value& context) const;

  const std::string& text() const { return text_; }
  std::size_t param_count() const { return params_.size(); }

 private:
  struct Param {
    std::string symbols;  // the argument kinds accepted ('m' is undefined)
    char type = 0;        // s n b l o a f j x, or '(' for a choice
    std::string subtype;  // a<n>: the item type
    bool context = false;
    std::string context_symbols;
    int min = 1;
    int max = 1;  // -1: unbounded
    bool greedy = true;
  };
  bool Match(const std::string& supplied, std::size_t param, std::size_t at,
             std::vector<std::size_t>& counts) const;
  [[noreturn]] void ThrowMismatch(const std::vector<Value>& args,
                                  const std::string& supplied) const;
  std::string text_;
  std::vector<Param> params_;
};

// The signature letter of a value: s n b l a o f, or m for undefined.
char SignatureSymbol(const Value& v);

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_SIGNATURE_H_
