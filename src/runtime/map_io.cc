#include "runtime/map_io.h"

#include <optional>

#include <fmt/format.h>

namespace zflow::runtime {

using asl::WorkflowError;

namespace {

std::string ReplaceFirst(std::string s, std::string_view from, std::string_view to) {
  std::size_t p = s.find(from);
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

WorkflowError ReaderError(std::string cause) {
  return WorkflowError{std::string(asl::errors::kItemReaderFailed), std::move(cause)};
}

// A string parameter of a reader/writer's evaluated Parameters.
std::optional<std::string> StringParam(const json::value& params, std::string_view key) {
  const json::object* o = params.if_object();
  const json::value* v = o != nullptr ? o->if_contains(key) : nullptr;
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

}  // namespace

asl::Outcome<json::value> ReadItems(const CompiledReader& r, const asl::EvaluationContext& e,
                                    ObjectStore* store, const asl::JsonataScope* scope) {
  json::value params = json::object();
  if (r.arguments && scope != nullptr) {
    auto p = r.arguments->Evaluate(*scope);
    if (!p.ok()) return p.error();
    params = std::move(*p);
  } else if (r.parameters) {
    auto p = r.parameters->Evaluate(e, asl::errors::kRuntime);
    if (!p.ok()) return p.error();
    params = std::move(*p);
  }
  if (store == nullptr) {
    return ReaderError("no object store is configured for s3:// reads (zflow run --s3-root DIR)");
  }
  std::optional<std::string> bucket = StringParam(params, "Bucket");
  if (!bucket) return ReaderError("the ItemReader's Parameters have no string \"Bucket\"");
  std::optional<std::int64_t> max_items = r.max_items;
  if (r.max_items_expr && scope != nullptr) {
    auto v = r.max_items_expr->EvaluateInteger(*scope, 0);
    if (!v.ok()) return v.error();
    max_items = *v;
  } else if (r.max_items_path) {
    auto v = r.max_items_path->Evaluate(e);
    if (!v.ok()) return v.error();
    if (!v->is_int64() || v->get_int64() < 0) {
      return WorkflowError{std::string(asl::errors::kRuntime),
                           "MaxItemsPath must select a non-negative integer"};
    }
    max_items = v->get_int64();
  }
  json::array items;
  if (r.resource == "arn:aws:states:::s3:listObjectsV2") {
    auto list = store->List(*bucket, StringParam(params, "Prefix").value_or(""));
    if (!list.ok()) return ReaderError(list.status().message());
    for (const auto& o : *list) {
      items.push_back(json::object{{"Etag", o.etag}, {"Key", o.key},
                                   {"LastModified", o.last_modified}, {"Size", o.size},
                                   {"StorageClass", "STANDARD"}});
    }
  } else {
    std::optional<std::string> key = StringParam(params, "Key");
    if (!key) return ReaderError("the ItemReader's Parameters have no string \"Key\"");
    auto data = store->Get(*bucket, *key);
    if (!data.ok()) return ReaderError(data.status().message());
    std::string where = fmt::format("s3://{}/{}", *bucket, *key);
    if (r.input_type == "JSON") {
      auto parsed = ParseJson(*data);
      if (!parsed.ok()) return ReaderError(fmt::format("{}: {}", where, parsed.status().message()));
      if (!parsed->value.is_array()) {
        return ReaderError(fmt::format("{} holds JSON that is not an array", where));
      }
      items = std::move(parsed->value.as_array());
    } else if (r.input_type == "JSONL") {
      std::size_t line = 0;
      std::size_t start = 0;
      while (start < data->size()) {
        std::size_t end = data->find('\n', start);
        if (end == std::string::npos) end = data->size();
        ++line;
        std::string_view text(data->data() + start, end - start);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        start = end + 1;
        if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
        auto parsed = ParseJson(text);
        if (!parsed.ok()) {
          return ReaderError(fmt::format("{} line {}: {}", where, line, parsed.status().message()));
        }
        items.push_back(std::move(parsed->value));
      }
    } else {  // CSV
      auto rows = ParseCsv(*data, r.csv_delimiter);
      if (!rows.ok()) return ReaderError(fmt::format("{}: {}", where, rows.status().message()));
      std::vector<std::string> headers = r.csv_headers;
      std::size_t first = 0;
      if (r.csv_header_first_row) {
        if (rows->empty()) return ReaderError(fmt::format("{} has no header row", where));
        headers = (*rows)[0];
        first = 1;
      }
      for (std::size_t i = first; i < rows->size(); ++i) {
        const auto& row = (*rows)[i];
        if (row.size() != headers.size()) {
          return ReaderError(fmt::format("{} row {} has {} fields; the header has {}", where,
                                         i + 1, row.size(), headers.size()));
        }
        json::object o;
        for (std::size_t k = 0; k < row.size(); ++k) o[headers[k]] = row[k];
        items.push_back(std::move(o));
      }
    }
  }
  if (max_items && static_cast<std::size_t>(*max_items) < items.size() && *max_items > 0) {
    items.resize(static_cast<std::size_t>(*max_items));
  }
  return json::value(std::move(items));
}

// RFC 4180 CSV: quoted fields with "" escapes, CRLF or LF line ends.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, char delim) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
      any = true;
    } else if (c == delim) {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field.push_back(c);
      any = true;
    }
  }
  if (quoted) return InvalidArgumentError("a quoted field is not closed");
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Groups the (selected) items into {"Items": [...], "BatchInput": ...} by count and size.
asl::Outcome<std::vector<json::value>> BatchItems(const CompiledBatcher& b,
                                                  const asl::EvaluationContext& e,
                                                  std::vector<json::value> items,
                                                  const asl::JsonataScope* scope) {
  auto limit = [&](const std::optional<std::int64_t>& fixed,
                   const std::optional<asl::JsonPath>& path, const char* name,
                   const std::optional<asl::JsonataTemplate>& expr =
                       std::nullopt) -> asl::Outcome<std::optional<std::int64_t>> {
    if (expr && scope != nullptr) {
      auto v = expr->EvaluateInteger(*scope, 1);
      if (!v.ok()) return v.error();
      return std::optional<std::int64_t>(*v);
    }
    if (!path) return fixed;
    auto v = path->Evaluate(e);
    if (!v.ok()) return v.error();
    if (!v->is_int64() || v->get_int64() <= 0) {
      return WorkflowError{std::string(asl::errors::kRuntime),
                           fmt::format("{} must select a positive integer", name)};
    }
    return std::optional<std::int64_t>(v->get_int64());
  };
  auto max_items = limit(b.max_items, b.max_items_path, "MaxItemsPerBatchPath", b.max_items_expr);
  if (!max_items.ok()) return max_items.error();
  auto max_bytes = limit(b.max_bytes, b.max_bytes_path, "MaxInputBytesPerBatchPath",
                         b.max_bytes_expr);
  if (!max_bytes.ok()) return max_bytes.error();
  std::optional<json::value> batch_input;
  if (b.batch_input_expr && scope != nullptr) {
    auto v = b.batch_input_expr->Evaluate(*scope);
    if (!v.ok()) return v.error();
    batch_input = std::move(*v);
  } else if (b.batch_input) {
    auto v = b.batch_input->Evaluate(e, asl::errors::kRuntime);
    if (!v.ok()) return v.error();
    batch_input = std::move(*v);
  }
  std::size_t fixed_bytes = 12;  // {"Items":[]}
  if (batch_input) fixed_bytes += 14 + ToJsonText(*batch_input).size();  // ,"BatchInput":
  std::vector<json::value> batches;
  json::array current;
  std::size_t bytes = fixed_bytes;
  auto flush = [&] {
    json::object batch{{"Items", std::move(current)}};
    if (batch_input) batch["BatchInput"] = *batch_input;
    batches.push_back(std::move(batch));
    current = json::array();
    bytes = fixed_bytes;
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::size_t item_bytes = ToJsonText(items[i]).size() + (current.empty() ? 0 : 1);
    if (*max_bytes && fixed_bytes + item_bytes > static_cast<std::size_t>(**max_bytes)) {
      return WorkflowError{std::string(asl::errors::kRuntime),
                           fmt::format("item {} alone is {} bytes, more than "
                                       "MaxInputBytesPerBatch ({})",
                                       i, item_bytes, **max_bytes)};
    }
    bool full = (*max_items && static_cast<std::int64_t>(current.size()) >= **max_items) ||
                (*max_bytes && bytes + item_bytes > static_cast<std::size_t>(**max_bytes));
    if (full && !current.empty()) {
      flush();
      item_bytes = ToJsonText(items[i]).size();
    }
    bytes += item_bytes;
    current.push_back(std::move(items[i]));
  }
  if (!current.empty()) flush();
  return batches;
}

// Writes the iterations' results as S3 does for a Map run and returns the Map's output.
asl::Outcome<json::value> WriteResults(const MapRunOutput& run, ObjectStore* store) {
  auto fail = [](std::string cause) {
    return WorkflowError{std::string(asl::errors::kResultWriterFailed), std::move(cause)};
  };
  const json::value& params = run.params;
  if (store == nullptr) {
    return fail("no object store is configured for s3:// writes (zflow run --s3-root DIR)");
  }
  std::optional<std::string> bucket = StringParam(params, "Bucket");
  if (!bucket) return fail("the ResultWriter's Parameters have no string \"Bucket\"");
  std::string prefix = StringParam(params, "Prefix").value_or("");
  if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
  const std::string& run_id = run.run_id;
  std::string map_run_arn = fmt::format("{}/{}:{}", ReplaceFirst(std::string(run.execution_arn),
                                                                 ":execution:", ":mapRun:"),
                                        run.state_name, run_id);
  std::string base = prefix + run_id + "/";
  const std::string& stamp = run.stamp;
  json::array succeeded, failed;
  for (std::size_t i = 0; i < run.results.size(); ++i) {
    bool bad = i < run.failed_flags.size() && run.failed_flags[i] != 0;
    json::object entry{
        {"ExecutionArn", fmt::format("{}:{}", ReplaceFirst(map_run_arn, ":mapRun:", ":execution:"), i)},
        {"Input", i < run.inputs.size() ? ToJsonText(run.inputs[i]) : "{}"},
        {"InputDetails", json::object{{"Included", true}}},
        {"Name", fmt::format("{}", i)},
        {"RedriveCount", 0},
        {"RedriveStatus", "NOT_REDRIVABLE"},
        {"StartDate", stamp},
        {"StateMachineArn", map_run_arn},
        {"Status", bad ? "FAILED" : "SUCCEEDED"},
        {"StopDate", stamp}};
    if (bad) {
      const json::object* r = run.results[i].if_object();
      entry["Error"] = r != nullptr && r->contains("Error") ? r->at("Error") : json::value("");
      entry["Cause"] = r != nullptr && r->contains("Cause") ? r->at("Cause") : json::value("");
      failed.push_back(std::move(entry));
    } else {
      entry["Output"] = ToJsonText(run.results[i]);
      entry["OutputDetails"] = json::object{{"Included", true}};
      succeeded.push_back(std::move(entry));
    }
  }
  json::object files{{"FAILED", json::array()}, {"PENDING", json::array()},
                     {"SUCCEEDED", json::array()}};
  for (auto [name, list] : {std::pair{"SUCCEEDED", &succeeded}, std::pair{"FAILED", &failed}}) {
    if (list->empty()) continue;
    std::string key = fmt::format("{}{}_0.json", base, name);
    std::string text = ToJsonText(json::value(std::move(*list)));
    Status st = store->Put(*bucket, key, text);
    if (!st.ok()) return fail(st.message());
    files[name].as_array().push_back(
        json::object{{"Key", key}, {"Size", static_cast<std::int64_t>(text.size())}});
  }
  std::string manifest_key = base + "manifest.json";
  json::object manifest{{"DestinationBucket", *bucket}, {"MapRunArn", map_run_arn},
                        {"ResultFiles", std::move(files)}};
  Status st = store->Put(*bucket, manifest_key, ToJsonText(json::value(manifest)));
  if (!st.ok()) return fail(st.message());
  return json::value(json::object{
      {"MapRunArn", map_run_arn},
      {"ResultWriterDetails", json::object{{"Bucket", *bucket}, {"Key", manifest_key}}}});
}


}  // namespace zflow::runtime
