// Statuses of a pipeline's steps from its states' (a step compiles to "<step>" and
// "<step>: <phase>" states).
import { stepOfState } from "./asl";
import { stateStatus, type RunSummary, type StateStatus } from "./history";

export function stepStatuses(summary: RunSummary, steps: string[]): Map<string, StateStatus> {
  const names = new Set(steps);
  const parts = new Map<string, StateStatus[]>();
  for (const [state, runs] of summary.byState) {
    const step = stepOfState(state, names);
    if (!step) continue;
    const list = parts.get(step) ?? [];
    list.push(stateStatus(runs));
    parts.set(step, list);
  }
  const out = new Map<string, StateStatus>();
  for (const step of steps) {
    // A step with a condition compiles to "<step>?" (the Choice) and "<step>: skipped".
    const skipped = summary.byState.get(`${step}: skipped`);
    if (skipped && skipped.length > 0 && !summary.byState.has(step)) {
      out.set(step, "skipped");
      continue;
    }
    const s = parts.get(step) ?? [];
    const started = s.filter((x) => x !== "not-started");
    out.set(
      step,
      started.length === 0 ? "not-started"
      : s.includes("running") ? "running"
      : s.includes("failed") ? "failed"
      : s.includes("aborted") ? "aborted"
      // A phase that caught an error is part of the step's plan (a lookup that finds nothing).
      : s.includes("succeeded") ? "succeeded"
      : "caught",
    );
  }
  return out;
}
