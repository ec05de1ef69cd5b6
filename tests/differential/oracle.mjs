// The aws-local-stepfunctions 3.0.0 oracle, run in-process under a virtual clock.
//
//   import { runOracle } from './oracle.mjs';
//   const r = await runOracle(definition, input);           // {status, output} | {status, error, cause}
//   const f = await runOracle(definition, input, ['pass-falsy-result']);  // with documented bugs fixed
//
// status is SUCCEEDED, FAILED, TIMED_OUT, ABORTED, INVALID (the oracle rejected the definition) or
// HANG (it did not settle). Every Task state echoes its effective input (like `zflow run
// --echo-tasks`).
//
// Virtual clock: instead of waitTimeOverrides (which make the oracle skip SecondsPath/TimestampPath
// evaluation, and so hide the States.Runtime errors AWS raises there) and retryIntervalOverrides,
// globalThis.setTimeout/clearTimeout/Date are replaced by a virtual clock that fires the earliest
// pending timer as soon as the event loop has nothing else to do (the oracle's only asynchrony is
// promises and timers). Waits, retry backoffs and the execution TimeoutSeconds then take no real
// time but keep their order, as `zflow run --virtual-clock` does. Executions must not overlap: run
// one at a time (runOracle serializes itself).
//
// Patched variants: for each entry of known_oracle_bugs.mjs, the oracle's bundle is copied with the
// entry's source patches applied (into .oracle-patched/, next to this file, so that its bare
// imports resolve from tests/node_modules) and imported as a separate module.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KNOWN_ORACLE_BUGS } from './known_oracle_bugs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); Node 20 lacks it.
if (!Promise.withResolvers) {
  Promise.withResolvers = () => {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

// ---------------------------------------------------------------------------------------------
// Virtual clock.
export const real = {
  setTimeout: globalThis.setTimeout.bind(globalThis),
  clearTimeout: globalThis.clearTimeout.bind(globalThis),
  setImmediate: globalThis.setImmediate.bind(globalThis),
  Date: globalThis.Date,
};
const clock = { now: real.Date.now(), timers: new Map(), seq: 0, pumpScheduled: false, fired: 0 };

function pump() {
  clock.pumpScheduled = false;
  if (clock.timers.size === 0) return;
  let best = null;
  for (const t of clock.timers.values()) {
    if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
  }
  clock.timers.delete(best.seq);
  if (best.due > clock.now) clock.now = best.due;
  clock.fired++;
  try {
    best.fn(...best.args);
  } finally {
    schedulePump();
  }
}
function schedulePump() {
  if (clock.pumpScheduled || clock.timers.size === 0) return;
  clock.pumpScheduled = true;
  real.setImmediate(pump);
}
function virtualSetTimeout(fn, ms = 0, ...args) {
  const seq = ++clock.seq;
  const delay = Number.isFinite(Number(ms)) ? Math.max(0, Number(ms)) : 0;
  clock.timers.set(seq, { fn, args, due: clock.now + delay, seq });
  schedulePump();
  return seq;
}
function virtualClearTimeout(id) {
  if (typeof id === 'number') clock.timers.delete(id);
}
class VirtualDate extends real.Date {
  constructor(...args) {
    if (args.length === 0) super(clock.now);
    else super(...args);
  }
  static now() { return clock.now; }
}
globalThis.setTimeout = virtualSetTimeout;
globalThis.clearTimeout = virtualClearTimeout;
globalThis.Date = VirtualDate;

// ---------------------------------------------------------------------------------------------
// Loading the oracle (pristine and patched).
const bundlePath = path.join(path.dirname(require.resolve('aws-local-stepfunctions')), 'main.node.esm.js');
const pkgVersion = JSON.parse(fs.readFileSync(path.join(path.dirname(bundlePath), '..', 'package.json'), 'utf8')).version;
if (pkgVersion !== '3.0.0') throw new Error(`expected aws-local-stepfunctions 3.0.0, found ${pkgVersion} (its source patches are version-specific)`);

const modules = new Map();
async function loadOracle(fixIds = []) {
  const key = [...fixIds].sort().join(',');
  if (modules.has(key)) return modules.get(key);
  let mod;
  if (!key) {
    mod = await import(pathToFileURL(bundlePath).href);
  } else {
    let src = fs.readFileSync(bundlePath, 'utf8');
    for (const id of key.split(',')) {
      const bug = KNOWN_ORACLE_BUGS.find((b) => b.id === id);
      if (!bug) throw new Error(`unknown oracle bug id ${id}`);
      for (const [from, to] of bug.patches) {
        const at = src.indexOf(from);
        if (at < 0 || src.indexOf(from, at + 1) >= 0) throw new Error(`patch for ${id} does not apply exactly once: ${from.slice(0, 80)}`);
        src = src.replace(from, () => to);
      }
    }
    const dir = path.join(here, '.oracle-patched');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `oracle-${crypto.createHash('sha1').update(src).digest('hex').slice(0, 12)}.mjs`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, src);
    mod = await import(pathToFileURL(file).href);
  }
  modules.set(key, mod);
  return mod;
}

// ---------------------------------------------------------------------------------------------
function taskHandlers(definition) {
  const handlers = {};
  const walk = (states) => {
    for (const [name, s] of Object.entries(states || {})) {
      if (s.Type === 'Task') handlers[name] = async (i) => structuredClone(i);
      if (s.Type === 'Parallel') for (const b of s.Branches || []) walk(b.States);
      if (s.Type === 'Map') walk((s.ItemProcessor || s.Iterator || {}).States);
    }
  };
  walk(definition.States);
  return handlers;
}

let queue = Promise.resolve();
export function runOracle(definition, input, fixIds = [], { realTimeoutMs = 20000, maxTimers = 100000 } = {}) {
  const job = queue.then(() => runOne(definition, input, fixIds, realTimeoutMs, maxTimers));
  queue = job.catch(() => {});
  return job;
}

async function runOne(definition, input, fixIds, realTimeoutMs, maxTimers) {
  const { StateMachine, ExecutionError, ExecutionTimeoutError, ExecutionAbortedError } = await loadOracle(fixIds);
  let sm;
  try {
    sm = new StateMachine(structuredClone(definition), { validationOptions: { checkPaths: true, checkArn: false } });
  } catch (e) {
    return { status: 'INVALID', error: e.name, cause: e.message };
  }
  clock.timers.clear();
  clock.now = real.Date.now();
  clock.fired = 0;
  const execution = sm.run(structuredClone(input), {
    overrides: { taskResourceLocalHandlers: taskHandlers(definition) },
    noThrowOnAbort: true,
  });
  let guard;
  const hang = new Promise((resolve) => {
    const check = () => {
      if (clock.fired > maxTimers) resolve({ status: 'HANG', error: 'OracleHang', cause: `more than ${maxTimers} timers fired` });
      else guard = real.setTimeout(check, 50);
    };
    guard = real.setTimeout(check, 50);
    real.setTimeout(() => resolve({ status: 'HANG', error: 'OracleHang', cause: `not settled after ${realTimeoutMs} ms` }), realTimeoutMs).unref();
  });
  const settled = execution.result.then(
    (output) => ({ status: 'SUCCEEDED', output }),
    (e) => {
      if (e instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout', cause: e.message };
      if (e instanceof ExecutionAbortedError) return { status: 'ABORTED', error: e.name, cause: e.message };
      const cause = e instanceof ExecutionError && e.cause ? e.cause : e;
      return { status: 'FAILED', error: cause.name, cause: cause.message };
    },
  );
  const result = await Promise.race([settled, hang]);
  real.clearTimeout(guard);
  if (result.status === 'HANG') execution.abort();
  clock.timers.clear();
  return result;
}
