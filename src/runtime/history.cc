#include "runtime/history.h"

#include <cctype>
#include <mutex>
#include <vector>
#include <string>

#include <fmt/format.h>

#include "asl/timestamp.h"

namespace zflow::runtime {

namespace {

// Free full-size chunks and blocks, by size; never destroyed (reachable for leak checkers).
struct FreeMemory {
  static constexpr std::size_t kMaxBytes = std::size_t{64} << 20;
  std::mutex mu;
  std::vector<void*> chunks;  // guarded by mu
  std::vector<void*> blocks;  // guarded by mu
  std::size_t bytes = 0;      // guarded by mu
};

FreeMemory& Free() {
  static FreeMemory* free = new FreeMemory();
  return *free;
}

constexpr std::size_t kChunkBytes = History::Data::kChunk * sizeof(History::Data::Record);

std::vector<void*>* ListFor(FreeMemory& f, std::size_t bytes) {
  if (bytes == kChunkBytes) return &f.chunks;
  if (bytes == History::Data::kTextBlock) return &f.blocks;
  return nullptr;
}

}  // namespace

void* HistoryMemory::Allocate(std::size_t bytes) {
  FreeMemory& f = Free();
  {
    std::lock_guard<std::mutex> lock(f.mu);
    if (std::vector<void*>* list = ListFor(f, bytes); list != nullptr && !list->empty()) {
      void* p = list->back();
      list->pop_back();
      f.bytes -= bytes;
      return p;
    }
  }
  return ::operator new(bytes);
}

void HistoryMemory::Release(void* p, std::size_t bytes) {
  if (p == nullptr) return;
  FreeMemory& f = Free();
  {
    std::lock_guard<std::mutex> lock(f.mu);
    std::vector<void*>* list = ListFor(f, bytes);
    if (list != nullptr && f.bytes + bytes <= FreeMemory::kMaxBytes) {
      list->push_back(p);
      f.bytes += bytes;
      return;
    }
  }
  ::operator delete(p);
}

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
  e.kind = r.type;
  e.type = EventTypeName(r.type);
  e.state_name = std::string_view(r.name, r.name_size);
  e.index = r.index;
  e.payload = Payload(i);
  e.details = r.details >= 0 ? &(*details)[static_cast<std::size_t>(r.details)] : &NoDetails();
  return e;
}

History::History() = default;

std::size_t History::size() const { return data_ != nullptr ? data_->size : 0; }

HistoryEvent History::operator[](std::size_t i) const { return data_->Event(i); }

namespace {
// AWS names the details after the event family: TaskStateEntered -> stateEnteredEventDetails.
std::string DetailsKey(EventType type) {
  if (IsStateEntered(type)) return "stateEnteredEventDetails";
  if (IsStateExited(type)) return "stateExitedEventDetails";
  std::string key = std::string(EventTypeName(type)) + "EventDetails";
  key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
  return key;
}

bool CarriesInput(EventType type) {
  return IsStateEntered(type) || type == EventType::kExecutionStarted;
}
}  // namespace

json::value HistoryEvent::ToJson() const {
  json::object o;
  o["timestamp"] = FormatTimestamp(timestamp);
  o["type"] = json::string(type);
  o["id"] = id;
  o["previousEventId"] = previous_event_id;
  json::object d = details != nullptr ? *details : json::object();
  if (!state_name.empty()) d["name"] = state_name;
  if (index >= 0) d["index"] = index;
  bool is_input = CarriesInput(kind);
  if (payload) {
    d[is_input ? "input" : "output"] = payload.view();
  }
  // Payloads are never truncated locally; AWS reports that next to each payload.
  if (d.contains("input")) d["inputDetails"] = json::object{{"truncated", false}};
  if (d.contains("output")) d["outputDetails"] = json::object{{"truncated", false}};
  if (!d.empty()) o[DetailsKey(kind)] = std::move(d);
  return o;
}

json::value History::ToJson() const {
  json::array events;
  events.reserve(size());
  for (HistoryEvent e : *this) events.push_back(e.ToJson());
  return json::object{{"events", std::move(events)}};
}

