// zflow's JSONata next to the reference implementation (jsonata-js, from tests/node_modules):
// compile and evaluation times of the workloads bench/jsonata_bench.cc defines, and a check that
// both sides compute the same results.
//
//   node bench/jsonata_vs_reference.mjs build/bench/jsonata_bench [OPTIONS] [WORKLOAD...]
//     --samples N, --sample-ms MS, --warmup-ms MS   as jsonata_bench takes them (passed on)
//
// The C++ program owns the workloads and their inputs: this script reads them with --describe
// and --write-inputs, so both sides run the same expressions on the same bytes. Each side times
// the same way: warm up, calibrate the repetitions that fill one sample, then take the best and
// the median per-operation time over the samples. The reference's evaluate returns a promise;
// it is awaited, as a caller has to. The ratio is reference / zflow (above 1: zflow is faster),
// from the medians. Results are compared through a digest of their canonical text (members
// sorted, JSON.stringify's numbers and strings); a mismatch is reported and makes the exit status
// 1, and `jsonata_bench --result WORKLOAD` prints zflow's canonical text to compare by hand.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = resolve(here, "../tests/node_modules");
const jsonataDir = join(modules, "jsonata");
const jsonata = createRequire(join(modules, "noop.js"))("jsonata");
const referenceVersion = JSON.parse(readFileSync(join(jsonataDir, "package.json"), "utf8")).version;

function usage() {
  console.error(
    "usage: node bench/jsonata_vs_reference.mjs JSONATA_BENCH [--samples N] [--sample-ms MS] " +
      "[--warmup-ms MS] [WORKLOAD...]",
  );
  process.exit(2);
}

const [bench, ...rest] = process.argv.slice(2);
if (!bench || bench.startsWith("-")) usage();
const settings = { samples: 15, sampleMs: 5, warmupMs: 200 };
const settingFlags = {
  "--samples": "samples",
  "--sample-ms": "sampleMs",
  "--warmup-ms": "warmupMs",
};
const passOn = [];
const names = [];
for (let i = 0; i < rest.length; i++) {
  const flag = rest[i];
  const key = settingFlags[flag];
  if (key) {
    const v = Number(rest[++i]);
    if (!Number.isInteger(v) || v <= 0) usage();
    settings[key] = v;
    passOn.push(flag, String(v));
  } else if (flag.startsWith("-")) {
    usage();
  } else {
    names.push(flag);
  }
}

function runBench(args) {
  return execFileSync(bench, args, { encoding: "utf8", maxBuffer: 1 << 26 });
}
const jsonLines = (text) =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));

// ---- Workloads and inputs, from the C++ program ----
let workloads = jsonLines(runBench(["--describe"]));
if (names.length > 0) {
  const unknown = names.filter((n) => !workloads.some((w) => w.name === n));
  if (unknown.length > 0) {
    const known = workloads.map((w) => w.name).join(", ");
    console.error(`unknown workload(s) ${unknown.join(", ")}; known: ${known}`);
    process.exit(2);
  }
  workloads = workloads.filter((w) => names.includes(w.name));
}
const inputDir = mkdtempSync(join(tmpdir(), "jsonata-bench-"));
let documents;
try {
  runBench(["--write-inputs", inputDir]);
  const wanted = new Set(workloads.flatMap((w) => [w.input, w.bindings]).filter((n) => n));
  const read = (name) => JSON.parse(readFileSync(join(inputDir, `${name}.json`), "utf8"));
  documents = Object.fromEntries([...wanted].map((name) => [name, read(name)]));
} finally {
  rmSync(inputDir, { recursive: true, force: true });
}

// ---- Canonical results: what jsonata_bench's Canonical() writes ----
function canonical(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) {
    const element = (e) => (e === undefined || typeof e === "function" ? "null" : canonical(e));
    return "[" + v.map(element).join(",") + "]";
  }
  switch (typeof v) {
    case "number":
    case "boolean":
    case "string":
      return JSON.stringify(v);
    case "object": {
      // Code-unit order, as C++'s byte order for the ASCII names the workloads produce; an
      // explicit sort, since JavaScript lists integer-like keys first whatever their order.
      const keys = Object.keys(v)
        .filter((k) => v[k] !== undefined && typeof v[k] !== "function")
        .sort();
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
    }
    default:
      return "null";
  }
}
const topLevel = (v) => (v === undefined || typeof v === "function" ? "undefined" : canonical(v));

function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) hash = Math.imul(hash ^ byte, 16777619) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

