// zflow/zflow.h: everything a zflow user includes.
//
//   #include <zflow/zflow.h>
//   zflow::asl::ValidationReport r = zflow::asl::ValidateDefinition(text);
#ifndef ZFLOW_ZFLOW_H_
#define ZFLOW_ZFLOW_H_

#include "zflow/asl_parser.h"
#include "zflow/asl_serializer.h"
#include "zflow/clock.h"
#include "zflow/diagnostic.h"
#include "zflow/executor.h"
#include "zflow/errors.h"
#include "zflow/json.h"
#include "zflow/limits.h"
#include "zflow/local_services.h"
#include "zflow/state_machine.h"
#include "zflow/runtime.h"
#include "zflow/status.h"
#include "zflow/validator.h"

#endif  // ZFLOW_ZFLOW_H_
