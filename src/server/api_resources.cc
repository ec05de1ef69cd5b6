// The Step Functions API: tags and activities.
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "server/api_fields.h"
#include "server/step_functions_api.h"

namespace zflow::server {

// ---- tags ----

namespace {

// Tags belong to state machines and activities that exist.
std::optional<ApiError> CheckTaggable(store::Store& store, const std::string& arn) {
  auto parsed = ParseStatesArn(arn);
  if (!parsed || (parsed->kind != "stateMachine" && parsed->kind != "activity") ||
      !parsed->qualifier.empty()) {
    return InvalidArn(arn, "");
  }
  bool exists = parsed->kind == "stateMachine" ? store.GetStateMachine(arn).ok()
                                               : store.GetActivity(arn).ok();
  if (!exists) return Error("ResourceNotFound", fmt::format("Resource not found: '{}'", arn));
  return std::nullopt;
}

}  // namespace

Answer StepFunctionsApi::TagResource(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("resourceArn", 256);
  auto tags = ReadTags(f, "tags");
  if (!f.ok()) return *f.error;
  if (auto bad = CheckTaggable(store_, arn)) return *bad;
  auto current = store_.Tags(arn);
  if (!current.ok()) return Internal(current.status());
  std::map<std::string, std::string> merged = *current;
  if (tags) merged.insert(tags->begin(), tags->end());
  if (merged.size() > 50) return Error("TooManyTags", "Too many tags: a resource has at most 50");
  if (tags) {
    if (Status st = store_.TagResource(arn, *tags); !st.ok()) return Internal(st);
  }
  return json::object{};
}

Answer StepFunctionsApi::UntagResource(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("resourceArn", 256);
  const json::array* keys = f.Array("tagKeys");
  if (!f.ok()) return *f.error;
  if (auto bad = CheckTaggable(store_, arn)) return *bad;
  std::vector<std::string> list;
  if (keys != nullptr) {
    for (const json::value& k : *keys) {
      if (!k.is_string()) return Validation("tagKeys must be strings");
      list.emplace_back(k.as_string());
    }
  }
  if (Status st = store_.UntagResource(arn, list); !st.ok()) return Internal(st);
  return json::object{};
}

Answer StepFunctionsApi::ListTagsForResource(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("resourceArn", 256);
  if (!f.ok()) return *f.error;
  if (auto bad = CheckTaggable(store_, arn)) return *bad;
  auto tags = store_.Tags(arn);
  if (!tags.ok()) return Internal(tags.status());
  json::array list;
  for (const auto& [k, v] : *tags) list.push_back(json::object{{"key", k}, {"value", v}});
  return json::object{{"tags", std::move(list)}};
}

// ---- activities ----

Answer StepFunctionsApi::CreateActivity(const json::object& in) {
  Fields f(in);
  std::string name = f.Required("name", 80);
  auto tags = ReadTags(f, "tags");
  if (!f.ok()) return *f.error;
  if (auto bad = CheckName(name)) return *bad;
  std::string arn =
      fmt::format("arn:aws:states:{}:{}:activity:{}", options_.region, options_.account, name);
  std::int64_t now = NowMs();
  Status st = store_.CreateActivity({.arn = arn, .name = name, .creation_ms = now});
  if (st.code() == StatusCode::kAlreadyExists) {
    // CreateActivity is idempotent.
    auto existing = store_.GetActivity(arn);
    if (existing.ok()) {
      return json::object{{"activityArn", arn}, {"creationDate", Date(existing->creation_ms)}};
    }
  }
  if (!st.ok()) return Internal(st);
  if (tags && !tags->empty()) {
    if (Status t = store_.TagResource(arn, *tags); !t.ok()) return Internal(t);
  }
  return json::object{{"activityArn", arn}, {"creationDate", Date(now)}};
}

Answer StepFunctionsApi::DescribeActivity(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("activityArn", 256);
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "activity") return InvalidArn(arn, "");
  auto activity = store_.GetActivity(arn);
  if (!activity.ok()) {
    return Error("ActivityDoesNotExist", fmt::format("Activity Does Not Exist: '{}'", arn));
  }
  return json::object{{"activityArn", activity->arn},
                      {"name", activity->name},
                      {"creationDate", Date(activity->creation_ms)}};
}

Answer StepFunctionsApi::DeleteActivity(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("activityArn", 256);
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "activity") return InvalidArn(arn, "");
  if (Status st = store_.DeleteActivity(arn); !st.ok()) return Internal(st);
  return json::object{};
}

Answer StepFunctionsApi::ListActivities(const json::object& in) {
  Fields f(in);
  int limit = ReadMaxResults(f);
  std::optional<std::string> after = ReadPageToken(f);
  if (!f.ok()) return *f.error;
  auto activities = store_.ListActivities();
  if (!activities.ok()) return Internal(activities.status());
  json::array list;
  std::optional<std::string> next;
  for (const auto& a : *activities) {
    if (after && a.name <= *after) continue;
    if (list.size() == static_cast<std::size_t>(limit)) {
      next = list.back().as_object().at("name").as_string().c_str();
      break;
    }
    list.push_back(json::object{{"activityArn", a.arn},
                                {"name", a.name},
                                {"creationDate", Date(a.creation_ms)}});
  }
  json::object out{{"activities", std::move(list)}};
  if (next) out["nextToken"] = PageToken(*next);
  return out;
}

Answer StepFunctionsApi::GetActivityTask(const json::object& in) {
  Fields f(in);
  std::string arn = f.Required("activityArn", 256);
  f.Optional("workerName", 80);
  if (!f.ok()) return *f.error;
  auto parsed = ParseStatesArn(arn);
  if (!parsed || parsed->kind != "activity") return InvalidArn(arn, "");
  if (!store_.GetActivity(arn).ok()) {
    return Error("ActivityDoesNotExist", fmt::format("Activity Does Not Exist: '{}'", arn));
  }
  // AWS holds the request up to 60 seconds; clients time out at 65.
  auto task = executions_.GetActivityTask(arn, std::chrono::seconds(60));
  if (!task) return json::object{};
  return json::object{{"taskToken", task->token}, {"input", task->input}};
}

}  // namespace zflow::server
