// A distributed Map's input and output on the object store: ItemReader (JSON, JSON Lines, CSV,
// S3 listings), ItemBatcher, and ResultWriter's result files and manifest, as S3 holds them.
#ifndef ZFLOW_RUNTIME_MAP_IO_H_
#define ZFLOW_RUNTIME_MAP_IO_H_

#include <string>
#include <string_view>
#include <vector>

#include "asl/evaluation.h"
#include "runtime/compiled_machine.h"
#include "zflow/runtime.h"

namespace zflow::runtime {

// The items an ItemReader reads (a JSON array), or States.ItemReaderFailed.
// `scope` evaluates the JSONata fields of a JSONata state (null in a JSONPath one).
asl::Outcome<json::value> ReadItems(const CompiledReader& r, const asl::EvaluationContext& e,
                                    ObjectStore* store,
                                    const asl::JsonataScope* scope = nullptr);

// RFC 4180 CSV: quoted fields with "" escapes, CRLF or LF line ends.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, char delim);

// Groups the (selected) items into {"Items": [...], "BatchInput": ...} by count and size.
asl::Outcome<std::vector<json::value>> BatchItems(const CompiledBatcher& b,
                                                  const asl::EvaluationContext& e,
                                                  std::vector<json::value> items,
                                                  const asl::JsonataScope* scope = nullptr);

// What a ResultWriter writes for one Map run.
struct MapRunOutput {
  json::value params;            // the writer's evaluated Parameters (Bucket, Prefix)
  std::string_view execution_arn;
  std::string_view state_name;
  std::string run_id;            // names the run's result directory and its ARN
  std::string stamp;             // StartDate / StopDate of the entries
  const std::vector<json::value>& results;
  const std::vector<json::value>& inputs;
  const std::vector<char>& failed_flags;
};

// Writes the iterations' results as S3 does for a Map run (SUCCEEDED_0.json, FAILED_0.json,
// manifest.json) and returns the Map's output, or States.ResultWriterFailed.
asl::Outcome<json::value> WriteResults(const MapRunOutput& run, ObjectStore* store);

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_MAP_IO_H_
