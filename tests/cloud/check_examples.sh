#!/usr/bin/env bash
# Compiles the example pipelines and checks what comes out:
#  - the C++, the YAML and the Python fraud pipeline compile to byte-identical files (the
#    Python one when zflow's Python module is built);
#  - the ASL passes zflow validate and the asl-validator oracle;
#  - the templates (JSON and YAML) pass the resource-specification and IAM checks;
#  - the fraud pipeline compiled with --query-language JSONata validates, and its template grants
#    exactly what the JSONPath one grants (the same resources but for the definition);
#  - the files match the golden copies in tests/golden/ (UPDATE_GOLDEN=1 rewrites them).
# Usage: check_examples.sh ZFLOW FRAUD_PIPELINE_BINARY   (run from tests/, node on PATH)
set -euo pipefail
zflow=$1
fraud=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$fraud" compile -o "$out/fraud-cxx" >/dev/null
"$zflow" compile "$root/examples/fraud-detection/fraud_pipeline.yaml" -o "$out/fraud-yaml" >/dev/null
"$zflow" compile "$root/examples/tuned-deploy/tuned_deploy.yaml" -o "$out/tuned" 2>/dev/null >/dev/null
"$zflow" compile "$root/examples/fraud-detection/fraud_pipeline.yaml" -o "$out/fraud-jsonata" \
  --query-language JSONata >/dev/null
node -e '
  const fs = require("fs");
  const [a, b] = process.argv.slice(1).map(f => JSON.parse(fs.readFileSync(f, "utf8")));
  for (const t of [a, b]) {
    for (const r of Object.values(t.Resources)) {
      if (r.Properties) { delete r.Properties.Definition; delete r.Properties.DefinitionString; }
    }
  }
  process.exit(JSON.stringify(a.Resources) === JSON.stringify(b.Resources) ? 0 : 1);
' "$out/fraud-yaml/template.json" "$out/fraud-jsonata/template.json" ||
  fail "fraud-jsonata: the template's resources differ from the JSONPath one's"

python_module=$(dirname "$zflow")/python/zflow/__init__.py
if [[ -e "$python_module" ]]; then
  "$zflow" compile "$root/examples/fraud-detection/fraud_pipeline.py" -o "$out/fraud-py" >/dev/null
else
  echo "note: the Python module is not built; the Python fraud pipeline is not compared"
fi
for f in statemachine.asl.json template.json template.yaml graph.svg; do
  cmp -s "$out/fraud-cxx/$f" "$out/fraud-yaml/$f" || fail "fraud $f differs between C++ and YAML"
  if [[ -e "$python_module" ]]; then
    cmp -s "$out/fraud-py/$f" "$out/fraud-yaml/$f" || fail "fraud $f differs between Python and YAML"
  fi
done

for dir in fraud-yaml tuned fraud-jsonata; do
  "$zflow" validate -q "$out/$dir/statemachine.asl.json" || fail "$dir: zflow validate"
  node "$root/tests/node_modules/.bin/asl-validator" --silent --json-path "$out/$dir/statemachine.asl.json" ||
    fail "$dir: asl-validator"
  node "$root/tests/cloud/check_template.mjs" "$out/$dir/template.json" "$out/$dir/template.yaml" >/dev/null ||
    { node "$root/tests/cloud/check_template.mjs" "$out/$dir/template.json" "$out/$dir/template.yaml" || true; fail "$dir: template check"; }
  head -c 5 "$out/$dir/graph.svg" | grep -q '<' || fail "$dir: graph.svg is not SVG"
  for f in statemachine.asl.json template.json template.yaml; do
    golden="$root/tests/golden/$dir/$f"
    if [[ "${UPDATE_GOLDEN:-}" == 1 ]]; then
      mkdir -p "$(dirname "$golden")"
      cp "$out/$dir/$f" "$golden"
    elif ! cmp -s "$out/$dir/$f" "$golden"; then
      diff -u "$golden" "$out/$dir/$f" | head -20 || true
      fail "$dir/$f differs from the golden copy (UPDATE_GOLDEN=1 to accept)"
    fi
  done
done

# Nothing is written when the pipeline does not compile.
bad="$out/bad.yaml"
sed 's/after: \[model\]/after: [modle]/' "$root/examples/tuned-deploy/tuned_deploy.yaml" >"$bad"
if "$zflow" compile "$bad" -o "$out/never" 2>/dev/null; then fail "a bad pipeline compiled"; fi
[[ ! -e "$out/never" ]] || fail "a failed compile wrote files"

if ((failures > 0)); then echo "$failures failure(s)"; exit 1; fi
echo "ok: examples compile; C++ = YAML (= Python when built); validators, template checks and golden files agree"
