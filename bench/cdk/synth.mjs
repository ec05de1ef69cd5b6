// AWS CDK half of bench/compile_vs_cdk.sh: builds, with aws-cdk-lib v2, the stack that zflow's
// bench/pipeline_bench.cc compiles, synthesises it, and prints one JSON line with the times.
//
//   node bench/cdk/synth.mjs [--stages 1000] [--width 5] [--repeat 3] [--outdir DIR]
//
// The pipeline: `stages` Parallel states in a row, each with `width` branches of one Lambda
// invoke task. Task s{k}-{i} calls fn-{i} with {"stage": k, "input.$": <payload of s{k-1}-{i}>}
// (stage 0 reads the execution input), retries Lambda.TooManyRequestsException (2 s, 3 attempts,
// backoff 2), times out after 3600 s and stores {"Payload": ...} under $.steps['s{k}-{i}']. Each
// Parallel merges its branches' `steps` objects with nested States.JsonMerge, the same data flow
// as zflow's compiler. Around the state machine (STANDARD): its role (CDK grants
// lambda:InvokeFunction from LambdaInvoke), a log group with level ERROR, an EventBridge rule
// (cron(0 6 * * ? *)) that starts it, and an alarm on ExecutionsFailed.
//
// Timing: module import is measured once (`import_seconds`); each repeat then measures, in the
// same process, constructing App + Stack and `app.synth()` into a fresh temporary directory
// (`first_seconds` is the first of them, `best_seconds` / `median_seconds` over all).
// After the last repeat the synthesised template is checked: its DefinitionString (a Fn::Join,
// since the Lambda and log ARNs hold pseudo-parameter tokens) is joined with placeholder values,
// parsed, and must hold exactly `stages` Parallel states of `width` well-formed branches.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

// performance.now() counts from process start, so this is Node's own start-up time up to here.
const nodeStartupSeconds = performance.now() / 1000;

// ---------------------------------------------------------------------------------------------
// Arguments

function positiveInt(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`synth.mjs: --${name} needs a positive integer, got "${text}"`);
    process.exit(2);
  }
  return n;
}

