// A memory resource for the JSON values of one execution: free lists per size class, refilled
// from blocks that grow from 512 bytes to 64 KiB (an execution that only waits stays small), all
// released when the pool goes away. Boost.JSON allocates every object
// table, array and key on its own; with the default resource that is a malloc and a free each.
//
// Single-threaded: only the engine's loop thread allocates or frees through it. Values handed
// to task handlers or returned to the caller are copied to the default resource first.
#ifndef ZFLOW_RUNTIME_VALUE_POOL_H_
#define ZFLOW_RUNTIME_VALUE_POOL_H_

#include <algorithm>
#include <cstddef>
#include <new>
#include <vector>

#include "zflow/json.h"

namespace zflow::runtime {

class ValuePool final : public boost::container::pmr::memory_resource {
 public:
  ValuePool() = default;
  ValuePool(const ValuePool&) = delete;
  ValuePool& operator=(const ValuePool&) = delete;
  ~ValuePool() override {
    for (char* b : blocks_) ::operator delete(b, std::align_val_t(kAlign));
  }

 private:
  static constexpr std::size_t kAlign = 16;
  static constexpr std::size_t kMaxPooled = 512;  // larger requests go to operator new
  static constexpr std::size_t kClasses = kMaxPooled / kAlign;
  static constexpr std::size_t kFirstBlock = 512;
  static constexpr std::size_t kBlock = 64 * 1024;
  struct FreeNode {
    FreeNode* next;
  };

  static std::size_t ClassOf(std::size_t n) { return n == 0 ? 0 : (n - 1) / kAlign; }
  static bool Pooled(std::size_t n, std::size_t align) { return n <= kMaxPooled && align <= kAlign; }

  void* do_allocate(std::size_t n, std::size_t align) override {
    if (!Pooled(n, align)) return ::operator new(n, std::align_val_t(std::max(align, kAlign)));
    std::size_t c = ClassOf(n);
    if (FreeNode* node = free_[c]) {
      free_[c] = node->next;
      return node;
    }
    std::size_t size = (c + 1) * kAlign;
    if (left_ < size) {
      // 0.5, 0.5, 1, 1, 2, 2, ... KiB: at most a third of the blocks unused.
      next_block_ = next_block_ == 0         ? kFirstBlock
                    : blocks_.size() % 2 == 0 ? std::min(kBlock, next_block_ * 2)
                                              : next_block_;
      cursor_ = static_cast<char*>(::operator new(next_block_, std::align_val_t(kAlign)));
      blocks_.push_back(cursor_);
      left_ = next_block_;
    }
    void* p = cursor_;
    cursor_ += size;
    left_ -= size;
    return p;
  }

  void do_deallocate(void* p, std::size_t n, std::size_t align) override {
    if (!Pooled(n, align)) {
      ::operator delete(p, std::align_val_t(std::max(align, kAlign)));
      return;
    }
    auto* node = static_cast<FreeNode*>(p);
    std::size_t c = ClassOf(n);
    node->next = free_[c];
    free_[c] = node;
  }

  bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }

  FreeNode* free_[kClasses] = {};
  std::vector<char*> blocks_;
  char* cursor_ = nullptr;
  std::size_t left_ = 0;
  std::size_t next_block_ = 0;  // size of the last block allocated
};

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_VALUE_POOL_H_