// ---- Timing: the same procedure as jsonata_bench's Measure() ----
async function measure(operation) {
  const warmStart = performance.now();
  let warm = 0;
  while (warm === 0 || performance.now() - warmStart < settings.warmupMs) {
    await operation();
    warm++;
  }
  const perOperationUs = ((performance.now() - warmStart) * 1000) / warm;
  const repetitions = Math.max(1, Math.floor((settings.sampleMs * 1000) / perOperationUs));
  const perOp = [];
  for (let s = 0; s < settings.samples; s++) {
    const start = performance.now();
    for (let r = 0; r < repetitions; r++) await operation();
    perOp.push(((performance.now() - start) * 1000) / repetitions);
  }
  perOp.sort((a, b) => a - b);
  const n = perOp.length;
  const median = n % 2 === 1 ? perOp[(n - 1) / 2] : (perOp[n / 2 - 1] + perOp[n / 2]) / 2;
  return { operations: repetitions * n, best: perOp[0], median };
}

async function runReference(w) {
  const input = documents[w.input];
  const bindings = w.bindings ? documents[w.bindings] : undefined;
  let result;
  try {
    result = await jsonata(w.expression).evaluate(input, bindings);
  } catch (e) {
    return { error: `${e.code ?? ""} ${e.message}`.trim() };
  }
  const text = topLevel(result);
  const out = { result: { bytes: Buffer.byteLength(text, "utf8"), fnv1a: fnv1a(text) } };
  out.compile = await measure(() => jsonata(w.expression));
  if (w.evaluate) {
    const expression = jsonata(w.expression);
    out.evaluate = await measure(() => expression.evaluate(input, bindings));
  }
  return out;
}

// ---- Run both sides (one after the other, never at once) ----
const zflowRuns = new Map();
let zflowFailed = false;
try {
  for (const line of jsonLines(runBench([...passOn, ...workloads.map((w) => w.name)]))) {
    zflowRuns.set(line.workload, line);
  }
} catch (e) {
  // A workload that fails exits 1 but still prints every line.
  zflowFailed = true;
  for (const line of jsonLines(e.stdout ?? "")) zflowRuns.set(line.workload, line);
  if (zflowRuns.size === 0) console.error(`${bench} failed: ${e.message}`);
}
const referenceRuns = new Map();
for (const w of workloads) referenceRuns.set(w.name, await runReference(w));

// ---- Report ----
const fmt = (us) => us.toFixed(us >= 100 ? 0 : us >= 1 ? 2 : 3);
const ratio = (ref, z) => (ref === undefined || z === undefined ? "-" : (ref / z).toFixed(2) + "x");
console.log(`reference: jsonata ${referenceVersion} (${jsonataDir}), node ${process.version}`);
console.log(`zflow:     ${resolve(bench)}`);
console.log(
  `${settings.samples} samples of ~${settings.sampleMs} ms after ${settings.warmupMs} ms ` +
    "of warm-up; " +
    "µs per operation, median (best); ratio = reference / zflow, from the medians",
);
console.log("");
const header = ["workload", "phase", "reference µs", "zflow µs", "ratio"];
const rows = [];
const problems = [];
for (const w of workloads) {
  const ref = referenceRuns.get(w.name);
  const z = zflowRuns.get(w.name);
  if (ref.error) problems.push(`${w.name}: the reference failed: ${ref.error}`);
  if (!z) problems.push(`${w.name}: jsonata_bench printed no line`);
  else if (z.error) problems.push(`${w.name}: zflow failed: ${z.error}`);
  const differ = (a, b) => a.bytes !== b.bytes || a.fnv1a !== b.fnv1a;
  if (ref.result && z?.result && differ(ref.result, z.result)) {
    problems.push(
      `${w.name}: RESULT MISMATCH: ` +
        `reference ${ref.result.bytes} bytes, fnv1a ${ref.result.fnv1a}; ` +
        `zflow ${z.result.bytes} bytes, fnv1a ${z.result.fnv1a} ` +
        `(${bench} --result ${w.name} prints zflow's)`,
    );
  }
  const phases = w.evaluate ? ["compile", "evaluate"] : ["compile"];
  for (const phase of phases) {
    const r = ref[phase];
    const zt = z?.[`${phase}_us`] ?? undefined;
    rows.push([
      w.name,
      phase,
      r ? `${fmt(r.median)} (${fmt(r.best)})` : "-",
      zt ? `${fmt(zt.median)} (${fmt(zt.best)})` : "-",
      ratio(r?.median, zt?.median),
    ]);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const pad = (cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]));
const printRow = (r) => console.log(r.map(pad).join("  "));
printRow(header);
printRow(widths.map((n) => "-".repeat(n)));
rows.forEach(printRow);
console.log("");
if (problems.length === 0 && !zflowFailed) {
  console.log(`results: all ${workloads.length} workloads agree with the reference`);
} else {
  for (const p of problems) console.log(p);
  process.exitCode = 1;
}
