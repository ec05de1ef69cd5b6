#include "runtime/history.h"

#include <cctype>
#include <string>

namespace zflow::runtime {

namespace {
const json::object& NoDetails() {
  static const json::object* empty = new json::object();
  return *empty;
}
}  // namespace

HistoryEvent History::Data::Event(std::size_t i) const {
  const Record& r = at(i);
  HistoryEvent e;
  e.id = static_cast<std::int64_t>(i + 1);
  e.previous_event_id = r.previous_event_id;
  e.timestamp = r.timestamp;
  e.type = r.type;
  e.state_name = std::string_view(r.name, r.name_size);
  e.index = r.index;
  e.payload = Payload(i);
  e.details = r.details >= 0 ? &details[static_cast<std::size_t>(r.details)] : &NoDetails();
  return e;
}

History::History() = default;

std::size_t History::size() const { return data_ != nullptr ? data_->size : 0; }

HistoryEvent History::operator[](std::size_t i) const { return data_->Event(i); }

json::value HistoryEvent::ToJson() const {
  json::object o;
  o["timestamp"] = FormatTimestamp(timestamp);
  o["type"] = json::string(type);
  o["id"] = id;
  o["previousEventId"] = previous_event_id;
  json::object d = details != nullptr ? *details : json::object();
  if (!state_name.empty()) d["name"] = state_name;
  if (index >= 0) d["index"] = index;
  bool is_input = type.ends_with("StateEntered") || type == "ExecutionStarted";
  if (payload) {
    d[is_input ? "input" : "output"] = payload.view();
  }
  // Payloads are never truncated locally; AWS reports that next to each payload.
  if (d.contains("input")) d["inputDetails"] = json::object{{"truncated", false}};
  if (d.contains("output")) d["outputDetails"] = json::object{{"truncated", false}};
  if (!d.empty()) {
    // AWS names the details after the event family: TaskStateEntered -> stateEnteredEventDetails.
    std::string key;
    if (type.ends_with("StateEntered")) {
      key = "stateEnteredEventDetails";
    } else if (type.ends_with("StateExited")) {
      key = "stateExitedEventDetails";
    } else {
      key = std::string(type) + "EventDetails";
      key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
    }
    o[key] = std::move(d);
  }
  return o;
}

}  // namespace zflow::runtime
