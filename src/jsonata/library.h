// What a FunctionLibrary holds: native functions by name, with parsed signatures, and the
// built-ins withheld from evaluations that use it.
#ifndef ZFLOW_JSONATA_LIBRARY_H_
#define ZFLOW_JSONATA_LIBRARY_H_

#include <memory>
#include <string>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "jsonata/signature.h"
#include "zflow/jsonata.h"

namespace zflow::jsonata::internal {

struct Library {
  struct Native {
    NativeFunction function;
    Signature signature;
  };
  boost::unordered_flat_map<std::string, std::unique_ptr<Native>> natives;
  std::vector<std::string> withheld;
};

}  // namespace zflow::jsonata::internal

#endif  // ZFLOW_JSONATA_LIBRARY_H_
