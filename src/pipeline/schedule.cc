#include "pipeline/schedule.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include <fmt/format.h>

namespace zflow::pipeline {
namespace {

class Scheduler {
 public:
  Scheduler(int n, const std::vector<std::vector<int>>& deps) : n_(n), reach_(n) {
    // reach_[a][b]: a path a -> b exists. Filled in topological order.
    succ_.resize(n);
    for (int v = 0; v < n; ++v) {
      for (int d : deps[v]) succ_[d].push_back(v);
    }
    for (auto& row : reach_) row.assign(n, false);
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
        for (int w : succ_[v]) {
          reach_[v][w] = true;
          for (int x = 0; x < n_; ++x) {
            if (reach_[w][x]) reach_[v][x] = true;
          }
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
    // Series cut: the smallest topological prefix whose every step reaches every later step.
    std::size_t cut = 0;
    for (std::size_t k = 1; k < set.size() && cut == 0; ++k) {
      bool complete = true;
      for (std::size_t i = 0; i < k && complete; ++i) {
        for (std::size_t j = k; j < set.size() && complete; ++j) {
          complete = reach_[set[i]][set[j]];
        }
      }
      if (complete) cut = k;
    }
    if (cut == 0) cut = LeastCostlyLevelCut(set, extra);
    std::vector<int> before(set.begin(), set.begin() + static_cast<std::ptrdiff_t>(cut));
    std::vector<int> after(set.begin() + static_cast<std::ptrdiff_t>(cut), set.end());
    ScheduleNode seq;
    seq.kind = ScheduleNode::Kind::kSequence;
    for (ScheduleNode part : {Build(std::move(before), extra), Build(std::move(after), extra)}) {
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
    for (std::size_t k = 1; k < set.size(); ++k) {
      if (level[set[k]] == level[set[k - 1]]) continue;  // only between levels
      long long cost = 0;
      for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = k; j < set.size(); ++j) cost += reach_[set[i]][set[j]] ? 0 : 1;
      }
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best_cut = k;
      }
    }
    extra += best_cost;
    return best_cut;
  }

  int n_;
  std::vector<std::vector<int>> succ_;
  std::vector<std::vector<bool>> reach_;
  std::vector<int> order_;
  std::vector<int> position_;
};

void Collect(const ScheduleNode& n, std::vector<int>& out) {
  if (n.kind == ScheduleNode::Kind::kStep) {
    out.push_back(n.step);
    return;
  }
  for (const auto& c : n.children) Collect(c, out);
}

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
        fmt::format("the steps depend on each other in a cycle: {}", fmt::join(on_cycle, ", ")));
  }
  std::vector<int> all(step_count);
  std::iota(all.begin(), all.end(), 0);
  out.root = s.Build(std::move(all), out.extra_orderings);
  return out;
}

bool Precedes(const ScheduleNode& root, int a, int b) {
  if (root.kind == ScheduleNode::Kind::kStep) return false;
  // Find the children holding a and b.
  int ia = -1, ib = -1;
  for (std::size_t i = 0; i < root.children.size(); ++i) {
    std::vector<int> steps;
    Collect(root.children[i], steps);
    if (std::find(steps.begin(), steps.end(), a) != steps.end()) ia = static_cast<int>(i);
    if (std::find(steps.begin(), steps.end(), b) != steps.end()) ib = static_cast<int>(i);
  }
  if (ia < 0 || ib < 0) return false;
  if (ia == ib) return Precedes(root.children[ia], a, b);
  return root.kind == ScheduleNode::Kind::kSequence && ia < ib;
}

std::string Describe(const ScheduleNode& node) {
  if (node.kind == ScheduleNode::Kind::kStep) return std::to_string(node.step);
  std::vector<std::string> parts;
  for (const auto& c : node.children) parts.push_back(Describe(c));
  return fmt::format("{}[{}]", node.kind == ScheduleNode::Kind::kSequence ? "Sequence" : "Parallel",
                     fmt::join(parts, ", "));
}

}  // namespace zflow::pipeline
