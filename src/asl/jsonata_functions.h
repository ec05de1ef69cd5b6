// The JSONata functions of JSONata states in AWS Step Functions: JSONata 2.0.6's library plus
// $partition, $range, $hash, $random (with an optional seed), $uuid and $parse, without $eval.
#ifndef ZFLOW_ASL_JSONATA_FUNCTIONS_H_
#define ZFLOW_ASL_JSONATA_FUNCTIONS_H_

#include "zflow/jsonata.h"

namespace zflow::asl {

class RandomSource;

// The library; pass a RandomSource* (or nullptr for the process-wide one) as
// EvaluateOptions::native_context, for $random and $uuid.
const jsonata::FunctionLibrary& StepFunctionsJsonata();

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_JSONATA_FUNCTIONS_H_
