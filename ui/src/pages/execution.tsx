// An execution: its graph coloured by each state's status (followed live while it runs), each
// state's input, output, attempts, errors and logs, a timeline, the event history, the run's
// artifacts, and Stop / Redrive.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  ApiError,
  fullHistory,
  getJson,
  machinePath,
  newEvents,
  objectUrl,
  query,
  sfn,
  type Artifact,
  type Execution,
  type HistoryEvent,
  type StateMachine,
  type StepGraph,
  type TaskLog,
} from "../api";
import { graphOfDefinition, graphOfSteps } from "../asl";
import { GraphView, StatusBadge } from "../graph";
import {
  formatDuration,
  formatTime,
  stateStatus,
  STATUS_LABEL,
  summarize,
  type RunSummary,
  type StateRun,
} from "../history";
import { stepStatuses } from "../steps";
import { ErrorNote, formatBytes, JsonBlock, Section, useLoad } from "../widgets";

const POLL_MS = 1000;

export function ExecutionPage({ arn }: { arn: string }) {
  const [execution, setExecution] = useState<Execution | null>(null);
  const [machine, setMachine] = useState<StateMachine | null>(null);
  const [steps, setSteps] = useState<StepGraph | undefined>(undefined);
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [logs, setLogs] = useState<TaskLog[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0); // bumped to reload after Stop / Redrive
  const eventsRef = useRef<HistoryEvent[]>([]);

  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const loadLogs = async () => {
      const l = await getJson<{ logs: TaskLog[] }>(`/zflow/task-logs${query({ executionArn: arn })}`);
      if (live) setLogs(l.logs);
    };
    const first = async () => {
      const [e, m, h] = await Promise.all([
        sfn<Execution>("DescribeExecution", { executionArn: arn }),
        sfn<StateMachine>("DescribeStateMachineForExecution", { executionArn: arn }),
        fullHistory(arn),
      ]);
      if (!live) return;
      eventsRef.current = h;
      setExecution(e);
      setMachine(m);
      setEvents(h);
      try {
        const g = await getJson<StepGraph>(`/zflow/pipelines/${encodeURIComponent(m.name)}`);
        if (live) setSteps(g);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
      await loadLogs();
      if (e.status === "RUNNING") timer = window.setTimeout(poll, POLL_MS);
    };
    const poll = async () => {
      try {
        const known = eventsRef.current;
        const fresh = await newEvents(arn, known.length ? known[known.length - 1].id : 0);
        const e = await sfn<Execution>("DescribeExecution", { executionArn: arn });
        if (!live) return;
        if (fresh.length) {
          eventsRef.current = [...known, ...fresh];
          setEvents(eventsRef.current);
          await loadLogs();
        }
        setExecution(e);
        if (e.status === "RUNNING") timer = window.setTimeout(poll, POLL_MS);
      } catch (err) {
        if (live) setError(err);
      }
    };
    first().catch((err) => live && setError(err));
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [arn, generation]);

  const summary = useMemo(() => summarize(events), [events]);
  const graph = useMemo(() => (machine ? graphOfDefinition(machine.definition) : undefined), [machine]);
  const stepGraph = useMemo(() => (steps ? graphOfSteps(steps.steps) : undefined), [steps]);
  const stepStatus = useMemo(
    () => (steps ? stepStatuses(summary, steps.steps.map((s) => s.name)) : undefined),
    [summary, steps],
  );

  if (error) return <ErrorNote error={error} />;
  if (!execution || !machine || !graph) return <p class="muted">Loading…</p>;

  const act = async (action: "StopExecution" | "RedriveExecution") => {
    setActionError(null);
    try {
      await sfn(action, { executionArn: arn });
      setGeneration((g) => g + 1);
    } catch (e) {
      setActionError(e);
    }
  };
  const end = execution.stopDate ?? Date.now() / 1000;
  return (
    <>
      <div class="title-row">
        <h1>{execution.name}</h1>
        <StatusBadge status={execution.status} />
        <span class="spacer" />
        {execution.status === "RUNNING" ? (
          <button onClick={() => act("StopExecution")} class="danger">
            Stop
          </button>
        ) : null}
        {["FAILED", "ABORTED", "TIMED_OUT"].includes(execution.status) ? (
          <button onClick={() => act("RedriveExecution")} class="primary">
            Redrive
          </button>
        ) : null}
      </div>
      <p class="muted">
        <a href={machinePath(machine.name)}>{machine.name}</a> · started {formatTime(execution.startDate)} ·{" "}
        {execution.status === "RUNNING" ? "running for " : "took "}
        {formatDuration(end - execution.startDate)}
        {execution.redriveCount ? ` · redriven ${execution.redriveCount}×` : ""}
      </p>
      <ErrorNote error={actionError} />
      {execution.error || execution.cause ? (
        <div class="card failure" role="status">
          <strong>{execution.error}</strong>
          {execution.cause ? <pre class="cause">{execution.cause}</pre> : null}
        </div>
      ) : null}
      <div class="graphs">
        {stepGraph ? (
          <Section title="Pipeline steps" id="steps">
            <GraphView graph={stepGraph} label="The pipeline's steps, coloured by status" testId="step-graph"
              status={(s) => stepStatus?.get(s)} />
          </Section>
        ) : null}
        <Section title="States" id="states">
          <p class="legend" aria-hidden="true">
            {(["succeeded", "running", "failed", "caught", "skipped", "not-started"] as const).map((s) => (
              <span key={s} class={`chip st-${s}`}>{STATUS_LABEL[s]}</span>
            ))}
          </p>
          <GraphView
            graph={graph}
            label="The execution's states, coloured by status; choose one for its details"
            testId="execution-graph"
            status={(s) => stateStatus(summary.byState.get(s))}
            selected={selected}
            onSelect={setSelected}
          />
        </Section>
      </div>
      {selected ? (
        <StateDetails name={selected} runs={summary.byState.get(selected) ?? []} logs={logs} onClose={() => setSelected(undefined)} />
      ) : (
        <p class="muted">Choose a state on the graph (or Tab to it and press Enter) for its input, output, errors and logs.</p>
      )}
      <Timeline summary={summary} end={end} onSelect={setSelected} />
      <Artifacts arn={arn} status={execution.status} />
      <Section title="Execution input and output" id="io">
        <div class="two">
          <div>
            <h3>Input</h3>
            <JsonBlock text={execution.input} label="Execution input" />
          </div>
          <div>
            <h3>Output</h3>
            <JsonBlock text={execution.output} label="Execution output" />
          </div>
        </div>
      </Section>
      <Events events={events} />
    </>
  );
}

