#include "pipeline/schedule.h"

#include <functional>
#include <numeric>
#include <random>

#include <gtest/gtest.h>

namespace zflow::pipeline {
namespace {

using Deps = std::vector<std::vector<int>>;

// Transitive closure of the DAG.
std::vector<std::vector<bool>> Reach(int n, const Deps& deps) {
  std::vector<std::vector<bool>> r(n, std::vector<bool>(n, false));
  for (int v = 0; v < n; ++v) {
    for (int d : deps[v]) r[d][v] = true;
  }
  for (int k = 0; k < n; ++k) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        if (r[i][k] && r[k][j]) r[i][j] = true;
      }
    }
  }
  return r;
}

void CountSteps(const ScheduleNode& node, std::vector<int>& seen) {
  if (node.kind == ScheduleNode::Kind::kStep) {
    ++seen.at(node.step);
    return;
  }
  for (const auto& c : node.children) CountSteps(c, seen);
}

// Every step once, every dependency respected, and extra_orderings is exactly the number of
// pairs the schedule orders without the DAG requiring it.
void CheckSchedule(int n, const Deps& deps, const Schedule& s) {
  std::vector<int> seen(n, 0);
  CountSteps(s.root, seen);
  for (int v = 0; v < n; ++v) EXPECT_EQ(seen[v], 1) << "step " << v << " in " << Describe(s.root);
  auto reach = Reach(n, deps);
  long long extra = 0;
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      if (a == b) continue;
      bool ordered = Precedes(s.root, a, b);
      if (reach[a][b]) {
        EXPECT_TRUE(ordered) << a << " -> " << b << " in " << Describe(s.root);
      }
      if (ordered && !reach[a][b]) ++extra;
    }
  }
  EXPECT_EQ(extra, s.extra_orderings) << Describe(s.root);
}

TEST(Schedule, DiamondIsSequenceWithParallelMiddle) {
  Deps deps = {{}, {0}, {0}, {1, 2}};
  auto s = BuildSchedule(4, deps);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Describe(s->root), "Sequence[0, Parallel[1, 2], 3]");
  EXPECT_EQ(s->extra_orderings, 0);
}

TEST(Schedule, IndependentChainsRunInParallel) {
  Deps deps = {{}, {0}, {1}, {}, {3}};
  auto s = BuildSchedule(5, deps);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Describe(s->root), "Parallel[Sequence[0, 1, 2], Sequence[3, 4]]");
}

TEST(Schedule, NonSeriesParallelDagLosesLittle) {
  // The "N" shape: 0->2, 1->2, 1->3. Not series-parallel; one extra ordering (0 before 3).
  Deps deps = {{}, {}, {0, 1}, {1}};
  auto s = BuildSchedule(4, deps);
  ASSERT_TRUE(s.ok());
  CheckSchedule(4, deps, *s);
  EXPECT_EQ(s->extra_orderings, 1) << Describe(s->root);
}

TEST(Schedule, RejectsCyclesAndBadDependenciesNamingSteps) {
  auto cycle = BuildSchedule(3, {{2}, {0}, {1}}, {"prep", "train", "report"});
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("the steps prep, train, report depend on each other in a cycle"), std::string::npos)
      << cycle.status().message();
  auto self = BuildSchedule(1, {{0}}, {"train"});
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.status().message().find("train depends on itself"), std::string::npos);
  EXPECT_FALSE(BuildSchedule(2, {{}, {7}}).ok());
}

TEST(Schedule, RandomDagsRespectEveryDependency) {
  std::mt19937 rng(20261122);
  for (int trial = 0; trial < 500; ++trial) {
    int n = 1 + static_cast<int>(rng() % 14);
    double density = (rng() % 100) / 100.0;
    Deps deps(n);
    for (int v = 0; v < n; ++v) {
      for (int u = 0; u < v; ++u) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) < density * 0.5) {
          deps[v].push_back(u);
        }
      }
    }
    // Shuffle step numbering so declaration order is not topological order.
    std::vector<int> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    Deps shuffled(n);
    for (int v = 0; v < n; ++v) {
      for (int d : deps[v]) shuffled[perm[v]].push_back(perm[d]);
    }
    auto s = BuildSchedule(n, shuffled);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    CheckSchedule(n, shuffled, *s);
  }
}

// DAGs built by series and parallel composition compile with no extra orderings.
TEST(Schedule, SeriesParallelDagsLoseNoParallelism) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    Deps deps;
    // Returns (sources, sinks) of a random SP graph with `budget` steps appended to deps.
    std::function<std::pair<std::vector<int>, std::vector<int>>(int)> make =
        [&](int budget) -> std::pair<std::vector<int>, std::vector<int>> {
      if (budget <= 1) {
        deps.emplace_back();
        int v = static_cast<int>(deps.size()) - 1;
        return {{v}, {v}};
      }
      int left = 1 + static_cast<int>(rng() % (budget - 1));
      auto a = make(left);
      auto b = make(budget - left);
      if (rng() % 2 == 0) {  // parallel
        a.first.insert(a.first.end(), b.first.begin(), b.first.end());
        a.second.insert(a.second.end(), b.second.begin(), b.second.end());
        return a;
      }
      for (int src : b.first) {  // series: every source of b waits for every sink of a
        for (int sink : a.second) deps[src].push_back(sink);
      }
      return {a.first, b.second};
    };
    make(1 + static_cast<int>(rng() % 12));
    int n = static_cast<int>(deps.size());
    auto s = BuildSchedule(n, deps);
    ASSERT_TRUE(s.ok());
    CheckSchedule(n, deps, *s);
    EXPECT_EQ(s->extra_orderings, 0) << Describe(s->root);
  }
}

}  // namespace
}  // namespace zflow::pipeline
