// Boost.JSON is compiled into zflow (its header-only mode) instead of linked as a shared
// library: the engine spends much of its time in small JSON operations (building an object,
// finding a key, destroying a value), which then are direct calls within the program, with no
// PLT stub and no position-independent code. See docs/benchmarks.md.
#include <boost/json/src.hpp>
