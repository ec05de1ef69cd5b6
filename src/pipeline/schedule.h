// Turning a DAG of pipeline steps into a series-parallel schedule: the shape a Step Functions
// state machine can express (sequences of states, Parallel states with branches).
//
//   std::vector<std::vector<int>> deps = {{}, {0}, {0}, {1, 2}};   // step i waits for deps[i]
//   Result<Schedule> s = BuildSchedule(4, deps);
//   // s->root: Sequence[Step 0, Parallel[Step 1, Step 2], Step 3]
//
// The algorithm (docs/design/pipeline-schedule.md):
//  1. Split the steps into weakly connected components: components run in parallel.
//  2. In a connected set, look for a series cut: a topological prefix P such that every step of
//     P reaches every step after it. Sequence(P, rest) then loses no parallelism. The smallest
//     such prefix is taken and both sides are scheduled recursively.
//  3. A connected set with no series cut is not series-parallel. It is cut at the topological
//     level boundary that forces the fewest extra orderings (pairs (p, q) with p before the cut,
//     q after, and no path p -> q), and both sides are scheduled recursively.
// Every dependency is respected in every case; series-parallel DAGs lose no parallelism.
#ifndef ZFLOW_PIPELINE_SCHEDULE_H_
#define ZFLOW_PIPELINE_SCHEDULE_H_

#include <string>
#include <vector>

#include "zflow/status.h"

namespace zflow::pipeline {

struct ScheduleNode {
  enum class Kind : std::uint8_t { kStep, kSequence, kParallel };
  Kind kind = Kind::kStep;
  int step = -1;                      // kStep
  std::vector<ScheduleNode> children;  // kSequence (in order) / kParallel (branches)
};

struct Schedule {
  ScheduleNode root;
  // Pairs (a, b), a before b, that the schedule orders although the DAG does not require it
  // (0 for series-parallel DAGs).
  long long extra_orderings = 0;
};

// deps[i] lists the steps step i waits for. Errors: kInvalidArgument for an out-of-range
// dependency or a cycle (the message names the steps on it, via `names` when given).
Result<Schedule> BuildSchedule(int step_count, const std::vector<std::vector<int>>& deps,
                               const std::vector<std::string>& names = {});

// True when, in `schedule`, step a finishes before step b starts.
bool Precedes(const ScheduleNode& root, int a, int b);

// Precedes() for many queries: each step's path from the root, O(depth) per query.
class ScheduleIndex {
 public:
  explicit ScheduleIndex(const ScheduleNode& root);
  bool Precedes(int a, int b) const;

 private:
  struct Hop {
    bool sequence;  // the node's kind
    int child;      // which child the path takes
  };
  void Walk(const ScheduleNode& node);
  std::vector<std::vector<Hop>> paths_;
  std::vector<Hop> current_;
};

// "Sequence[0, Parallel[1, 2], 3]" — for tests and messages.
std::string Describe(const ScheduleNode& node);

}  // namespace zflow::pipeline

#endif  // ZFLOW_PIPELINE_SCHEDULE_H_
