// What a run's history says about each state: when it ran, with what input and output, its
// attempts and errors, and how it ended. Events are tied to a state by following
// previousEventId back to the state's *StateEntered event, which also keeps the concurrent
// branches of a Parallel or the iterations of a Map apart.
import type { HistoryEvent } from "./api";

export type StateStatus =
  | "not-started"
  | "running"
  | "succeeded"
  | "failed"
  | "caught"
  | "aborted"
  | "skipped"; // a pipeline step whose condition was false

export interface StateError {
  error: string;
  cause: string;
  at: number; // epoch seconds
  eventId: number;
}

export interface StateRun {
  name: string;
  type: string; // Task, Choice, ... (from the event type)
  enteredEventId: number;
  exitedEventId?: number;
  enteredAt: number;
  exitedAt?: number;
  input?: string;
  output?: string;
  attempts: number; // TaskScheduled (and the like) seen
  errors: StateError[];
  status: StateStatus;
  resource?: string;
  parameters?: string;
}

export interface RunSummary {
  runs: StateRun[]; // in order of entry
  byState: Map<string, StateRun[]>;
  executionStatus: string; // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
  startedAt?: number;
  endedAt?: number;
  error?: StateError;
}

function detailsOf(e: HistoryEvent): Record<string, unknown> | undefined {
  for (const [k, v] of Object.entries(e)) {
    if (k.endsWith("EventDetails") && v && typeof v === "object") return v as Record<string, unknown>;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

const FAILURE = /(Failed|TimedOut|Aborted)$/;

export function summarize(events: HistoryEvent[]): RunSummary {
  const runs: StateRun[] = [];
  const byState = new Map<string, StateRun[]>();
  const runOfEvent = new Map<number, StateRun | undefined>();
  const open = new Set<StateRun>();
  const summary: RunSummary = { runs, byState, executionStatus: "RUNNING" };
  for (const e of events) {
    const d = detailsOf(e);
    const previous = e.previousEventId ? runOfEvent.get(e.previousEventId) : undefined;
    if (e.type.endsWith("StateEntered")) {
      const run: StateRun = {
        name: str(d?.name) ?? "?",
        type: e.type.slice(0, -"StateEntered".length),
        enteredEventId: e.id,
        enteredAt: e.timestamp,
        input: str(d?.input),
        attempts: 0,
        errors: [],
        status: e.type === "FailStateEntered" ? "failed" : "running",
      };
      if (run.status === "running") open.add(run);
      else run.exitedAt = e.timestamp;
      runs.push(run);
      const list = byState.get(run.name) ?? [];
      list.push(run);
      byState.set(run.name, list);
      runOfEvent.set(e.id, run);
      continue;
    }
    if (e.type.endsWith("StateExited")) {
      const name = str(d?.name);
      // The run this exit closes: the one the chain leads to, else the oldest open one.
      let run = previous && previous.name === name && open.has(previous) ? previous : undefined;
      if (!run) for (const r of open) if (r.name === name) { run = r; break; }
      if (run) {
        run.exitedEventId = e.id;
        run.exitedAt = e.timestamp;
        run.output = str(d?.output);
        const last = run.errors[run.errors.length - 1];
        // Ended by an error it did not retry: caught by a Catch.
        run.status = last && last.eventId === e.previousEventId ? "caught" : "succeeded";
        open.delete(run);
      }
      runOfEvent.set(e.id, undefined);
      continue;
    }
    if (e.type === "ExecutionStarted") {
      summary.startedAt = e.timestamp;
      continue;
    }
    if (e.type.startsWith("Execution") && /(Succeeded|Failed|TimedOut|Aborted)$/.test(e.type)) {
      summary.endedAt = e.timestamp;
      summary.executionStatus =
        e.type === "ExecutionSucceeded" ? "SUCCEEDED"
        : e.type === "ExecutionFailed" ? "FAILED"
        : e.type === "ExecutionTimedOut" ? "TIMED_OUT"
        : "ABORTED";
      if (summary.executionStatus !== "SUCCEEDED") {
        summary.error = { error: str(d?.error) ?? "", cause: str(d?.cause) ?? "", at: e.timestamp, eventId: e.id };
      }
      for (const run of open) {
        run.status = summary.executionStatus === "SUCCEEDED" ? "succeeded" : summary.executionStatus === "ABORTED" ? "aborted" : "failed";
        run.exitedAt = e.timestamp;
      }
      open.clear();
      continue;
    }
    if (e.type === "ExecutionRedriven") {
      summary.executionStatus = "RUNNING";
      summary.endedAt = undefined;
      // Failed states run again: the new attempts come as new entries.
      continue;
    }
    runOfEvent.set(e.id, previous);
    if (!previous) continue;
    if (/Scheduled$/.test(e.type)) {
      previous.attempts++;
      previous.resource = str(d?.resource) ?? previous.resource;
      previous.parameters = str(d?.parameters) ?? str(d?.input) ?? previous.parameters;
    }
    if (FAILURE.test(e.type) && d && (d.error !== undefined || d.cause !== undefined)) {
      previous.errors.push({ error: str(d.error) ?? "", cause: str(d.cause) ?? "", at: e.timestamp, eventId: e.id });
    }
  }
  return summary;
}

// One status for a state that may have run many times (Map iterations, retries after redrive).
export function stateStatus(runs: StateRun[] | undefined): StateStatus {
  if (!runs || runs.length === 0) return "not-started";
  if (runs.some((r) => r.status === "running")) return "running";
  const last = runs[runs.length - 1].status;
  if (runs.some((r) => r.status === "failed") && last !== "succeeded") return "failed";
  return last;
}

export const STATUS_LABEL: Record<StateStatus, string> = {
  "not-started": "not started",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  caught: "caught an error",
  aborted: "aborted",
  skipped: "skipped (its condition was false)",
};

export function formatDuration(seconds: number): string {
  if (!isFinite(seconds) || seconds < 0) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatTime(epochSeconds: number | undefined): string {
  if (epochSeconds === undefined) return "";
  const d = new Date(epochSeconds * 1000);
  return d.toLocaleString(undefined, { hour12: false });
}