Result<History> History::FromJson(const json::value& v) {
  const json::array* events = v.if_array();
  if (events == nullptr && v.is_object()) {
    const json::value* e = v.get_object().if_contains("events");
    if (e != nullptr) events = e->if_array();
  }
  if (events == nullptr) {
    return InvalidArgumentError("a history is {\"events\": [...]} or an array of events");
  }
  History h;
  HistoryWriter w;
  w.Start(h, nullptr);
  for (std::size_t i = 0; i < events->size(); ++i) {
    auto bad = [&](std::string_view what) {
      return InvalidArgumentError(fmt::format("history event {}: {}", i + 1, what));
    };
    const json::object* o = (*events)[i].if_object();
    if (o == nullptr) return bad("not a JSON object");
    const json::value* id = o->if_contains("id");
    if (id == nullptr || !id->is_int64() || id->get_int64() != static_cast<std::int64_t>(i + 1)) {
      return bad(fmt::format("\"id\" must be {} (events are numbered from 1, in order)", i + 1));
    }
    const json::value* type = o->if_contains("type");
    std::optional<EventType> kind =
        type != nullptr && type->is_string() ? ParseEventType(type->get_string()) : std::nullopt;
    if (!kind) return bad("\"type\" is not an event type zflow records");
    const json::value* previous = o->if_contains("previousEventId");
    if (previous == nullptr || !previous->is_int64() || previous->get_int64() < 0 ||
        previous->get_int64() > static_cast<std::int64_t>(i)) {
      return bad("\"previousEventId\" must name an earlier event (or be 0)");
    }
    const json::value* stamp = o->if_contains("timestamp");
    std::optional<asl::Instant> instant =
        stamp != nullptr && stamp->is_string() ? asl::ParseTimestamp(stamp->get_string())
                                               : std::nullopt;
    constexpr std::int64_t kMaxSeconds = 9'000'000'000;
    if (!instant || instant->seconds > kMaxSeconds || instant->seconds < -kMaxSeconds) {
      return bad("\"timestamp\" is not an RFC 3339 timestamp");
    }
    TimePoint when(std::chrono::seconds(instant->seconds) + std::chrono::nanoseconds(instant->nanos));
    json::object details;
    std::string_view name;
    std::int64_t index = -1;
    PayloadText payload;
    if (const json::value* d = o->if_contains(DetailsKey(*kind))) {
      if (!d->is_object()) return bad("its details are not a JSON object");
      for (const auto& kv : d->get_object()) {
        std::string_view key = kv.key();
        const json::value& value = kv.value();
        if (key == "name" && value.is_string()) {
          name = w.StoreText(value.get_string()).view();
        } else if (key == "index" && value.is_int64()) {
          index = value.get_int64();
        } else if ((key == "input" || key == "output") && value.is_string()) {
          if (key != (CarriesInput(*kind) ? "input" : "output")) {
            return bad(fmt::format("{} carries no \"{}\"", EventTypeName(*kind), key));
          }
          std::string_view text = value.get_string();
          if (!ParseJson(text, {.record_locations = false, .reject_duplicate_keys = false}).ok()) {
            return bad(fmt::format("its \"{}\" is not JSON text", key));
          }
          payload = w.StoreText(text);
        } else if (key == "inputDetails" || key == "outputDetails") {
          continue;
        } else {
          details.emplace(key, value);
        }
      }
    }
    w.Append(*kind, previous->get_int64(), when, name, payload, index, &details);
  }
  return h;
}

void HistoryWriter::StartCopy(History& h, const History& from,
                              std::shared_ptr<const void> names_owner) {
  Start(h, std::move(names_owner));
  for (std::size_t i = 0; i < from.size(); ++i) {
    HistoryEvent e = from[i];
    PayloadText payload = e.payload ? StoreText(e.payload.view()) : PayloadText();
    std::string_view name = StoreText(e.state_name).view();
    json::object details = *e.details;
    Append(e.kind, e.previous_event_id, e.timestamp, name, payload, e.index, &details);
  }
}

}  // namespace zflow::runtime
