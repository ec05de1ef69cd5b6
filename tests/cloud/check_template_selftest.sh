#!/usr/bin/env bash
# Self-test of check_template.mjs, the CloudFormation template checker.
#
# testdata/sample_template.json must pass. Every testdata/bad_*.json is a copy of it with
# exactly one defect: the checker must exit 1 and print exactly one error line, the one
# listed below (warnings may accompany it). A bad_*.json without an expectation here is a
# failure, so new cases cannot go unchecked. A YAML rendering of the short forms is checked
# too, when the npm package "yaml" is installed under tests/node_modules.
#
# Usage: tests/cloud/check_template_selftest.sh   (NODE overrides the node binary)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node="${NODE:-node}"
checker="$here/check_template.mjs"
data="$here/testdata"

# bad_*.json -> the one error line expected after "FILE: ".
declare -A expected=(
  [bad_unknown_type.json]='Resources.Schedule.Type: unknown resource type AWS::Scheduler::Scheduler (did you mean AWS::Scheduler::Schedule?)'
  [bad_unknown_property.json]='Resources.StateMachine.Properties.TraceConfiguration: unknown property of AWS::StepFunctions::StateMachine (did you mean TracingConfiguration?)'
  [bad_wrong_type.json]='Resources.StateMachine.Properties.LoggingConfiguration.Destinations: expected a list of LogDestination objects, got an object'
  [bad_wildcard_action.json]='Resources.StateMachineRole.Properties.Policies[0].PolicyDocument.Statement[0].Action[0]: wildcard in action "lambda:Invoke*"; list the actions the pipeline needs'
  [bad_passrole_star.json]='Resources.StateMachineRole.Properties.Policies[1].PolicyDocument.Statement[0].Resource: iam:PassRole on every role ("*" or NotResource) allows privilege escalation; name the roles'
  [bad_dangling_ref.json]='Resources.Schedule.Properties.Target.Arn.Ref: PipelineAlias is not a parameter, resource or pseudo parameter'
  [bad_sub_name.json]='Resources.StateMachineRole.Properties.Policies[0].PolicyDocument.Statement[0].Resource[0].Fn::Sub: AWS::AccountID is not a parameter, resource or pseudo parameter (did you mean AWS::AccountId?)'
  [bad_getatt_attribute.json]='Resources.StateMachine.Properties.RoleArn.Fn::GetAtt: AWS::IAM::Role has no attribute RoleArn (it has Arn, RoleId)'
  [bad_missing_substitution.json]='Resources.StateMachine.Properties.Definition: placeholder ${ScoreFunction} has no entry in DefinitionSubstitutions'
)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; shift; printf '  %s\n' "$@"; }

# run FILE...: sets $out (stdout and stderr) and $rc.
run() { rc=0; out="$("$node" "$checker" "$@" 2>&1)" || rc=$?; }

# Lines of $out that are errors, not warnings.
errors() { grep -v -F ': warning: ' <<<"$out" || true; }

# expect_ok NAME FILE RESOURCES
expect_ok() {
  run "$2"
  if [[ $rc -eq 0 && "$(errors)" == "ok: $3 resources checked" ]]; then pass "$1"
  else fail "$1" "expected exit 0 and 'ok: $3 resources checked', got exit $rc:" "$out"; fi
}

# expect_error NAME FILE LINE: exit 1 and LINE is the only error line.
expect_error() {
  run "$2"
  if [[ $rc -eq 1 && "$(errors)" == "$2: $3" ]]; then pass "$1"
  else fail "$1" "expected exit 1 and only '$2: $3', got exit $rc:" "$out"; fi
}

cd "$data"
expect_ok sample_template.json sample_template.json 8

for file in bad_*.json; do
  if [[ -v "expected[$file]" ]]; then expect_error "$file" "$file" "${expected[$file]}"
  else fail "$file" "no expectation listed in $(basename "$0")"; fi
done
for file in "${!expected[@]}"; do
  [[ -f $file ]] || fail "$file" "listed in $(basename "$0") but missing from testdata/"
done

# Several templates in one run: the good one stays silent, the exit status is 1.
run sample_template.json bad_dangling_ref.json bad_wrong_type.json
if [[ $rc -eq 1 && "$(errors | grep -c '^sample_template.json:')" -eq 0 && "$(errors | wc -l)" -eq 2 ]]; then
  pass multiple_templates
else
  fail multiple_templates "expected exit 1 and two error lines, none for sample_template.json; got exit $rc:" "$out"
fi

# Usage and unreadable input.
run
if [[ $rc -eq 2 ]]; then pass usage; else fail usage "expected exit 2 without arguments, got $rc"; fi
run does_not_exist.json
if [[ $rc -eq 1 && "$out" == "does_not_exist.json: cannot read template: "* ]]; then pass missing_file
else fail missing_file "expected exit 1 and 'cannot read template', got exit $rc:" "$out"; fi

# YAML short forms (!Ref, !Sub, !GetAtt ...), if the yaml package is there to read them.
if (cd "$here/.." && "$node" --input-type=module -e "await import('yaml')" 2>/dev/null); then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cat >"$tmp/good.yaml" <<'YAML'
Parameters:
  Env: { Type: String, AllowedValues: [dev, prod], Default: dev }
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/zflow/${AWS::StackName}-${Env}"
      RetentionInDays: !If [IsProd, 365, 30]
Outputs:
  LogsArn:
    Value: !GetAtt Logs.Arn
YAML
  sed -e 's/Logs.Arn/Logs.Name/' "$tmp/good.yaml" >"$tmp/bad.yaml"
  expect_ok yaml_short_forms "$tmp/good.yaml" 1
  expect_error yaml_bad_getatt "$tmp/bad.yaml" 'Outputs.LogsArn.Value.Fn::GetAtt: AWS::Logs::LogGroup has no attribute Name (it has Arn)'
else
  echo "SKIP yaml: the npm package yaml is not installed"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
