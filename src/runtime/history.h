// The storage behind zflow::runtime::History and the engine's way of appending to it.
//
// An execution records two events per state or more, so an event is a fixed-size record (no
// string, no JSON object, no reference count): records live in chunks that never move, payload
// texts and details live beside them, and state names point into the prepared machine, which
// the history keeps alive. HistoryEvent is a view built from a record on demand.
#ifndef ZFLOW_RUNTIME_HISTORY_H_
#define ZFLOW_RUNTIME_HISTORY_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "zflow/runtime.h"

namespace zflow::runtime {

// Memory for full-size history chunks and text blocks, recycled between histories (up to
// 64 MiB kept): executions come and go, and memory handed back to the kernel after each one
// is faulted in again by the next (on the Map benchmark, 14,000 page faults a run).
// Thread-safe.
class HistoryMemory {
 public:
  static void* Allocate(std::size_t bytes);
  static void Release(void* p, std::size_t bytes);
  struct Deleter {
    std::size_t bytes = 0;
    void operator()(void* p) const { Release(p, bytes); }
  };
};

struct History::Data {
  struct Record {
    std::int64_t previous_event_id;
    TimePoint timestamp;
    std::int64_t index;  // MapIteration* events; -1 otherwise
    EventType type;
    const char* name;
    const char* payload;  // null: not recorded
    std::size_t payload_size;
    std::uint32_t name_size;
    std::int32_t details;  // into `details`; -1: none
  };
  // Chunks grow from 4 records to 1,024 and text blocks from 256 bytes to 64 KiB, so an execution
  // that records a few events and then waits stays small.
  static constexpr std::size_t kFirstChunk = 4;
  static constexpr std::size_t kGrowingChunks = 9;   // 4, 8, ..., 1024
  static constexpr std::size_t kChunk = kFirstChunk << (kGrowingChunks - 1);  // then 1,024 each
  static constexpr std::size_t kInGrowing = kFirstChunk * ((1 << kGrowingChunks) - 1) - kChunk;
  static constexpr std::size_t kFirstTextBlock = 256;
  static constexpr std::size_t kTextBlock = 64 * 1024;  // bytes per text block (or one text)

  std::vector<std::unique_ptr<Record[], HistoryMemory::Deleter>> chunks;
  std::size_t size = 0;
  Record* tail = nullptr;   // where the next record goes
  std::size_t tail_left = 0;
  std::vector<std::unique_ptr<char[], HistoryMemory::Deleter>> text_blocks;
  char* text_cursor = nullptr;
  std::size_t text_left = 0;
  std::size_t next_text_block = 0;
  // A deque (views keep pointing at their object), made on the first event with details.
  std::unique_ptr<std::deque<json::object>> details;
  std::shared_ptr<const void> names_owner;  // what the state names point into

  // Chunk c < kGrowingChunks - 1 holds kFirstChunk << c records; the rest kChunk each.
  static std::size_t ChunkSize(std::size_t c) {
    return c + 1 < kGrowingChunks ? kFirstChunk << c : kChunk;
  }
  const Record& at(std::size_t i) const {
    if (i < kInGrowing) {
      std::size_t c = static_cast<std::size_t>(std::bit_width(i / kFirstChunk + 1)) - 1;
      return chunks[c][i - kFirstChunk * ((std::size_t{1} << c) - 1)];
    }
    std::size_t j = i - kInGrowing;
    return chunks[kGrowingChunks - 1 + j / kChunk][j % kChunk];
  }
  PayloadText Payload(std::size_t i) const {
    const Record& r = at(i);
    return r.payload != nullptr ? PayloadText(std::string_view(r.payload, r.payload_size))
                                : PayloadText();
  }
  HistoryEvent Event(std::size_t i) const;
};

// Appends to one History; the engine's only way to write one.
class HistoryWriter {
 public:
  // Gives `h` fresh, empty storage to write. State names passed to Append must stay valid as
  // long as `names_owner` does.
  void Start(History& h, std::shared_ptr<const void> names_owner) {
    h.data_ = std::make_shared<History::Data>();
    h.data_->names_owner = std::move(names_owner);
    data_ = h.data_.get();
  }

  std::size_t size() const { return data_->size; }

  // Gives `h` fresh storage holding a copy of `from`'s events (texts included), to append to.
  void StartCopy(History& h, const History& from, std::shared_ptr<const void> names_owner);

  // Returns the new event's id.
  std::int64_t Append(EventType type, std::int64_t previous_event_id, TimePoint timestamp,
                      std::string_view name, PayloadText payload, std::int64_t index,
                      json::object* details) {
    History::Data& d = *data_;
    std::size_t i = d.size;
    if (d.tail_left == 0) {
      std::size_t n = History::Data::ChunkSize(d.chunks.size());
      const std::size_t bytes = n * sizeof(History::Data::Record);
      d.chunks.emplace_back(static_cast<History::Data::Record*>(HistoryMemory::Allocate(bytes)),
                            HistoryMemory::Deleter{bytes});
      d.tail = d.chunks.back().get();
      d.tail_left = n;
    }
    History::Data::Record& r = *d.tail++;
    --d.tail_left;
    r.previous_event_id = previous_event_id;
    r.timestamp = timestamp;
    r.index = index;
    r.type = type;
    r.name = name.data();
    r.name_size = static_cast<std::uint32_t>(name.size());
    std::string_view text = payload.view();
    r.payload = text.data();
    r.payload_size = text.size();
    r.details = -1;
    if (details != nullptr && !details->empty()) {
      if (d.details == nullptr) d.details = std::make_unique<std::deque<json::object>>();
      r.details = static_cast<std::int32_t>(d.details->size());
      d.details->push_back(std::move(*details));
    }
    d.size = i + 1;
    return static_cast<std::int64_t>(i + 1);
  }

  // Copies a payload text into the history's text blocks.
  PayloadText StoreText(std::string_view text) {
    char* at = Reserve(text.size());
    if (!text.empty()) std::memcpy(at, text.data(), text.size());
    return Commit(text.size());
  }
  // Room for a text of up to n bytes written in place; Commit(m <= n) then records m of them.
  char* Reserve(std::size_t n) {
    History::Data& d = *data_;
    if (d.text_left < n) {
      d.next_text_block = d.next_text_block == 0
                              ? History::Data::kFirstTextBlock
                              : std::min(History::Data::kTextBlock, d.next_text_block * 2);
      std::size_t size = std::max(d.next_text_block, n);
      d.text_blocks.emplace_back(static_cast<char*>(HistoryMemory::Allocate(size)),
                                 HistoryMemory::Deleter{size});
      d.text_cursor = d.text_blocks.back().get();
      d.text_left = size;
    }
    return d.text_cursor;
  }
  std::size_t room() const { return data_->text_left; }
  PayloadText Commit(std::size_t m) {
    History::Data& d = *data_;
    PayloadText t(std::string_view(d.text_cursor, m));
    d.text_cursor += m;
    d.text_left -= m;
    return t;
  }

  PayloadText payload(std::size_t i) const { return data_->Payload(i); }
  TimePoint timestamp(std::size_t i) const { return data_->at(i).timestamp; }
  HistoryEvent Event(std::size_t i) const { return data_->Event(i); }

 private:
  History::Data* data_ = nullptr;
};

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_HISTORY_H_