const { values: args } = parseArgs({
  options: {
    stages: { type: 'string', default: '1000' },
    width: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '3' },
    outdir: { type: 'string' }, // keep the last cloud assembly here instead of deleting it
  },
});
const STAGES = positiveInt('stages', args.stages);
const WIDTH = positiveInt('width', args.width);
const REPEAT = positiveInt('repeat', args.repeat);
if (WIDTH > 10) {
  // Nested States.JsonMerge is limited to 10 levels (zflow switches strategy there too).
  console.error('synth.mjs: --width above 10 is not supported');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Module import, timed once

const importStart = performance.now();
const cdk = await import('aws-cdk-lib');
const sfn = await import('aws-cdk-lib/aws-stepfunctions');
const tasks = await import('aws-cdk-lib/aws-stepfunctions-tasks');
const lambda = await import('aws-cdk-lib/aws-lambda');
const logs = await import('aws-cdk-lib/aws-logs');
const events = await import('aws-cdk-lib/aws-events');
const targets = await import('aws-cdk-lib/aws-events-targets');
const cloudwatch = await import('aws-cdk-lib/aws-cloudwatch');
const importSeconds = (performance.now() - importStart) / 1000;

const require = createRequire(import.meta.url);
const CDK_VERSION = require('aws-cdk-lib/package.json').version;

const STACK_NAME = 'ZflowBench';
const stepName = (stage, i) => `s${stage}-${i}`;
const resultPath = (step) => `$.steps['${step}']`;

// ---------------------------------------------------------------------------------------------
// The stack

function buildApp(outdir) {
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, STACK_NAME);

  const functions = Array.from({ length: WIDTH }, (_, i) =>
    lambda.Function.fromFunctionName(stack, `Fn${i}`, `fn-${i}`));

  // State data is {params, steps}: the execution input and every finished step's result.
  let chain = sfn.Chain.start(new sfn.Pass(stack, 'Initialize', {
    parameters: { params: sfn.JsonPath.entirePayload, steps: {} },
  }));

  for (let k = 0; k < STAGES; ++k) {
    const parallel = new sfn.Parallel(stack, `Parallel ${k + 1}`, {
      // Every branch returns the whole state data; fold their `steps` back into one object.
      resultSelector: {
        params: sfn.JsonPath.objectAt('$[0].params'),
        steps: mergedSteps(WIDTH),
      },
      resultPath: '$',
    });
    for (let i = 0; i < WIDTH; ++i) {
      const name = stepName(k, i);
      const input = k === 0 ? '$.params' : `${resultPath(stepName(k - 1, i))}.Payload`;
      const task = new tasks.LambdaInvoke(stack, name, {
        lambdaFunction: functions[i],
        payload: sfn.TaskInput.fromObject({ stage: k, input: sfn.JsonPath.objectAt(input) }),
        retryOnServiceExceptions: false, // only the explicit retry below, like zflow
        resultSelector: { Payload: sfn.JsonPath.objectAt('$.Payload') },
        resultPath: resultPath(name),
        taskTimeout: sfn.Timeout.duration(cdk.Duration.seconds(3600)),
      });
      task.addRetry({
        errors: ['Lambda.TooManyRequestsException'],
        interval: cdk.Duration.seconds(2),
        maxAttempts: 3,
        backoffRate: 2,
      });
      parallel.branch(task);
    }
    chain = chain.next(parallel);
  }
  chain = chain.next(new sfn.Succeed(stack, 'Done'));

  const logGroup = new logs.LogGroup(stack, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
  const machine = new sfn.StateMachine(stack, 'Pipeline', {
    definitionBody: sfn.DefinitionBody.fromChainable(chain),
    stateMachineType: sfn.StateMachineType.STANDARD,
    logs: { destination: logGroup, level: sfn.LogLevel.ERROR },
  });

  new events.Rule(stack, 'Schedule', {
    schedule: events.Schedule.expression('cron(0 6 * * ? *)'),
    targets: [new targets.SfnStateMachine(machine)],
  });

  machine.metricFailed().createAlarm(stack, 'FailedAlarm', {
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  return app;
}

// States.JsonMerge($[0].steps, $[1].steps, false), nested once per further branch.
function mergedSteps(width) {
  let merged = sfn.JsonPath.objectAt('$[0].steps');
  for (let i = 1; i < width; ++i) {
    merged = sfn.JsonPath.jsonMerge(merged, sfn.JsonPath.objectAt(`$[${i}].steps`));
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Reading the synthesised template

// Joins a CloudFormation string expression, with fixed stand-ins for pseudo parameters and
// `<Logical.Attr>` for other references, so the definition text can be sized and parsed.
const PSEUDO = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': STACK_NAME,
};
function joinCfn(expr) {
  if (typeof expr === 'string') return expr;
  if (expr['Fn::Join']) {
    const [sep, parts] = expr['Fn::Join'];
    return parts.map(joinCfn).join(sep);
  }
  if (expr.Ref) return PSEUDO[expr.Ref] ?? `<${expr.Ref}>`;
  if (expr['Fn::GetAtt']) return `<${[].concat(expr['Fn::GetAtt']).join('.')}>`;
  throw new Error(`unexpected CloudFormation expression in the definition: ${JSON.stringify(expr)}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`structure check failed: ${message}`);
}

// Asserts the definition is the pipeline described at the top; returns the Parallel count.
function checkDefinition(def) {
  const states = Object.entries(def.States);
  const parallels = states.filter(([, s]) => s.Type === 'Parallel');
  check(parallels.length === STAGES, `${parallels.length} Parallel states, expected ${STAGES}`);
  check(states.length === STAGES + 2, `${states.length} top-level states, expected ${STAGES + 2}`);

  let next = def.StartAt; // walk the chain: Initialize, Parallel 1..N, Done
  check(def.States[next]?.Type === 'Pass', 'StartAt is not the Initialize Pass state');
  for (let k = 0; k < STAGES; ++k) {
    next = def.States[next].Next;
    const p = def.States[next];
    check(p?.Type === 'Parallel', `state ${k + 2} of the chain is not a Parallel state`);
    check(p.Branches.length === WIDTH, `${next} has ${p.Branches.length} branches`);
    p.Branches.forEach((branch, i) => {
      const name = stepName(k, i);
      const inner = Object.entries(branch.States);
      check(inner.length === 1 && branch.StartAt === name, `${next} branch ${i} is not just ${name}`);
      const t = branch.States[name];
      const input = k === 0 ? '$.params' : `${resultPath(stepName(k - 1, i))}.Payload`;
      check(t.Type === 'Task' && t.End === true, `${name} is not a final Task state`);
      check(t.Resource === 'arn:aws:states:::lambda:invoke', `${name} resource ${t.Resource}`);
      check(t.Parameters.FunctionName.endsWith(`:function:fn-${i}`), `${name} function`);
      check(t.Parameters.Payload.stage === k, `${name} Payload.stage`);
      check(t.Parameters.Payload['input.$'] === input, `${name} Payload input.$`);
      check(t.ResultSelector['Payload.$'] === '$.Payload', `${name} ResultSelector`);
      check(t.ResultPath === resultPath(name), `${name} ResultPath ${t.ResultPath}`);
      check(t.TimeoutSeconds === 3600, `${name} TimeoutSeconds`);
      const r = t.Retry;
      check(r?.length === 1 && r[0].ErrorEquals.join() === 'Lambda.TooManyRequestsException' &&
            r[0].IntervalSeconds === 2 && r[0].MaxAttempts === 3 && r[0].BackoffRate === 2,
            `${name} Retry ${JSON.stringify(r)}`);
    });
  }
  check(def.States[def.States[next].Next]?.Type === 'Succeed', 'the chain does not end in Done');
  return parallels.length;
}

// Checks the resources around the state machine and measures the template and definition.
function inspect(outdir) {
  const templateFile = path.join(outdir, `${STACK_NAME}.template.json`);
  const text = fs.readFileSync(templateFile, 'utf8');
  const template = JSON.parse(text);
  const resources = Object.values(template.Resources);
  const ofType = (type) => resources.filter((r) => r.Type === type);

  const [machine, ...more] = ofType('AWS::StepFunctions::StateMachine');
  check(machine && more.length === 0, 'expected exactly one state machine');
  check(machine.Properties.StateMachineType === 'STANDARD', 'state machine type');
  check(machine.Properties.LoggingConfiguration?.Level === 'ERROR', 'logging level');
  check(ofType('AWS::Logs::LogGroup').length === 1, 'log group');
  const rules = ofType('AWS::Events::Rule');
  check(rules.length === 1 && rules[0].Properties.ScheduleExpression === 'cron(0 6 * * ? *)',
        'schedule rule');
  const alarms = ofType('AWS::CloudWatch::Alarm');
  check(alarms.length === 1 && alarms[0].Properties.MetricName === 'ExecutionsFailed', 'alarm');
  const invokeGrants = ofType('AWS::IAM::Policy')
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s) => [].concat(s.Action).includes('lambda:InvokeFunction'));
  const granted = JSON.stringify(invokeGrants);
  for (let i = 0; i < WIDTH; ++i) {
    check(granted.includes(`:function:fn-${i}"`), `no lambda:InvokeFunction grant on fn-${i}`);
  }

  const definitionText = joinCfn(machine.Properties.DefinitionString);
  const definition = JSON.parse(definitionText);
  return {
    parallel_states: checkDefinition(definition),
    template_bytes: Buffer.byteLength(text),                              // file as written
    template_compact_bytes: Buffer.byteLength(JSON.stringify(template)),  // without whitespace
    definition_bytes: Buffer.byteLength(definitionText),                  // as CDK emits it
    definition_pretty_bytes: Buffer.byteLength(JSON.stringify(definition, null, 2)),
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement

const times = [];
let lastOutdir;
for (let r = 0; r < REPEAT; ++r) {
  if (lastOutdir) fs.rmSync(lastOutdir, { recursive: true, force: true });
  lastOutdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zflow-cdk-'));
  const start = performance.now();
  buildApp(lastOutdir).synth();
  times.push((performance.now() - start) / 1000);
}
const peakRssMb = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB; taken before checks

let sizes;
try {
  sizes = inspect(lastOutdir);
} finally {
  if (args.outdir) {
    fs.rmSync(args.outdir, { recursive: true, force: true });
    fs.cpSync(lastOutdir, args.outdir, { recursive: true });
  }
  fs.rmSync(lastOutdir, { recursive: true, force: true });
}

// The first repeat also pays for aws-cdk-lib's lazily loaded internals and JIT warm-up, so it
// is reported on its own; best and median follow pipeline_bench (minimum, sorted[floor(n / 2)]).
const firstSeconds = times[0];
times.sort((a, b) => a - b);
const round = (x, digits) => Number(x.toFixed(digits));
console.log(JSON.stringify({
  tool: 'aws-cdk',
  version: CDK_VERSION,
  steps: STAGES * WIDTH,
  best_seconds: round(times[0], 6),
  median_seconds: round(times[Math.floor(times.length / 2)], 6),
  first_seconds: round(firstSeconds, 6),
  import_seconds: round(importSeconds, 6),
  node_startup_seconds: round(nodeStartupSeconds, 6),
  ...sizes,
  peak_rss_mb: round(peakRssMb, 1),
}));
