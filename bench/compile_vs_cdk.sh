#!/usr/bin/env bash
# Compile time of a 5,000-step pipeline (1,000 stages of 5 parallel Lambda steps) to ASL +
# CloudFormation: zflow (build/bench/pipeline_bench) next to AWS CDK synthesising the same state
# machine (bench/cdk/synth.mjs). Each side prints one JSON line; this prints a table and the ratio.
#
#   bench/compile_vs_cdk.sh [ZFLOW_BENCH_BINARY]     # from the repository root
#
# ZFLOW_BENCH_BINARY defaults to build/bench/pipeline_bench. STAGES, WIDTH and REPEAT in the
# environment override 1000, 5 and 3. Needs node (>= 20) and, the first time, npm to install the
# pinned aws-cdk-lib into bench/cdk/node_modules.
set -euo pipefail

zflow_bin="${1:-build/bench/pipeline_bench}"
stages="${STAGES:-1000}"
width="${WIDTH:-5}"
repeat="${REPEAT:-3}"

if [[ ! -f bench/cdk/synth.mjs ]]; then
  echo "run from the repository root (bench/cdk/synth.mjs not found)" >&2
  exit 2
fi
if [[ ! -x "$zflow_bin" ]]; then
  echo "zflow benchmark binary not found: $zflow_bin (build the pipeline_bench target)" >&2
  exit 2
fi
if [[ ! -d bench/cdk/node_modules ]]; then
  echo "installing aws-cdk-lib into bench/cdk/node_modules ..." >&2
  npm ci --prefix bench/cdk --no-audit --no-fund >&2
fi

args=(--stages "$stages" --width "$width" --repeat "$repeat")
echo "compiling $((stages * width)) steps ($stages stages x $width), best of $repeat ..." >&2
# Each tool prints one JSON line on stdout (the last line, should anything precede it).
zflow_json="$("$zflow_bin" "${args[@]}" | tail -n 1)"
cdk_json="$(node bench/cdk/synth.mjs "${args[@]}" | tail -n 1)"

# The table and the ratios, computed in node from the two JSON lines.
node - "$zflow_json" "$cdk_json" <<'EOF'
const [zflow, cdk] = process.argv.slice(2).map((line, i) => {
  try {
    return JSON.parse(line);
  } catch {
    console.error(`${i === 0 ? 'zflow' : 'CDK'} did not print a JSON line: ${line}`);
    process.exit(1);
  }
});
if (zflow.steps !== cdk.steps) {
  console.error(`step counts differ: zflow ${zflow.steps}, CDK ${cdk.steps}`);
  process.exit(1);
}

const seconds = (x) => (x === undefined ? '-' : `${x.toFixed(3)} s`);
const bytes = (x) => (x === undefined ? '-' : x.toLocaleString('en-US'));
const mb = (x) => (x === undefined ? '-' : `${x.toFixed(1)} MB`);
const times = (a, b) => `${(a / b).toFixed(1)}x`;

const rows = [
  ['tool', 'best', 'median', 'definition bytes', 'template bytes', 'peak RSS'],
  ...[zflow, cdk].map((r) => [
    r.version ? `${r.tool} ${r.version}` : r.tool,
    seconds(r.best_seconds), seconds(r.median_seconds),
    bytes(r.definition_bytes), bytes(r.template_bytes), mb(r.peak_rss_mb),
  ]),
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
const line = (row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c])
                                                    : cell.padStart(widths[c]))).join('  ');
console.log(`${zflow.steps.toLocaleString('en-US')} steps`);
console.log(line(rows[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
rows.slice(1).forEach((row) => console.log(line(row)));
console.log();

console.log(`zflow is ${times(cdk.best_seconds, zflow.best_seconds)} faster ` +
            `(best CDK construct + synth / best zflow compile)`);
if (cdk.import_seconds !== undefined) {
  const withImport = cdk.import_seconds + cdk.best_seconds;
  console.log(`with CDK's module import (${seconds(cdk.import_seconds)}) added: ` +
              `${times(withImport, zflow.best_seconds)} faster`);
}
if (cdk.first_seconds !== undefined && cdk.node_startup_seconds !== undefined) {
  // What one `cdk synth` pays: Node start-up, the import, and a first (cold) construct + synth.
  const cold = cdk.node_startup_seconds + cdk.import_seconds + cdk.first_seconds;
  console.log(`one cold CDK run (start-up + import + first synth, ${seconds(cold)}): ` +
              `${times(cold, zflow.best_seconds)} the best zflow compile`);
}
EOF
