#include "pipeline/schedule.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <numeric>

#include <fmt/format.h>

namespace zflow::pipeline {
namespace {

class Scheduler {
 public:
  Scheduler(int n, const std::vector<std::vector<int>>& deps)
      : n_(n), words_((static_cast<std::size_t>(n) + 63) / 64),
        reach_(static_cast<std::size_t>(n) * words_, 0) {
    // Reaches(a, b): a path a -> b exists; one bit row per step, filled in topological order.
    succ_.resize(n);
    for (int v = 0; v < n; ++v) {
      for (int d : deps[v]) succ_[d].push_back(v);
    }
  }

  // Kahn's algorithm; on a cycle, returns the steps left over.
  bool TopoSort(const std::vector<std::vector<int>>& deps, std::vector<int>& leftover) {
    std::vector<int> indegree(n_);
    for (int v = 0; v < n_; ++v) indegree[v] = static_cast<int>(deps[v].size());
    std::vector<int> ready;
    for (int v = n_ - 1; v >= 0; --v) {
      if (indegree[v] == 0) ready.push_back(v);
    }
    while (!ready.empty()) {
      // Lowest index first keeps the order deterministic and close to declaration order.
      auto it = std::min_element(ready.begin(), ready.end());
      int v = *it;
      ready.erase(it);
      order_.push_back(v);
      for (int w : succ_[v]) {
        if (--indegree[w] == 0) ready.push_back(w);
      }
    }
    if (static_cast<int>(order_.size()) == n_) {
      position_.assign(n_, 0);
      for (int i = 0; i < n_; ++i) position_[order_[i]] = i;
      for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        int v = *it;
        std::uint64_t* row = Row(v);
        for (int w : succ_[v]) {
          Set(row, w);
          const std::uint64_t* other = Row(w);
          for (std::size_t k = 0; k < words_; ++k) row[k] |= other[k];
        }
      }
      return true;
    }
    for (int v = 0; v < n_; ++v) {
      if (indegree[v] > 0) leftover.push_back(v);
    }
    return false;
  }

  ScheduleNode Build(std::vector<int> set, long long& extra) {
    std::sort(set.begin(), set.end(), [&](int a, int b) { return position_[a] < position_[b]; });
    if (set.size() == 1) return Step(set[0]);
    std::vector<std::vector<int>> components = Components(set);
    if (components.size() > 1) {
      ScheduleNode par;
      par.kind = ScheduleNode::Kind::kParallel;
      for (auto& c : components) par.children.push_back(Build(std::move(c), extra));
      return par;
    }
    // Series cuts: every topological prefix whose steps all reach every later step. Found in
    // one pass with bit rows: `common` is the AND of the prefix's reach rows, `rest` the bits of
    // the steps after the prefix; the prefix is a cut when rest is inside common.
    std::vector<std::size_t> cuts;
    std::vector<std::uint64_t> common(words_, ~std::uint64_t{0});
    std::vector<std::uint64_t> rest(words_, 0);
    for (int v : set) Set(rest.data(), v);
    for (std::size_t k = 1; k < set.size(); ++k) {
      const std::uint64_t* row = Row(set[k - 1]);
      Clear(rest.data(), set[k - 1]);
      bool complete = true;
      for (std::size_t w = 0; w < words_; ++w) {
        common[w] &= row[w];
        complete = complete && (rest[w] & ~common[w]) == 0;
      }
      if (complete) cuts.push_back(k);
    }
    if (cuts.empty()) cuts.push_back(LeastCostlyLevelCut(set, extra));
    ScheduleNode seq;
    seq.kind = ScheduleNode::Kind::kSequence;
    std::size_t start = 0;
    cuts.push_back(set.size());
    for (std::size_t cut : cuts) {
      ScheduleNode part = Build(std::vector<int>(set.begin() + static_cast<std::ptrdiff_t>(start),
                                                 set.begin() + static_cast<std::ptrdiff_t>(cut)),
                                extra);
      start = cut;
      // Flatten nested sequences.
      if (part.kind == ScheduleNode::Kind::kSequence) {
        for (auto& c : part.children) seq.children.push_back(std::move(c));
      } else {
        seq.children.push_back(std::move(part));
      }
    }
    return seq;
  }

 private:
  static ScheduleNode Step(int v) {
    ScheduleNode s;
    s.step = v;
    return s;
  }

