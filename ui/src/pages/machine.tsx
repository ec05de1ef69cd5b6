// A state machine: its graph (and its pipeline's step graph), a grid of recent runs, its
// executions with filters, versions, aliases and schedules, and the start form.
import { useMemo, useState } from "preact/hooks";
import {
  ApiError,
  executionPath,
  fullHistory,
  getJson,
  query,
  sfn,
  type ExecutionItem,
  type Schedule,
  type StateMachine,
  type StepGraph,
} from "../api";
import { graphOfDefinition, graphOfSteps, stateNames } from "../asl";
import { GraphView, StatusBadge } from "../graph";
import { formatDuration, formatTime, stateStatus, STATUS_LABEL, summarize, type StateStatus } from "../history";
import { stepStatuses } from "../steps";
import { ErrorNote, Section, useLoad } from "../widgets";
import { StartForm } from "./start_form";

const STATUSES = ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];
const PAGE = 25;
const GRID_RUNS = 20;

export function MachinePage({ name }: { name: string }) {
  const machine = useLoad(async () => {
    const list = await sfn<{ stateMachines: { stateMachineArn: string; name: string }[] }>("ListStateMachines", { maxResults: 1000 });
    const item = list.stateMachines.find((m) => m.name === name);
    if (!item) throw new ApiError("StateMachineDoesNotExist", `No state machine is named ${name}`, 400);
    return sfn<StateMachine>("DescribeStateMachine", { stateMachineArn: item.stateMachineArn });
  }, [name]);
  const steps = useLoad(async () => {
    try {
      return await getJson<StepGraph>(`/zflow/pipelines/${encodeURIComponent(name)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }, [name]);
  const [starting, setStarting] = useState(false);
  const m = machine.data;
  if (machine.error) return <ErrorNote error={machine.error} />;
  if (!m) return <p class="muted">Loading…</p>;
  return (
    <>
      <div class="title-row">
        <h1>{m.name}</h1>
        <button class="primary" onClick={() => setStarting(true)} disabled={starting}>
          Start execution
        </button>
      </div>
      <p class="muted arn">{m.stateMachineArn}</p>
      {steps.data?.comment ? <p>{steps.data.comment}</p> : null}
      {m.description ? <p>{m.description}</p> : null}
      {starting ? <StartForm machineArn={m.stateMachineArn} onClose={() => setStarting(false)} /> : null}
      <MachineGraphs definition={m.definition} steps={steps.data} />
      <RunGrid machine={m} steps={steps.data} />
      <Executions machineArn={m.stateMachineArn} />
      <VersionsAndAliases machineArn={m.stateMachineArn} />
      <Schedules machineArn={m.stateMachineArn} />
    </>
  );
}

function MachineGraphs({ definition, steps }: { definition: string; steps?: StepGraph }) {
  const graph = useMemo(() => graphOfDefinition(definition), [definition]);
  const stepGraph = useMemo(() => (steps ? graphOfSteps(steps.steps) : undefined), [steps]);
  return (
    <div class="graphs">
      {stepGraph ? (
        <Section title={`Pipeline steps (${steps!.pipeline})`} id="steps">
          <GraphView graph={stepGraph} label="The pipeline's steps" testId="step-graph" />
        </Section>
      ) : null}
      <Section title="States" id="states">
        <GraphView graph={graph} label="The state machine's states" testId="state-graph" />
      </Section>
    </div>
  );
}

// Airflow's grid: a row per step (or state), a column per recent run.
function RunGrid({ machine, steps }: { machine: StateMachine; steps?: StepGraph }) {
  const grid = useLoad(async () => {
    const list = await getJson<{ executions: ExecutionItem[] }>(
      `/zflow/executions${query({ stateMachineArn: machine.stateMachineArn, maxResults: GRID_RUNS })}`,
    );
    const runs = list.executions.slice().reverse(); // oldest on the left
    const cells: Map<string, StateStatus>[] = new Array(runs.length);
    let next = 0;
    const rows = steps ? steps.steps.map((s) => s.name) : stateNames(machine.definition);
    const worker = async () => {
      while (next < runs.length) {
        const i = next++;
        const summary = summarize(await fullHistory(runs[i].executionArn, false));
        cells[i] = steps
          ? stepStatuses(summary, rows)
          : new Map(rows.map((r) => [r, stateStatus(summary.byState.get(r))]));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return { runs, cells, rows };
  }, [machine.stateMachineArn, steps]);
  return (
    <Section title="Recent runs" id="grid">
      <ErrorNote error={grid.error} />
      {grid.data && grid.data.runs.length === 0 ? <p class="muted">No runs yet.</p> : null}
      {grid.data && grid.data.runs.length > 0 ? (
        <div class="grid-wrap">
          <table class="run-grid" data-testid="run-grid">
            <thead>
              <tr>
                <th scope="col">{steps ? "Step" : "State"}</th>
                {grid.data.runs.map((r) => (
                  <th scope="col" key={r.executionArn}>
                    <a href={executionPath(r.executionArn)} title={`${r.name} · ${r.status} · ${formatTime(r.startDate)}`}
                       class={`run-head b-${r.status.toLowerCase()}`} aria-label={`${r.name}: ${r.status}`} />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {grid.data.rows.map((row) => (
                <tr key={row}>
                  <th scope="row">{row}</th>
                  {grid.data!.cells.map((c, i) => {
                    const s = c.get(row) ?? "not-started";
                    return (
                      <td key={i}>
                        <span class={`cell st-${s}`} title={`${row} in ${grid.data!.runs[i].name}: ${STATUS_LABEL[s]}`} />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Section>
  );
}

function toMs(local: string): number | undefined {
  if (!local) return undefined;
  const t = new Date(local).getTime();
  return isNaN(t) ? undefined : t;
}

function Executions({ machineArn }: { machineArn: string }) {
  const [status, setStatus] = useState("");
  const [after, setAfter] = useState("");
  const [before, setBefore] = useState("");
  const [tokens, setTokens] = useState<string[]>([""]); // the token of each page seen
  const token = tokens[tokens.length - 1];
  const page = useLoad(
    () =>
      getJson<{ executions: ExecutionItem[]; nextToken?: string }>(
        `/zflow/executions${query({
          stateMachineArn: machineArn,
          statusFilter: status,
          startedAfter: toMs(after),
          startedBefore: toMs(before),
          maxResults: PAGE,
          nextToken: token || undefined,
        })}`,
      ),
    [machineArn, status, after, before, token],
  );
  const reset = () => setTokens([""]);
  return (
    <Section title="Executions" id="executions">
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter executions">
        <label>
          Status
          <select value={status} onChange={(e) => (setStatus((e.target as HTMLSelectElement).value), reset())}>
            {STATUSES.map((s) => (
              <option value={s} key={s}>
                {s ? s.replace("_", " ") : "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Started after
          <input type="datetime-local" value={after} onChange={(e) => (setAfter((e.target as HTMLInputElement).value), reset())} />
        </label>
        <label>
          Started before
          <input type="datetime-local" value={before} onChange={(e) => (setBefore((e.target as HTMLInputElement).value), reset())} />
        </label>
        <button type="button" onClick={() => page.reload()}>
          Refresh
        </button>
      </form>
      <ErrorNote error={page.error} />
      {page.data ? (
        <>
          <table class="list" data-testid="executions">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {page.data.executions.map((e) => (
                <tr key={e.executionArn}>
                  <td>
                    <a href={executionPath(e.executionArn)}>{e.name}</a>
                    {e.redriveCount ? <span class="muted"> (redriven {e.redriveCount}×)</span> : null}
                  </td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td>{formatTime(e.startDate)}</td>
                  <td>{e.stopDate ? formatDuration(e.stopDate - e.startDate) : ""}</td>
                </tr>
              ))}
              {page.data.executions.length === 0 ? (
                <tr>
                  <td colSpan={4} class="muted">
                    No executions match.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
          <div class="pager">
            <button disabled={tokens.length <= 1} onClick={() => setTokens(tokens.slice(0, -1))}>
              ← Newer
            </button>
            <span class="muted">Page {tokens.length}</span>
            <button disabled={!page.data.nextToken} onClick={() => setTokens([...tokens, page.data!.nextToken!])}>
              Older →
            </button>
          </div>
        </>
      ) : (
        <p class="muted">Loading…</p>
      )}
    </Section>
  );
}

function VersionsAndAliases({ machineArn }: { machineArn: string }) {
  const data = useLoad(async () => {
    const [versions, aliases] = await Promise.all([
      sfn<{ stateMachineVersions: { stateMachineVersionArn: string; creationDate: number }[] }>(
        "ListStateMachineVersions",
        { stateMachineArn: machineArn, maxResults: 100 },
      ),
      sfn<{ stateMachineAliases: { stateMachineAliasArn: string; creationDate: number }[] }>(
        "ListStateMachineAliases",
        { stateMachineArn: machineArn, maxResults: 100 },
      ),
    ]);
    const described = await Promise.all(
      aliases.stateMachineAliases.map((a) =>
        sfn<{ name: string; routingConfiguration: { stateMachineVersionArn: string; weight: number }[] }>(
          "DescribeStateMachineAlias",
          { stateMachineAliasArn: a.stateMachineAliasArn },
        ),
      ),
    );
    return { versions: versions.stateMachineVersions, aliases: described };
  }, [machineArn]);
  return (
    <Section title="Versions and aliases" id="versions">
      <ErrorNote error={data.error} />
      {data.data ? (
        data.data.versions.length === 0 && data.data.aliases.length === 0 ? (
          <p class="muted">No published versions.</p>
        ) : (
          <ul class="plain">
            {data.data.versions.map((v) => (
              <li key={v.stateMachineVersionArn}>
                Version {v.stateMachineVersionArn.split(":").pop()} · {formatTime(v.creationDate)}
              </li>
            ))}
            {data.data.aliases.map((a) => (
              <li key={a.name}>
                Alias <strong>{a.name}</strong> →{" "}
                {a.routingConfiguration.map((r) => `version ${r.stateMachineVersionArn.split(":").pop()} (${r.weight}%)`).join(", ")}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </Section>
  );
}

function Schedules({ machineArn }: { machineArn: string }) {
  const data = useLoad(async () => {
    const list = await getJson<{ Schedules: Schedule[] }>("/schedules?MaxResults=100");
    const mine = list.Schedules.filter((s) => s.Target.Arn.split(":").slice(0, 7).join(":") === machineArn);
    return Promise.all(
      mine.map((s) =>
        getJson<{ Name: string; State: string; ScheduleExpression: string; ScheduleExpressionTimezone?: string }>(
          `/schedules/${encodeURIComponent(s.Name)}`,
        ),
      ),
    );
  }, [machineArn]);
  return (
    <Section title="Schedules" id="machine-schedules">
      <ErrorNote error={data.error} />
      {data.data && data.data.length === 0 ? <p class="muted">No schedule starts this state machine.</p> : null}
      {data.data && data.data.length > 0 ? (
        <ul class="plain">
          {data.data.map((s) => (
            <li key={s.Name}>
              <strong>{s.Name}</strong>: <code>{s.ScheduleExpression}</code> ({s.ScheduleExpressionTimezone ?? "UTC"}),{" "}
              {s.State.toLowerCase()}
            </li>
          ))}
        </ul>
      ) : null}
    </Section>
  );
}
