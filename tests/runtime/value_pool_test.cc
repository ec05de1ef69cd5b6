#include "runtime/value_pool.h"

#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

namespace zflow::runtime {
namespace {

TEST(ValuePool, ReusesFreedBlocksOfTheSameSizeClass) {
  ValuePool pool;
  void* a = pool.allocate(24, 8);
  void* b = pool.allocate(30, 8);  // same 32-byte class
  EXPECT_NE(a, b);
  pool.deallocate(a, 24, 8);
  EXPECT_EQ(pool.allocate(17, 8), a);  // last freed, first reused
  void* c = pool.allocate(100, 8);     // another class: not `b`'s block
  EXPECT_NE(c, b);
  for (void* p : {b, c}) EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
}

TEST(ValuePool, LargeAndOverAlignedRequestsAreServedAndReturned) {
  ValuePool pool;
  void* big = pool.allocate(100000, 8);
  std::memset(big, 1, 100000);  // ASan: the whole block is usable
  void* aligned = pool.allocate(64, 64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % 64, 0u);
  pool.deallocate(big, 100000, 8);
  pool.deallocate(aligned, 64, 64);
}

TEST(ValuePool, HoldsJsonValuesAcrossManyBlocks) {
  ValuePool pool;
  json::storage_ptr sp(&pool);
  json::array rows(sp);
  for (int i = 0; i < 20000; ++i) {  // well past one 64 KiB block
    rows.push_back(json::object{{"id", i}, {"name", "row number " + std::to_string(i)}});
  }
  EXPECT_EQ(rows.size(), 20000u);
  EXPECT_EQ(rows[19999].at("name"), "row number 19999");
  EXPECT_TRUE(*rows[5].storage() == *sp);
  json::value copy(rows, json::storage_ptr());  // out of the pool
  rows.clear();
  EXPECT_EQ(copy.as_array()[123].at("id"), 123);
}

}  // namespace
}  // namespace zflow::runtime