function StateDetails({ name, runs, logs, onClose }: { name: string; runs: StateRun[]; logs: TaskLog[]; onClose: () => void }) {
  const [index, setIndex] = useState(runs.length - 1);
  useEffect(() => setIndex(runs.length - 1), [name, runs.length]);
  const run = runs[Math.max(0, Math.min(index, runs.length - 1))];
  const runLogs = logs.filter(
    (l) => l.stateName === name && (!run || (l.eventId > run.enteredEventId && (!run.exitedEventId || l.eventId < run.exitedEventId))),
  );
  return (
    <section class="card details" aria-labelledby="details-h" data-testid="state-details">
      <div class="title-row">
        <h2 id="details-h">{name}</h2>
        {run ? <span class={`chip st-${run.status}`}>{STATUS_LABEL[run.status]}</span> : null}
        <span class="spacer" />
        <button onClick={onClose} aria-label="Close the state's details">
          Close
        </button>
      </div>
      {!run ? (
        <p class="muted">This state has not run.</p>
      ) : (
        <>
          {runs.length > 1 ? (
            <label>
              Run{" "}
              <select value={index} onChange={(e) => setIndex(Number((e.target as HTMLSelectElement).value))}>
                {runs.map((r, i) => (
                  <option value={i} key={i}>
                    {i + 1} of {runs.length} · {STATUS_LABEL[r.status]}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <p>
            {run.type} · entered {formatTime(run.enteredAt)}
            {run.exitedAt !== undefined ? ` · ${formatDuration(run.exitedAt - run.enteredAt)}` : " · running"}
            {run.attempts > 1 ? ` · ${run.attempts} attempts` : ""}
            {run.resource ? (
              <>
                {" "}
                · <code>{run.resource}</code>
              </>
            ) : null}
          </p>
          {run.errors.length > 0 ? (
            <div>
              <h3>Errors and retries</h3>
              <ol class="errors">
                {run.errors.map((e) => (
                  <li key={e.eventId}>
                    <strong>{e.error}</strong> at {formatTime(e.at)}
                    {e.cause ? <pre class="cause">{e.cause}</pre> : null}
                  </li>
                ))}
              </ol>
            </div>
          ) : null}
          <div class="two">
            <div>
              <h3>Input</h3>
              <JsonBlock text={run.input} label="State input" />
            </div>
            <div>
              <h3>Output</h3>
              <JsonBlock text={run.output} label="State output" />
            </div>
          </div>
          {run.parameters ? (
            <>
              <h3>Parameters sent to the task</h3>
              <JsonBlock text={run.parameters} label="Task parameters" />
            </>
          ) : null}
          <h3>Logs</h3>
          {runLogs.length === 0 ? (
            <p class="muted">No logs (only tasks that run a local process or job print any).</p>
          ) : (
            runLogs.map((l) => (
              <pre class="log" key={l.eventId} tabIndex={0} aria-label={`Log of ${name}`} data-testid="task-log">
                {l.log}
              </pre>
            ))
          )}
        </>
      )}
    </section>
  );
}

function Timeline({ summary, end, onSelect }: { summary: RunSummary; end: number; onSelect: (s: string) => void }) {
  const runs = summary.runs.filter((r) => r.type !== "Pass" && r.type !== "Choice" && r.type !== "Succeed");
  if (!summary.startedAt || runs.length === 0) return null;
  const start = summary.startedAt;
  const total = Math.max((summary.endedAt ?? end) - start, 0.001);
  const shown = runs.slice(0, 300);
  return (
    <Section title="Timeline" id="timeline">
      <div class="timeline" data-testid="timeline">
        {shown.map((r, i) => {
          const from = ((r.enteredAt - start) / total) * 100;
          const width = Math.max((((r.exitedAt ?? end) - r.enteredAt) / total) * 100, 0.4);
          return (
            <div class="tl-row" key={i}>
              <button class="tl-name link" onClick={() => onSelect(r.name)}>
                {r.name}
              </button>
              <div class="tl-track">
                <span class={`tl-bar st-${r.status}`} style={{ left: `${from}%`, width: `${width}%` }}
                      title={`${r.name}: ${formatDuration((r.exitedAt ?? end) - r.enteredAt)}`} />
              </div>
              <span class="tl-time">{formatDuration((r.exitedAt ?? end) - r.enteredAt)}</span>
            </div>
          );
        })}
        {runs.length > shown.length ? <p class="muted">…and {runs.length - shown.length} more.</p> : null}
      </div>
    </Section>
  );
}

function Artifacts({ arn, status }: { arn: string; status: string }) {
  const data = useLoad(() => getJson<{ artifacts: Artifact[] }>(`/zflow/artifacts${query({ executionArn: arn })}`), [arn, status]);
  return (
    <Section title="Artifacts" id="artifacts">
      <ErrorNote error={data.error} />
      {data.data && data.data.artifacts.length === 0 ? <p class="muted">The run refers to no stored objects.</p> : null}
      {data.data && data.data.artifacts.length > 0 ? (
        <table class="list" data-testid="artifacts">
          <thead>
            <tr>
              <th scope="col">Object</th>
              <th scope="col">Size</th>
              <th scope="col">
                <span class="sr-only">Download</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.data.artifacts.map((a) => (
              <tr key={a.uri}>
                <td>
                  <a href={objectUrl(a.uri)} target="_blank" rel="noopener">
                    {a.uri}
                  </a>
                </td>
                <td>{formatBytes(a.size)}</td>
                <td>
                  <a href={objectUrl(a.uri, true)} download>
                    Download
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}

const EVENTS_SHOWN = 500;

function Events({ events }: { events: HistoryEvent[] }) {
  const [open, setOpen] = useState(false);
  const [shown, setShown] = useState(EVENTS_SHOWN);
  return (
    <Section title={`Event history (${events.length})`} id="events">
      <button onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "Hide events" : "Show events"}
      </button>
      {open ? (
        <table class="list events" data-testid="events">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Type</th>
              <th scope="col">Time</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {events.slice(0, shown).map((e) => {
              const { id, type, timestamp, previousEventId, ...rest } = e;
              void previousEventId;
              return (
                <tr key={id}>
                  <td>{id}</td>
                  <td>{type}</td>
                  <td>{formatTime(timestamp)}</td>
                  <td>
                    <code class="details-json">{JSON.stringify(Object.values(rest)[0] ?? {}).slice(0, 400)}</code>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {open && events.length > shown ? (
        <button onClick={() => setShown(shown + EVENTS_SHOWN)}>
          Show {Math.min(EVENTS_SHOWN, events.length - shown)} more of {events.length - shown}
        </button>
      ) : null}
    </Section>
  );
}
