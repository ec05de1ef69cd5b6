#!/usr/bin/env node
// Differential test: generated state machines run on the aws-local-stepfunctions oracle
// (in-process) and on `zflow run`; results must agree unless a documented oracle bug explains the
// difference (known_oracle_bugs.mjs).
//
//   node run.mjs --zflow ../../build/zflow --count 300 [--seed-start 1] [--keep DIR] [--jobs 2]
//                [--oracle-only] [--validate] [--stats] [--seeds 4,17,99]
//
// --oracle-only (automatic when the binary has no `run` subcommand): run only the oracle and check
// that it accepts every generated machine (never INVALID) and settles; with --validate (implied by
// --oracle-only) every generated machine must also pass `zflow validate`.
// Prints `differential: N cases, M agree, K known-oracle-bugs, F failures` and the details of each
// failure; exits 1 on any failure, 2 on usage errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeCase } from './generate.mjs';
import { runOracle, real } from './oracle.mjs';
import { difference } from './compare.mjs';
import { explainDisagreement } from './known_oracle_bugs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  if (msg) console.error(`run.mjs: ${msg}`);
  console.error('usage: node run.mjs --zflow PATH [--count N] [--seed-start S] [--seeds a,b,c] [--keep DIR] [--jobs N] [--oracle-only] [--validate] [--stats]');
  process.exit(2);
}
function parseArgs(argv) {
  const o = { zflow: path.join(here, '..', '..', 'build', 'zflow'), count: 300, seedStart: 1, keep: null, jobs: 2, oracleOnly: false, validate: false, stats: false, seeds: null, timeoutMs: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    const int = () => { const v = val(); if (!/^-?\d+$/.test(v)) usage(`${a} needs an integer, got ${v}`); return Number(v); };
    switch (a) {
      case '--zflow': o.zflow = path.resolve(val()); break;
      case '--count': o.count = int(); break;
      case '--seed-start': o.seedStart = int(); break;
      case '--seeds': o.seeds = val().split(',').map((s) => { if (!/^-?\d+$/.test(s)) usage(`bad seed ${s}`); return Number(s); }); break;
      case '--keep': o.keep = path.resolve(val()); break;
      case '--jobs': o.jobs = Math.max(1, int()); break;
      case '--timeout-ms': o.timeoutMs = int(); break;
      case '--oracle-only': o.oracleOnly = true; break;
      case '--validate': o.validate = true; break;
      case '--stats': o.stats = true; break;
      case '-h': case '--help': usage();
      // falls through
      default: usage(`unknown argument ${a}`);
    }
  }
  return o;
}