  std::vector<std::vector<int>> Components(const std::vector<int>& set) {
    std::vector<int> in_set(n_, -1);
    for (std::size_t i = 0; i < set.size(); ++i) in_set[set[i]] = static_cast<int>(i);
    std::vector<int> parent(set.size());
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
    for (int v : set) {
      for (int w : succ_[v]) {
        if (in_set[w] >= 0) parent[find(in_set[v])] = find(in_set[w]);
      }
    }
    std::vector<std::vector<int>> groups(set.size());
    for (std::size_t i = 0; i < set.size(); ++i) groups[find(static_cast<int>(i))].push_back(set[i]);
    std::vector<std::vector<int>> out;
    for (auto& g : groups) {
      if (!g.empty()) out.push_back(std::move(g));
    }
    // Deterministic: by the earliest step of each component.
    std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
      return position_[a.front()] < position_[b.front()];
    });
    return out;
  }

  // Not series-parallel here: cut between topological levels (longest-path depth within the
  // set), at the boundary that adds the fewest orderings the DAG does not require.
  std::size_t LeastCostlyLevelCut(std::vector<int>& set, long long& extra) {
    std::vector<int> level(n_, 0);
    std::vector<bool> in(n_, false);
    for (int v : set) in[v] = true;
    for (int v : set) {  // set is in topological order
      for (int w : succ_[v]) {
        if (in[w]) level[w] = std::max(level[w], level[v] + 1);
      }
    }
    std::stable_sort(set.begin(), set.end(), [&](int a, int b) { return level[a] < level[b]; });
    std::size_t best_cut = 0;
    long long best_cost = -1;
    std::vector<std::uint64_t> rest(words_, 0);
    for (int v : set) Set(rest.data(), v);
    std::size_t removed = 0;
    for (std::size_t k = 1; k < set.size(); ++k) {
      if (level[set[k]] == level[set[k - 1]]) continue;  // only between levels
      for (; removed < k; ++removed) Clear(rest.data(), set[removed]);
      // Pairs (before, after) with no path: orderings the cut adds.
      long long cost = 0;
      for (std::size_t i = 0; i < k; ++i) {
        const std::uint64_t* row = Row(set[i]);
        for (std::size_t w = 0; w < words_; ++w) cost += std::popcount(rest[w] & ~row[w]);
      }
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best_cut = k;
      }
    }
    extra += best_cost;
    return best_cut;
  }

  std::uint64_t* Row(int v) { return reach_.data() + static_cast<std::size_t>(v) * words_; }
  static void Set(std::uint64_t* bits, int v) { bits[v / 64] |= std::uint64_t{1} << (v % 64); }
  static void Clear(std::uint64_t* bits, int v) { bits[v / 64] &= ~(std::uint64_t{1} << (v % 64)); }

  int n_;
  std::size_t words_;
  std::vector<std::vector<int>> succ_;
  std::vector<std::uint64_t> reach_;
  std::vector<int> order_;
  std::vector<int> position_;
};

}  // namespace

Result<Schedule> BuildSchedule(int step_count, const std::vector<std::vector<int>>& deps,
                               const std::vector<std::string>& names) {
  auto name = [&](int i) {
    return i < static_cast<int>(names.size()) ? names[i] : fmt::format("step {}", i);
  };
  if (static_cast<int>(deps.size()) != step_count) {
    return InvalidArgumentError("BuildSchedule: one dependency list per step is required");
  }
  for (int v = 0; v < step_count; ++v) {
    for (int d : deps[v]) {
      if (d < 0 || d >= step_count || d == v) {
        return InvalidArgumentError(
            fmt::format("{} depends on {}", name(v), d == v ? "itself" : "an unknown step"));
      }
    }
  }
  Schedule out;
  if (step_count == 0) {
    out.root.kind = ScheduleNode::Kind::kSequence;
    return out;
  }
  Scheduler s(step_count, deps);
  std::vector<int> leftover;
  if (!s.TopoSort(deps, leftover)) {
    std::vector<std::string> on_cycle;
    for (int v : leftover) on_cycle.push_back(name(v));
    return InvalidArgumentError(
        fmt::format("step \"{}\": the steps {} depend on each other in a cycle", on_cycle.front(),
                    fmt::join(on_cycle, ", ")));
  }
  std::vector<int> all(step_count);
  std::iota(all.begin(), all.end(), 0);
  out.root = s.Build(std::move(all), out.extra_orderings);
  return out;
}

ScheduleIndex::ScheduleIndex(const ScheduleNode& root) { Walk(root); }

void ScheduleIndex::Walk(const ScheduleNode& node) {
  if (node.kind == ScheduleNode::Kind::kStep) {
    if (node.step >= static_cast<int>(paths_.size())) paths_.resize(node.step + 1);
    paths_[node.step] = current_;
    return;
  }
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    current_.push_back({node.kind == ScheduleNode::Kind::kSequence, static_cast<int>(i)});
    Walk(node.children[i]);
    current_.pop_back();
  }
}

bool ScheduleIndex::Precedes(int a, int b) const {
  if (a == b || a < 0 || b < 0 || a >= static_cast<int>(paths_.size()) ||
      b >= static_cast<int>(paths_.size())) {
    return false;
  }
  const auto& pa = paths_[a];
  const auto& pb = paths_[b];
  // The first place the paths part: their nearest common ancestor and the children under it.
  for (std::size_t d = 0; d < pa.size() && d < pb.size(); ++d) {
    if (pa[d].child != pb[d].child) return pa[d].sequence && pa[d].child < pb[d].child;
  }
  return false;
}

bool Precedes(const ScheduleNode& root, int a, int b) { return ScheduleIndex(root).Precedes(a, b); }

std::string Describe(const ScheduleNode& node) {
  if (node.kind == ScheduleNode::Kind::kStep) return std::to_string(node.step);
  std::vector<std::string> parts;
  for (const auto& c : node.children) parts.push_back(Describe(c));
  return fmt::format("{}[{}]", node.kind == ScheduleNode::Kind::kSequence ? "Sequence" : "Parallel",
                     fmt::join(parts, ", "));
}

}  // namespace zflow::pipeline
