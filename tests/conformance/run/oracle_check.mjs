// Usage: node oracle_check.mjs [CASE_DIR]   (CASE_DIR defaults to this script's directory)
//
// Runs the execution conformance cases (NNN-name.json, see README.md) that have no mock_config
// on the aws-local-stepfunctions oracle (npm aws-local-stepfunctions, pinned in tests/package.json)
// and compares status / output / error with the case's "expect". One JSON line per case:
//   {"file", "ran", "agrees", "oracle", "oracle_disagrees_documented"}  (or "skipped": reason)
// How the oracle is driven, to match the zflow runner:
//   - every Task state must use arn:aws:states:::zflow:echo and is overridden to return its
//     effective input (after InputPath/Parameters);
//   - waits take no real time: setTimeout and Date.now are replaced by a virtual clock that jumps
//     to the next due timer whenever the oracle is idle, so Wait states, retry intervals and the
//     top-level TimeoutSeconds keep their relative timing (TIMED_OUT cases are checked too);
//   - the context object gets StateMachine.Name "Machine", the name the runner gives every case.
// Exit status is non-zero when
//   - the oracle disagrees with "expect" on a case without an "oracle_disagrees" note, or
//   - a case WITH an "oracle_disagrees" note agrees with the oracle (stale note) or is not run, or
//   - a case file is malformed (missing fields, bad mock_config, non-echo Task without mocks).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); Node 20 lacks it.
if (!Promise.withResolvers) {
  Promise.withResolvers = () => {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
const { StateMachine, ExecutionError, ExecutionTimeoutError } = await import('aws-local-stepfunctions');

// Virtual clock. The oracle only waits through setTimeout (Wait states, retry intervals, task and
// execution timeouts) and reads the time through Date.now (Wait Timestamp). Timers are kept in a
// queue; a real setImmediate runs once the microtask queue is drained, i.e. when the oracle has
// nothing left to do but wait, and fires the earliest timer after moving the clock to its due time.
const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, setImmediate: globalThis.setImmediate, now: Date.now };
const clock = { now: real.now(), timers: new Map(), seq: 0, pumping: false };
function pump() {
  clock.pumping = false;
  let next = null;
  for (const t of clock.timers.values()) if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
  if (!next) return;
  clock.timers.delete(next.seq);
  clock.now = Math.max(clock.now, next.at);
  schedulePump();
  next.fn(...next.args);
}
function schedulePump() {
  if (!clock.pumping && clock.timers.size) { clock.pumping = true; real.setImmediate(pump); }
}
globalThis.setTimeout = (fn, ms, ...args) => {
  const seq = ++clock.seq;
  clock.timers.set(seq, { seq, at: clock.now + Math.max(0, Number(ms) || 0), fn, args });
  schedulePump();
  return { seq, ref() { return this; }, unref() { return this; }, hasRef() { return false; }, [Symbol.toPrimitive]() { return seq; } };
};
globalThis.clearTimeout = (handle) => { if (handle != null) clock.timers.delete(typeof handle === 'object' ? handle.seq : Number(handle)); };
Date.now = () => clock.now;
function resetClock() { clock.timers.clear(); clock.now = real.now(); }

const ECHO = 'arn:aws:states:::zflow:echo';
const MACHINE = 'Machine';
const RUN_LIMIT_MS = 30000;
const dir = path.resolve(process.argv[2] ?? path.dirname(fileURLToPath(import.meta.url)));

// Problems that make a case file unusable, as strings (empty when fine).
function checkCase(c) {
  const problems = [];
  if (typeof c.note !== 'string' || !c.note) problems.push('missing "note"');
  if (!c.definition || typeof c.definition !== 'object') problems.push('missing "definition"');
  const e = c.expect;
  if (!e || !['SUCCEEDED', 'FAILED', 'TIMED_OUT'].includes(e.status)) problems.push('"expect.status" must be SUCCEEDED, FAILED or TIMED_OUT');
  else if (e.status === 'SUCCEEDED' && !('output' in e)) problems.push('SUCCEEDED expectation without "output"');
  else if (e.status === 'FAILED' && !('error' in e)) problems.push('FAILED expectation without "error" (null for none)');
  if (c.mock_config !== undefined) {
    const machines = c.mock_config?.StateMachines;
    if (!machines || Object.keys(machines).join() !== MACHINE) problems.push('mock_config.StateMachines must have exactly the key "Machine"');
    else if (typeof c.test_case !== 'string' || !machines[MACHINE]?.TestCases?.[c.test_case]) problems.push('"test_case" must name a test case of mock_config');
    else {
      for (const [state, response] of Object.entries(machines[MACHINE].TestCases[c.test_case])) {
        if (!c.mock_config.MockedResponses?.[response]) problems.push(`test case maps ${state} to unknown mocked response ${response}`);
      }
    }
  } else if (c.test_case !== undefined) problems.push('"test_case" without mock_config');
  if (c.oracle_disagrees !== undefined && (typeof c.oracle_disagrees !== 'string' || !c.oracle_disagrees)) problems.push('"oracle_disagrees" must be a non-empty string');
  return problems;
}

// Collects Task (and Wait) state names at every nesting level.
function walk(states, found) {
  for (const [name, s] of Object.entries(states ?? {})) {
    if (s.Type === 'Task') found.tasks.push([name, s.Resource]);
    if (s.Type === 'Wait') found.waits.push(name);
    if (s.Type === 'Parallel') for (const b of s.Branches ?? []) walk(b.States, found);
    if (s.Type === 'Map') walk((s.ItemProcessor ?? s.Iterator)?.States, found);
  }
  return found;
}

async function runOracle(definition, input) {
  resetClock();
  const found = walk(definition.States, { tasks: [], waits: [] });
  const taskResourceLocalHandlers = Object.fromEntries(found.tasks.map(([name]) => [name, async (i) => i]));
  let sm;
  try {
    sm = new StateMachine(definition, { validationOptions: { checkPaths: false, checkArn: false } });
  } catch (e) {
    return { status: 'INVALID', error: e.name, cause: e.message };
  }
  const execution = sm.run(input, {
    overrides: { taskResourceLocalHandlers },
    context: { StateMachine: { Name: MACHINE } },
    noThrowOnAbort: true,
  });
  let timer;
  const limit = new Promise((resolve) => { timer = real.setTimeout(() => { execution.abort(); resolve({ status: 'HUNG' }); }, RUN_LIMIT_MS); });
  const outcome = execution.result.then(
    (output) => ({ status: 'SUCCEEDED', output }),
    (e) => {
      if (e instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT' };
      const cause = e instanceof ExecutionError && e.cause ? e.cause : e;
      return { status: 'FAILED', error: cause.name ?? null, cause: cause.message ?? null };
    },
  );
  try {
    return await Promise.race([outcome, limit]);
  } finally {
    real.clearTimeout(timer);
  }
}

function agrees(expect, got) {
  if (expect.status !== got.status) return false;
  if (expect.status === 'SUCCEEDED') return isDeepStrictEqual(expect.output, got.output);
  if (expect.status === 'FAILED') {
    if ((expect.error ?? null) !== (got.error ?? null)) return false;
    if (expect.cause_contains !== undefined && !String(got.cause ?? '').includes(expect.cause_contains)) return false;
  }
  return true;
}

const files = fs.readdirSync(dir).filter((f) => /^\d{3}-[a-z0-9-]+\.json$/.test(f)).sort();
const others = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !files.includes(f));
let failures = 0;
let ran = 0;
let disagreements = 0;
let skipped = 0;
for (const f of others) {
  failures++;
  console.error(`badly named case file: ${f} (expected NNN-short-name.json)`);
}
const seenNumbers = new Set();
for (const file of files) {
  const number = file.slice(0, 3);
  if (seenNumbers.has(number)) { failures++; console.error(`duplicate case number ${number}: ${file}`); }
  seenNumbers.add(number);
  let c;
  try {
    c = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  } catch (e) {
    failures++;
    console.error(`${file}: not JSON: ${e.message}`);
    continue;
  }
  const problems = checkCase(c);
  const documented = typeof c.oracle_disagrees === 'string' && c.oracle_disagrees.length > 0;
  let skip = null;
  if (!problems.length) {
    if (c.mock_config) skip = 'mock_config (the oracle has no Step Functions Local mocks)';
    else {
      const foreign = walk(c.definition.States, { tasks: [], waits: [] }).tasks.filter(([, r]) => r !== ECHO);
      if (foreign.length) problems.push(`Task states without mocks must use ${ECHO}: ${foreign.map(([n]) => n).join(', ')}`);
    }
  }
  if (problems.length) {
    failures++;
    console.error(`${file}: ${problems.join('; ')}`);
    continue;
  }
  if (skip) {
    skipped++;
    console.log(JSON.stringify({ file, skipped: skip }));
    if (documented) {
      failures++;
      console.error(`STALE oracle_disagrees note: ${file} is not run on the oracle (${skip})`);
    }
    continue;
  }
  ran++;
  const got = await runOracle(c.definition, c.input ?? {});
  const same = agrees(c.expect, got);
  if (!same) disagreements++;
  const line = { file, ran: true, agrees: same, oracle_disagrees_documented: documented };
  if (!same || process.env.ORACLE_VERBOSE) line.oracle = got;
  console.log(JSON.stringify(line));
  if (same === documented) {
    failures++;
    console.error(same
      ? `STALE oracle_disagrees note: ${file} (the oracle agrees with "expect")`
      : `UNDOCUMENTED disagreement: ${file}: expected ${JSON.stringify(c.expect)}, oracle gave ${JSON.stringify(got)}`);
  }
}
console.error(`${files.length} cases: ${ran} run on the oracle, ${skipped} skipped, ${disagreements} documented disagreements expected, ${failures} problems`);
process.exit(failures ? 1 : 0);