function zflowHasRun(zflow) {
  const r = spawnSync(zflow, ['--help'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: r.error.message };
  return { ok: /^\s+run\b/m.test(`${r.stdout}${r.stderr}`), why: 'its --help lists no `run` subcommand' };
}

// Runs `zflow run` on one case; resolves {status, output?, error?, cause?, exitCode, stderr}.
function runZflow(zflow, defFile, inputFile, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(zflow, ['run', defFile, '--input-file', inputFile, '--virtual-clock', '--echo-tasks', '--result-json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = real.setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { real.clearTimeout(timer); resolve({ status: 'SPAWN_ERROR', error: e.message, exitCode: null, stderr }); });
    child.on('close', (code, signal) => {
      real.clearTimeout(timer);
      if (timedOut) return resolve({ status: 'HANG', error: `no result after ${timeoutMs} ms`, exitCode: null, stderr });
      const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      const last = lines[lines.length - 1];
      let parsed = null;
      try { parsed = JSON.parse(last); } catch { /* reported below */ }
      if (!parsed || typeof parsed !== 'object' || typeof parsed.status !== 'string') {
        return resolve({ status: 'NO_RESULT_JSON', error: `exit ${code ?? signal}; last stdout line: ${JSON.stringify(last ?? '')}`, exitCode: code, stderr });
      }
      const expectedExit = { SUCCEEDED: 0, FAILED: 1, TIMED_OUT: 3, ABORTED: 3 }[parsed.status];
      const r = { status: parsed.status, output: parsed.output, error: parsed.error, cause: parsed.cause, exitCode: code, stderr };
      if (expectedExit === undefined || code !== expectedExit) r.contractViolation = `status ${parsed.status} with exit code ${code ?? signal} (contract: ${expectedExit ?? 'unknown status'})`;
      resolve(r);
    });
  });
}

// A pool that runs at most `n` async jobs at once.
function pool(n) {
  let active = 0;
  const waiting = [];
  const next = () => {
    if (active >= n || waiting.length === 0) return;
    active++;
    const { fn, resolve } = waiting.shift();
    fn().then(resolve, resolve).finally(() => { active--; next(); });
  };
  return (fn) => new Promise((resolve) => { waiting.push({ fn, resolve }); next(); });
}

function validateAll(zflow, files) {
  const bad = new Map();
  for (let i = 0; i < files.length; i += 100) {
    const batch = files.slice(i, i + 100);
    const r = spawnSync(zflow, ['validate', '--json', ...batch], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) throw new Error(`zflow validate: ${r.error.message}`);
    let diags;
    try { diags = JSON.parse(r.stdout); } catch { throw new Error(`zflow validate --json printed no JSON (exit ${r.status}): ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`); }
    for (const d of diags) {
      if (d.severity !== 'error') continue;
      if (!bad.has(d.file)) bad.set(d.file, []);
      bad.get(d.file).push(`${d.path} ${d.code}: ${d.message}`);
    }
    if (r.status !== 0 && diags.length === 0) throw new Error(`zflow validate exited ${r.status}: ${r.stderr.slice(0, 300)}`);
  }
  return bad;
}

function collectStats(definition, stats) {
  const bump = (k) => { stats[k] = (stats[k] || 0) + 1; };
  const walk = (states, nested) => {
    for (const s of Object.values(states)) {
      bump(`state:${s.Type}${nested ? ' (nested)' : ''}`);
      for (const f of ['InputPath', 'OutputPath', 'ResultPath', 'Parameters', 'ResultSelector', 'ItemSelector', 'Retry', 'Catch', 'SecondsPath', 'Timestamp', 'TimestampPath', 'Seconds', 'ErrorPath', 'CausePath', 'MaxConcurrency', 'ItemsPath']) {
        if (f in s) bump(`field:${f}`);
      }
      if (s.ResultPath === null) bump('field:ResultPath=null');
      if (s.ResultPath === '$') bump('field:ResultPath=$');
      if (s.Type === 'Parallel') for (const b of s.Branches) walk(b.States, true);
      if (s.Type === 'Map') walk(s.ItemProcessor.States, true);
    }
  };
  walk(definition.States, false);
  const text = JSON.stringify(definition);
  for (const m of text.matchAll(/States\.[A-Za-z0-9]+\(/g)) bump(`intrinsic:${m[0].slice(0, -1)}`);
  for (const m of text.matchAll(/"(And|Or|Not|String\w+|Numeric\w+|Boolean\w+|Timestamp(?:Equals|LessThan|GreaterThan)\w*|Is\w+)":/g)) bump(`choice:${m[1].replace(/Path$/, '') }${m[1].endsWith('Path') ? '(Path)' : ''}`);
  if (definition.TimeoutSeconds !== undefined) bump('machine:TimeoutSeconds');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const seeds = opts.seeds ?? Array.from({ length: opts.count }, (_, i) => opts.seedStart + i);
  if (!fs.existsSync(opts.zflow)) usage(`no zflow binary at ${opts.zflow}`);
  const runSupport = zflowHasRun(opts.zflow);
  if (!opts.oracleOnly && !runSupport.ok) {
    console.log(`note: ${opts.zflow} cannot run machines yet (${runSupport.why}); checking the generator and the oracle only (--oracle-only)`);
    opts.oracleOnly = true;
  }
  if (opts.oracleOnly) opts.validate = true;
  const dir = opts.keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zflow-differential-'));
  fs.mkdirSync(dir, { recursive: true });

  const limit = pool(opts.jobs);
  const cases = [];
  const stats = {};
  const outcomes = {};
  for (const seed of seeds) {
    const { definition, input, defFile, inputFile } = writeCase(seed, dir);
    if (opts.stats) collectStats(definition, stats);
    const oracle = await runOracle(definition, input);
    const key = oracle.status === 'FAILED' ? `FAILED ${oracle.error}` : oracle.status;
    outcomes[key] = (outcomes[key] || 0) + 1;
    const c = { seed, definition, input, defFile, inputFile, oracle };
    if (!opts.oracleOnly) c.zflowPromise = limit(() => runZflow(opts.zflow, defFile, inputFile, opts.timeoutMs));
    cases.push(c);
  }

  const failures = [];
  let agree = 0;
  let known = 0;
  const knownById = {};
  const validation = opts.validate ? validateAll(opts.zflow, cases.map((c) => c.defFile)) : new Map();
  for (const c of cases) {
    const problems = [];
    if (c.oracle.status === 'INVALID') problems.push(`oracle rejects the generated definition: ${c.oracle.cause}`);
    if (c.oracle.status === 'HANG') problems.push(`oracle did not settle: ${c.oracle.cause}`);
    if (validation.has(c.defFile)) problems.push(`zflow validate rejects the generated definition:\n      ${validation.get(c.defFile).join('\n      ')}`);
    if (!opts.oracleOnly && problems.length === 0) {
      c.zflow = await c.zflowPromise;
      const z = c.zflow;
      if (!['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'].includes(z.status)) {
        problems.push(`zflow: ${z.status}: ${z.error}${z.stderr ? `\n      stderr: ${z.stderr.trim().split('\n').slice(-5).join('\n      ')}` : ''}`);
      } else {
        if (z.contractViolation) problems.push(`zflow exit code: ${z.contractViolation}`);
        const diff = difference(c.oracle, z);
        if (diff) {
          const why = await explainDisagreement(c.definition, c.input, c.oracle, z);
          if (why && !z.contractViolation) {
            known++;
            for (const id of why.ids) knownById[id] = (knownById[id] || 0) + 1;
            c.known = why.reason;
            continue;
          }
          problems.push(diff);
        }
      }
    }
    if (problems.length) failures.push({ c, problems });
    else agree++;
  }

  // Report.
  for (const { c, problems } of failures) {
    console.log(`\nFAIL seed ${c.seed}: ${c.defFile} ${c.inputFile}`);
    for (const p of problems) console.log(`  - ${p}`);
    console.log(`  oracle: ${JSON.stringify(c.oracle).slice(0, 600)}`);
    if (c.zflow) console.log(`  zflow:  ${JSON.stringify({ ...c.zflow, stderr: undefined }).slice(0, 600)}`);
    console.log(`  rerun:  node ${path.relative(process.cwd(), path.join(here, 'run.mjs'))} --zflow ${opts.zflow} --seeds ${c.seed}`);
  }
  if (opts.stats) {
    console.log('\ncoverage (occurrences over all generated machines):');
    for (const [k, v] of Object.entries(stats).sort()) console.log(`  ${k}: ${v}`);
  }
  console.log(`\noracle outcomes: ${Object.entries(outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (Object.keys(knownById).length) console.log(`known oracle bugs hit: ${Object.entries(knownById).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (opts.oracleOnly) console.log(`mode: oracle only (${opts.validate ? 'with' : 'without'} zflow validate)`);
  if (!opts.keep) {
    const failing = new Set(failures.map((f) => f.c.seed));
    for (const c of cases) {
      if (!failing.has(c.seed)) { fs.rmSync(c.defFile, { force: true }); fs.rmSync(c.inputFile, { force: true }); }
    }
    if (failing.size === 0) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`failing cases kept in ${dir}`);
  }
  console.log(`differential: ${cases.length} cases, ${agree} agree, ${known} known-oracle-bugs, ${failures.length} failures`);
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(2);
});
