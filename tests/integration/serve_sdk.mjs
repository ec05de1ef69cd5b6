// zflow serve driven by the AWS SDK for JavaScript v3 (@aws-sdk/client-sfn) as a user drives Step
// Functions: machines, executions followed with paginators, history forward and reverse, stop,
// task tokens, redrive, versions and aliases, StartSyncExecution on an EXPRESS machine, TestState,
// ValidateStateMachineDefinition, tags, activities and AWS's error codes, against a server without
// credentials; then signing against a server with credentials. Every answer is checked against
// the SDK's own (current) API model as it arrives: no member the model lacks, every required
// member, the right JSON types.
// Usage (from tests/, so that the SDK resolves): node integration/serve_sdk.mjs ZFLOW
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import * as sdk from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const {
  SFNClient, paginateGetExecutionHistory, paginateListExecutions,
  CreateActivityCommand, CreateStateMachineAliasCommand, CreateStateMachineCommand,
  DeleteActivityCommand, DeleteStateMachineCommand, DeleteStateMachineVersionCommand,
  DescribeActivityCommand, DescribeExecutionCommand, DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand, DescribeStateMachineForExecutionCommand, GetActivityTaskCommand,
  GetExecutionHistoryCommand, ListActivitiesCommand, ListExecutionsCommand,
  ListStateMachineAliasesCommand, ListStateMachinesCommand, ListStateMachineVersionsCommand,
  ListTagsForResourceCommand, PublishStateMachineVersionCommand, RedriveExecutionCommand,
  SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, StartExecutionCommand,
  StartSyncExecutionCommand, StopExecutionCommand, TagResourceCommand, TestStateCommand,
  UntagResourceCommand, UpdateStateMachineAliasCommand, UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
} = sdk;

const ROLE = 'arn:aws:iam::123456789012:role/zflow-test';
const PREFIX = 'arn:aws:states:us-east-1:123456789012';
const PASS = JSON.stringify({
  StartAt: 'P', States: {
    P: { Type: 'Pass', Parameters: { 'got.$': '$.x' }, Next: 'Q' }, Q: { Type: 'Pass', End: true },
  },
});
const V2 = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 'v2', End: true } } });
// Nothing local serves SQS: the token goes out in the TaskScheduled event only.
const TOKEN = JSON.stringify({
  StartAt: 'Ask', States: {
    Ask: {
      Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: {
        QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
        MessageBody: { 'token.$': '$$.Task.Token', 'x.$': '$.x' },
      },
      End: true,
    },
  },
});
const EXPRESS = JSON.stringify({
  StartAt: 'W', States: {
    W: { Type: 'Wait', Seconds: 1, Next: 'P' },
    P: { Type: 'Pass', Parameters: { 'sum.$': 'States.MathAdd($.a, $.b)' }, End: true },
  },
});

class Failure extends Error {}
const check = (condition, message) => {
  if (!condition) throw new Failure(message);
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const expectEq = (what, got, expected) =>
  check(same(got, expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
const isDate = (d) => d instanceof Date && !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 2020;

// A call that must fail with AWS error `code` and HTTP 400.
async function expectError(code, sfn, command) {
  let result;
  try {
    result = await sfn.send(command);
  } catch (e) {
    check(e.name === code, `${command.constructor.name}: expected ${code}, got ${e.name}: ${e.message}`);
    check(e.$metadata?.httpStatusCode === 400,
      `${command.constructor.name}: ${code} came with HTTP ${e.$metadata?.httpStatusCode}`);
    check(e.message, `${command.constructor.name}: ${code} without a message`);
    return e;
  }
  throw new Failure(`${command.constructor.name} succeeded, expected ${code}: ${JSON.stringify(result)}`);
}

// ---- answers checked against the SDK's model ----
// The SDK describes each shape as a schema: [3 structure | 1 list | 2 map | 0 wrapper | -3 error,
// namespace, name, traits, ...]; a structure lists its members' names and schemas, the first
// `required` of them required; a bare number is a simple type (0 string, 1 number, 2 boolean,
// 4-7 timestamp, 15 document, 21 blob; | 64 a list of it, | 128 a map of it).
const modelProblems = [];
let answersChecked = 0;

function resolve(schema) {
  for (;;) {
    if (typeof schema === 'function') schema = schema();
    else if (Array.isArray(schema) && typeof schema[0] === 'function') schema = schema[0];
    else return schema;
  }
}

function checkSimple(value, type, where) {
  if (type & 64) {
    if (!Array.isArray(value)) modelProblems.push(`${where}: must be a list, got ${JSON.stringify(value)}`);
    else value.forEach((v, i) => checkSimple(v, type & 63, `${where}[${i}]`));
    return;
  }
  if (type & 128) {
    if (typeof value !== 'object' || Array.isArray(value)) modelProblems.push(`${where}: must be an object`);
    return;
  }
  const expected = { 0: 'string', 1: 'number', 2: 'boolean', 4: 'number', 5: 'number', 6: 'number',
    7: 'number', 17: 'number', 19: 'number', 21: 'string' }[type];
  // awsJson1_0 sends timestamps as epoch seconds.
  if (expected && typeof value !== expected) {
    modelProblems.push(`${where}: must be a ${type >= 4 && type <= 7 ? 'date (epoch seconds)' : expected}, ` +
      `got ${JSON.stringify(value)}`);
  }
}

function checkShape(value, schema, where) {
  const s = resolve(schema);
  if (typeof s === 'number') return checkSimple(value, s, where);
  if (value === null) return undefined;
  switch (s[0]) {
    case 0:
      return checkShape(value, s[4], where);
    case 1:
      if (!Array.isArray(value)) return modelProblems.push(`${where}: ${s[2]} must be a list`);
      return value.forEach((v, i) => checkShape(v, s[4], `${where}[${i}]`));
    case 2:
      if (typeof value !== 'object' || Array.isArray(value)) {
        return modelProblems.push(`${where}: ${s[2]} must be an object`);
      }
      return Object.entries(value).forEach(([k, v]) => checkShape(v, s[5], `${where}.${k}`));
    case 3: {
      if (typeof value !== 'object' || Array.isArray(value)) {
        return modelProblems.push(`${where}: ${s[2]} must be an object, got ${JSON.stringify(value)}`);
      }
      const [names, schemas, required = 0] = [s[4], s[5], s[6]];
      for (const [k, v] of Object.entries(value)) {
        const i = names.indexOf(k);
        if (i < 0) modelProblems.push(`${where}.${k}: ${s[2]} has no member '${k}'`);
        else checkShape(v, schemas[i], `${where}.${k}`);
      }
      for (const k of names.slice(0, required)) {
        if (!(k in value)) modelProblems.push(`${where}: ${s[2]} lacks its required member '${k}'`);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

// The SDK's HTTP handler, reading each answer once more to check it against the model.
class CheckingHandler {
  constructor() {
    this.inner = new NodeHttpHandler();
  }

  async handle(request, options) {
    const { response } = await this.inner.handle(request, options);
    const chunks = [];
    for await (const chunk of response.body) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    response.body = Readable.from([Buffer.from(text, 'utf8')]);
    const action = (request.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
    ++answersChecked;
    const header = (name) => Object.entries(response.headers)
      .find(([k]) => k.toLowerCase() === name)?.[1];
    if (!header('x-amzn-requestid')) modelProblems.push(`${action}: no x-amzn-RequestId header`);
    if (!(header('content-type') ?? '').startsWith('application/x-amz-json-1.0')) {
      modelProblems.push(`${action}: Content-Type is ${header('content-type')}`);
    }
    let body;
    try {
      body = JSON.parse(text || '{}');
    } catch {
      modelProblems.push(`${action}: the answer is not JSON: ${text.slice(0, 200)}`);
      return { response };
    }
    if (response.statusCode >= 300) {
      if (typeof body.__type !== 'string') modelProblems.push(`${action}: an error without __type: ${text}`);
    } else {
      const operation = sdk[`${action}$`];
      if (!operation) modelProblems.push(`${action}: the SDK has no such operation`);
      else checkShape(body, operation[5], action);
    }
    return { response };
  }

  updateHttpClientConfig(key, value) {
    this.inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs() {
    return this.inner.httpHandlerConfigs();
  }

  destroy() {
    this.inner.destroy();
  }
}

const clients = [];
function client(endpoint, { accessKeyId = 'AKIDZFLOW', secretAccessKey = 's3cret' } = {}) {
  const c = new SFNClient({
    endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    // StartSyncExecution and TestState would go to "sync-<host>": a local endpoint has no such name.
    disableHostPrefix: true,
    requestHandler: new CheckingHandler(),
  });
  clients.push(c);
  return c;
}

// ---- the server ----

async function startServer(zflow, dataDir, ...args) {
  const process = spawn(zflow, ['serve', '--port', '0', '--data-dir', dataDir, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  process.stdout.on('data', (d) => { output += d; });
  process.stderr.on('data', (d) => { output += d; });
  for (let i = 0; i < 200 && process.exitCode === null; ++i) {
    const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) {
      return {
        endpoint: m[1],
        async stop() {
          // Idle keep-alive connections would hold the server's exit for its keep-alive timeout.
          clients.splice(0).forEach((c) => c.destroy());
          if (process.exitCode !== null) return;
          const exited = new Promise((r) => process.once('exit', r));
          process.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(50);
  }
  process.kill('SIGKILL');
  throw new Failure(`zflow serve did not start: ${output}`);
}

// ---- the scenario ----

async function awaitStatus(sfn, executionArn, status) {
  let described;
  for (let i = 0; i < 100; ++i) {
    described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status === status) return described;
    if (described.status !== 'RUNNING') break;
    await sleep(50);
  }
  throw new Failure(`${executionArn} is ${described.status}, expected ${status}`);
}

// The token of the newest TaskScheduled event, once it differs from `previous`.
async function awaitToken(sfn, executionArn, previous) {
  for (let i = 0; i < 100; ++i) {
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));
    const scheduled = events.find((e) => e.type === 'TaskScheduled');
    if (scheduled) {
      const token = JSON.parse(scheduled.taskScheduledEventDetails.parameters).MessageBody.token;
      if (token !== previous) return token;
    }
    await sleep(50);
  }
  throw new Failure(`no new task token in the history of ${executionArn}`);
}

async function collect(pages, key) {
  const out = [];
  for await (const page of pages) out.push(page[key]);
  return out;
}

async function machinesAndExecutions(sfn) {
  const created = await sfn.send(new CreateStateMachineCommand({
    name: 'pass', definition: PASS, roleArn: ROLE, tags: [{ key: 'team', value: 'ml' }],
  }));
  const pass = created.stateMachineArn;
  expectEq('CreateStateMachine ARN', pass, `${PREFIX}:stateMachine:pass`);
  check(isDate(created.creationDate), `creationDate: ${created.creationDate}`);
  const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: pass }));
  expectEq('DescribeStateMachine',
    [described.name, described.status, described.type, described.roleArn, described.definition],
    ['pass', 'ACTIVE', 'STANDARD', ROLE, PASS]);
  check(isDate(described.creationDate), `creationDate: ${described.creationDate}`);
  const machines = await sfn.send(new ListStateMachinesCommand({}));
  expectEq('ListStateMachines', machines.stateMachines.map((m) => m.name), ['pass']);

  for (let i = 1; i <= 7; ++i) {
    const started = await sfn.send(new StartExecutionCommand({
      stateMachineArn: pass, name: `e${i}`, input: JSON.stringify({ x: i }),
    }));
    expectEq('StartExecution ARN', started.executionArn, `${PREFIX}:execution:pass:e${i}`);
    check(isDate(started.startDate), `startDate: ${started.startDate}`);
  }
  for (let i = 1; i <= 7; ++i) await awaitStatus(sfn, `${PREFIX}:execution:pass:e${i}`, 'SUCCEEDED');
  const e3 = await sfn.send(new DescribeExecutionCommand({ executionArn: `${PREFIX}:execution:pass:e3` }));
  expectEq('DescribeExecution e3', [e3.name, e3.stateMachineArn, e3.input, e3.output],
    ['e3', pass, '{"x":3}', '{"got":3}']);
  check(isDate(e3.startDate) && isDate(e3.stopDate) && e3.startDate <= e3.stopDate,
    `DescribeExecution dates: ${e3.startDate}, ${e3.stopDate}`);

  // The paginator follows the server's nextToken, 3 at a time.
  const pages = await collect(paginateListExecutions({ client: sfn, pageSize: 3 },
    { stateMachineArn: pass, statusFilter: 'SUCCEEDED' }), 'executions');
  expectEq('ListExecutions pages', pages.map((p) => p.length), [3, 3, 1]);
  expectEq('ListExecutions, newest first', pages.flat().map((e) => e.name),
    ['e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1']);
  // By hand: maxResults and nextToken.
  const first = await sfn.send(new ListExecutionsCommand({ stateMachineArn: pass, maxResults: 4 }));
  expectEq('first 4', first.executions.map((e) => e.name), ['e7', 'e6', 'e5', 'e4']);
  check(first.nextToken, 'ListExecutions: no nextToken after the first 4');
  const rest = await sfn.send(new ListExecutionsCommand({
    stateMachineArn: pass, maxResults: 4, nextToken: first.nextToken,
  }));
  expectEq('the rest', rest.executions.map((e) => e.name), ['e3', 'e2', 'e1']);
  check(rest.nextToken === undefined, `a nextToken after the last page: ${rest.nextToken}`);
  const none = await sfn.send(new ListExecutionsCommand({ stateMachineArn: pass, statusFilter: 'FAILED' }));
  expectEq('ListExecutions FAILED', none.executions, []);

  // History, forward and reverse, 2 events a page.
  const e1 = `${PREFIX}:execution:pass:e1`;
  const forward = (await collect(paginateGetExecutionHistory({ client: sfn, pageSize: 2 },
    { executionArn: e1 }), 'events')).flat();
  expectEq('GetExecutionHistory', forward.map((e) => e.type),
    ['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'PassStateEntered',
      'PassStateExited', 'ExecutionSucceeded']);
  expectEq('event ids', forward.map((e) => e.id), [1, 2, 3, 4, 5, 6]);
  expectEq('previous event ids', forward.map((e) => e.previousEventId), [0, 1, 2, 3, 4, 5]);
  check(forward.every((e, i) => isDate(e.timestamp) && (i === 0 || forward[i - 1].timestamp <= e.timestamp)),
    'history timestamps are not dates in order');
  const reverse = await collect(paginateGetExecutionHistory({ client: sfn, pageSize: 4 },
    { executionArn: e1, reverseOrder: true }), 'events');
  expectEq('reverse pages', reverse.map((p) => p.length), [4, 2]);
  expectEq('GetExecutionHistory reversed', reverse.flat().map((e) => e.id), [6, 5, 4, 3, 2, 1]);
  const started = forward[0].executionStartedEventDetails;
  expectEq('ExecutionStarted details', [started.input, started.roleArn], ['{"x":1}', ROLE]);
  expectEq('ExecutionSucceeded output', forward[5].executionSucceededEventDetails.output, '{"got":1}');
  const without = await sfn.send(new GetExecutionHistoryCommand({ executionArn: e1, includeExecutionData: false }));
  check(without.events[0].executionStartedEventDetails.input === undefined,
    `includeExecutionData=false still sent the input: ${JSON.stringify(without.events[0])}`);
  // A token of one execution is not accepted for another.
  const { nextToken } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: e1, maxResults: 2 }));
  await expectError('InvalidToken', sfn, new GetExecutionHistoryCommand({
    executionArn: `${PREFIX}:execution:pass:e2`, nextToken,
  }));
  return pass;
}

async function tokensStopAndRedrive(sfn) {
  const machine = (await sfn.send(new CreateStateMachineCommand({
    name: 'token', definition: TOKEN, roleArn: ROLE,
  }))).stateMachineArn;
  const arns = {};
  const tokens = {};
  for (const name of ['t-ok', 't-fail', 't-stop']) {
    arns[name] = (await sfn.send(new StartExecutionCommand({
      stateMachineArn: machine, name, input: JSON.stringify({ x: name }),
    }))).executionArn;
  }
  for (const name of Object.keys(arns)) tokens[name] = await awaitToken(sfn, arns[name]);
  const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine, statusFilter: 'RUNNING' }));
  expectEq('ListExecutions RUNNING', running.executions.map((e) => e.name), ['t-stop', 't-fail', 't-ok']);

  await sfn.send(new SendTaskSuccessCommand({ taskToken: tokens['t-ok'], output: '{"ok":true}' }));
  expectEq('output after SendTaskSuccess', (await awaitStatus(sfn, arns['t-ok'], 'SUCCEEDED')).output,
    '{"ok":true}');
  await expectError('TaskDoesNotExist', sfn, new SendTaskSuccessCommand({ taskToken: tokens['t-ok'], output: '{}' }));
  await expectError('InvalidToken', sfn, new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' }));
  await expectError('InvalidOutput', sfn, new SendTaskSuccessCommand({ taskToken: tokens['t-fail'], output: '{no' }));

  await sfn.send(new SendTaskFailureCommand({ taskToken: tokens['t-fail'], error: 'Oops', cause: 'it broke' }));
  const failed = await awaitStatus(sfn, arns['t-fail'], 'FAILED');
  expectEq('after SendTaskFailure', [failed.error, failed.cause, failed.redriveStatus],
    ['Oops', 'it broke', 'REDRIVABLE']);

  const stopped = await sfn.send(new StopExecutionCommand({
    executionArn: arns['t-stop'], error: 'Manual', cause: 'testing',
  }));
  check(isDate(stopped.stopDate), `StopExecution stopDate: ${stopped.stopDate}`);
  const aborted = await sfn.send(new DescribeExecutionCommand({ executionArn: arns['t-stop'] }));
  expectEq('after StopExecution', [aborted.status, aborted.error, aborted.cause], ['ABORTED', 'Manual', 'testing']);
  const last = await sfn.send(new GetExecutionHistoryCommand({
    executionArn: arns['t-stop'], reverseOrder: true, maxResults: 1,
  }));
  expectEq('last event after StopExecution', last.events[0].type, 'ExecutionAborted');

  // The failed one, redriven: the task is scheduled again, with a new token.
  const redriven = await sfn.send(new RedriveExecutionCommand({ executionArn: arns['t-fail'] }));
  check(isDate(redriven.redriveDate), `RedriveExecution redriveDate: ${redriven.redriveDate}`);
  const again = await awaitToken(sfn, arns['t-fail'], tokens['t-fail']);
  await sfn.send(new SendTaskSuccessCommand({ taskToken: again, output: '{"second":"try"}' }));
  const done = await awaitStatus(sfn, arns['t-fail'], 'SUCCEEDED');
  expectEq('after the redrive', [done.output, done.redriveCount], ['{"second":"try"}', 1]);
  check(isDate(done.redriveDate), `redriveDate: ${done.redriveDate}`);
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arns['t-fail'] }));
  const redrivenEvent = history.events.find((e) => e.type === 'ExecutionRedriven');
  check(redrivenEvent, `no ExecutionRedriven event: ${history.events.map((e) => e.type)}`);
  expectEq('ExecutionRedriven details', redrivenEvent.executionRedrivenEventDetails, { redriveCount: 1 });
  const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine, redriveFilter: 'REDRIVEN' }));
  expectEq('ListExecutions REDRIVEN', list.executions.map((e) => [e.name, e.redriveCount]), [['t-fail', 1]]);
  await expectError('ExecutionNotRedrivable', sfn, new RedriveExecutionCommand({ executionArn: arns['t-fail'] }));
}

async function versionsAndAliases(sfn, pass) {
  const v1 = (await sfn.send(new PublishStateMachineVersionCommand({
    stateMachineArn: pass, description: 'one',
  }))).stateMachineVersionArn;
  expectEq('PublishStateMachineVersion', v1, `${pass}:1`);
  const aliasArn = (await sfn.send(new CreateStateMachineAliasCommand({
    name: 'prod', routingConfiguration: [{ stateMachineVersionArn: v1, weight: 100 }],
  }))).stateMachineAliasArn;
  expectEq('CreateStateMachineAlias', aliasArn, `${pass}:prod`);
  const updated = await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: pass, definition: V2 }));
  check(isDate(updated.updateDate), `UpdateStateMachine updateDate: ${updated.updateDate}`);
  const via = (await sfn.send(new StartExecutionCommand({
    stateMachineArn: aliasArn, name: 'via-alias', input: '{"x":"v1"}',
  }))).executionArn;
  const described = await awaitStatus(sfn, via, 'SUCCEEDED');
  expectEq('through the alias',
    [described.output, described.stateMachineAliasArn, described.stateMachineVersionArn],
    ['{"got":"v1"}', aliasArn, v1]);
  const latest = (await sfn.send(new StartExecutionCommand({ stateMachineArn: pass, name: 'latest' }))).executionArn;
  expectEq("the machine's latest", (await awaitStatus(sfn, latest, 'SUCCEEDED')).output, '"v2"');
  const v2 = (await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: pass }))).stateMachineVersionArn;
  expectEq('PublishStateMachineVersion again', v2, `${pass}:2`);
  await sfn.send(new UpdateStateMachineAliasCommand({
    stateMachineAliasArn: aliasArn, description: 'now two',
    routingConfiguration: [{ stateMachineVersionArn: v2, weight: 100 }],
  }));
  const alias = await sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: aliasArn }));
  expectEq('DescribeStateMachineAlias', [alias.name, alias.description, alias.routingConfiguration],
    ['prod', 'now two', [{ stateMachineVersionArn: v2, weight: 100 }]]);
  const via2 = (await sfn.send(new StartExecutionCommand({ stateMachineArn: aliasArn, name: 'via-alias-2' }))).executionArn;
  expectEq('through the updated alias', (await awaitStatus(sfn, via2, 'SUCCEEDED')).output, '"v2"');
  const versions = await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: pass }));
  expectEq('ListStateMachineVersions', versions.stateMachineVersions.map((v) => v.stateMachineVersionArn), [v2, v1]);
  const aliases = await sfn.send(new ListStateMachineAliasesCommand({ stateMachineArn: pass }));
  expectEq('ListStateMachineAliases', aliases.stateMachineAliases.map((a) => a.stateMachineAliasArn), [aliasArn]);
  const byVersion = await sfn.send(new ListExecutionsCommand({ stateMachineArn: v1 }));
  expectEq('ListExecutions of version 1', byVersion.executions.map((e) => e.name), ['via-alias']);
  const version = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: v1 }));
  expectEq('DescribeStateMachine of version 1', version.definition, PASS);
  const forExecution = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: via }));
  expectEq('DescribeStateMachineForExecution', forExecution.definition, PASS);
  await expectError('ConflictException', sfn, new DeleteStateMachineVersionCommand({ stateMachineVersionArn: v2 }));
}

async function syncTestAndValidate(sfn) {
  const express = (await sfn.send(new CreateStateMachineCommand({
    name: 'fast', definition: EXPRESS, roleArn: ROLE, type: 'EXPRESS',
  }))).stateMachineArn;
  const began = Date.now();
  const result = await sfn.send(new StartSyncExecutionCommand({
    stateMachineArn: express, name: 'sync-1', input: '{"a": 2, "b": 3}',
  }));
  check(Date.now() - began >= 900, 'StartSyncExecution returned before the Wait ended');
  expectEq('StartSyncExecution', [result.status, result.output], ['SUCCEEDED', '{"sum":5}']);
  check(isDate(result.startDate) && isDate(result.stopDate) && result.startDate <= result.stopDate,
    `StartSyncExecution dates: ${result.startDate}, ${result.stopDate}`);
  const standard = (await sfn.send(new CreateStateMachineCommand({
    name: 'not-express', definition: PASS, roleArn: ROLE,
  }))).stateMachineArn;
  await expectError('StateMachineTypeNotSupported', sfn, new StartSyncExecutionCommand({ stateMachineArn: standard }));

  const tested = await sfn.send(new TestStateCommand({
    definition: JSON.stringify({ Type: 'Pass', Parameters: { 'y.$': '$.x' }, Next: 'Later' }),
    roleArn: ROLE, input: '{"x":3}', inspectionLevel: 'DEBUG',
  }));
  expectEq('TestState', [tested.status, tested.output, tested.nextState], ['SUCCEEDED', '{"y":3}', 'Later']);
  expectEq('TestState inspection', tested.inspectionData.input, '{"x":3}');
  const failing = await sfn.send(new TestStateCommand({
    definition: JSON.stringify({ Type: 'Fail', Error: 'E', Cause: 'C' }), roleArn: ROLE,
  }));
  expectEq('TestState of a Fail state', [failing.status, failing.error, failing.cause], ['FAILED', 'E', 'C']);
  await expectError('InvalidDefinition', sfn, new TestStateCommand({ definition: '{oops', roleArn: ROLE }));

  const ok = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: PASS }));
  expectEq('ValidateStateMachineDefinition', [ok.result, ok.diagnostics], ['OK', []]);
  const bad = await sfn.send(new ValidateStateMachineDefinitionCommand({
    definition: JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } }),
  }));
  expectEq('ValidateStateMachineDefinition of a broken one', bad.result, 'FAIL');
  check(bad.diagnostics.some((d) => d.severity === 'ERROR' && d.code === 'MISSING_TRANSITION_TARGET'),
    `diagnostics: ${JSON.stringify(bad.diagnostics)}`);
}

async function tags(sfn, pass) {
  await sfn.send(new TagResourceCommand({
    resourceArn: pass, tags: [{ key: 'env', value: 'dev' }, { key: 'owner', value: 'zflow' }],
  }));
  expectEq('ListTagsForResource', (await sfn.send(new ListTagsForResourceCommand({ resourceArn: pass }))).tags,
    [{ key: 'env', value: 'dev' }, { key: 'owner', value: 'zflow' }, { key: 'team', value: 'ml' }]);
  await sfn.send(new UntagResourceCommand({ resourceArn: pass, tagKeys: ['env', 'owner'] }));
  expectEq('after UntagResource', (await sfn.send(new ListTagsForResourceCommand({ resourceArn: pass }))).tags,
    [{ key: 'team', value: 'ml' }]);
  await expectError('ResourceNotFound', sfn, new ListTagsForResourceCommand({
    resourceArn: `${PREFIX}:stateMachine:gone`,
  }));
}

async function activities(sfn) {
  const activity = (await sfn.send(new CreateActivityCommand({ name: 'review' }))).activityArn;
  expectEq('CreateActivity', activity, `${PREFIX}:activity:review`);
  const described = await sfn.send(new DescribeActivityCommand({ activityArn: activity }));
  expectEq('DescribeActivity', described.name, 'review');
  check(isDate(described.creationDate), `creationDate: ${described.creationDate}`);
  expectEq('ListActivities', (await sfn.send(new ListActivitiesCommand({}))).activities.map((a) => a.name), ['review']);
  const machine = (await sfn.send(new CreateStateMachineCommand({
    name: 'reviewed', roleArn: ROLE, definition: JSON.stringify({
      StartAt: 'Review', States: { Review: { Type: 'Task', Resource: activity, HeartbeatSeconds: 30, End: true } },
    }),
  }))).stateMachineArn;
  const run = (await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, input: '{"doc":7}' }))).executionArn;
  const task = await sfn.send(new GetActivityTaskCommand({ activityArn: activity, workerName: 'w1' }));
  expectEq('GetActivityTask input', task.input, '{"doc":7}');
  await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
  await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"approved":true}' }));
  expectEq("the activity's output", (await awaitStatus(sfn, run, 'SUCCEEDED')).output, '{"approved":true}');
  const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: run }));
  const types = events.map((e) => e.type);
  for (const t of ['ActivityScheduled', 'ActivityStarted', 'ActivitySucceeded']) {
    check(types.includes(t), `no ${t} event: ${types}`);
  }
  const scheduled = events.find((e) => e.type === 'ActivityScheduled').activityScheduledEventDetails;
  expectEq('ActivityScheduled details', [scheduled.resource, scheduled.input, scheduled.heartbeatInSeconds],
    [activity, '{"doc":7}', 30]);
  await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: machine }));
  await expectError('StateMachineDoesNotExist', sfn, new DescribeStateMachineCommand({ stateMachineArn: machine }));
  await sfn.send(new DeleteActivityCommand({ activityArn: activity }));
  await expectError('ActivityDoesNotExist', sfn, new DescribeActivityCommand({ activityArn: activity }));
}

async function errors(sfn, pass) {
  const missing = `${PREFIX}:execution:pass:nope`;
  const e = await expectError('ExecutionDoesNotExist', sfn, new DescribeExecutionCommand({ executionArn: missing }));
  check(e instanceof sdk.ExecutionDoesNotExist, `not an ExecutionDoesNotExist: ${e.constructor.name}`);
  check(e.message.includes(missing), `the message does not name ${missing}: ${e.message}`);
  await expectError('ExecutionDoesNotExist', sfn, new GetExecutionHistoryCommand({ executionArn: missing }));
  await expectError('ExecutionDoesNotExist', sfn, new StopExecutionCommand({ executionArn: missing }));
  await expectError('ExecutionDoesNotExist', sfn, new RedriveExecutionCommand({ executionArn: missing }));
  const nope = `${PREFIX}:stateMachine:nope`;
  await expectError('StateMachineDoesNotExist', sfn, new DescribeStateMachineCommand({ stateMachineArn: nope }));
  await expectError('StateMachineDoesNotExist', sfn, new StartExecutionCommand({ stateMachineArn: nope }));
  await expectError('StateMachineDoesNotExist', sfn, new ListExecutionsCommand({ stateMachineArn: nope }));
  await expectError('InvalidArn', sfn, new DescribeExecutionCommand({ executionArn: 'not-an-arn' }));
  await expectError('InvalidArn', sfn, new DescribeStateMachineCommand({
    stateMachineArn: `${PREFIX}:execution:pass:e1`,
  }));
  await expectError('InvalidArn', sfn, new StartExecutionCommand({ stateMachineArn: 'arn:aws:sqs:us-east-1:1:q' }));
  await expectError('InvalidDefinition', sfn, new CreateStateMachineCommand({
    name: 'broken', roleArn: ROLE, definition: '{"StartAt":"Nowhere","States":{}}',
  }));
  await expectError('InvalidDefinition', sfn, new CreateStateMachineCommand({
    name: 'broken', roleArn: ROLE, definition: '{oops',
  }));
  await expectError('InvalidDefinition', sfn, new UpdateStateMachineCommand({
    stateMachineArn: pass, definition: '{"StartAt":"Nowhere","States":{}}',
  }));
  await expectError('ExecutionAlreadyExists', sfn, new StartExecutionCommand({
    stateMachineArn: pass, name: 'e1', input: '{"x":9}',
  }));
  await expectError('StateMachineAlreadyExists', sfn, new CreateStateMachineCommand({
    name: 'pass', roleArn: ROLE, definition: TOKEN,
  }));
  await expectError('InvalidName', sfn, new CreateStateMachineCommand({
    name: 'has space', roleArn: ROLE, definition: PASS,
  }));
  await expectError('InvalidExecutionInput', sfn, new StartExecutionCommand({ stateMachineArn: pass, input: '{oops' }));
  await expectError('InvalidToken', sfn, new ListExecutionsCommand({ stateMachineArn: pass, nextToken: 'forged' }));
}

async function signed(zflow, tmp) {
  const server = await startServer(zflow, join(tmp, 'signed'), '--access-key-id', 'AKIDZFLOW',
    '--secret-access-key', 's3cret');
  try {
    const sfn = client(server.endpoint);
    const machine = (await sfn.send(new CreateStateMachineCommand({
      name: 'signed', definition: PASS, roleArn: ROLE,
    }))).stateMachineArn;
    const run = (await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, input: '{"x":"signed"}' })))
      .executionArn;
    expectEq("a signed execution's output", (await awaitStatus(sfn, run, 'SUCCEEDED')).output, '{"got":"signed"}');
    await expectError('InvalidSignatureException', client(server.endpoint, { secretAccessKey: 'wrong' }),
      new ListStateMachinesCommand({}));
    await expectError('UnrecognizedClientException', client(server.endpoint, { accessKeyId: 'AKIDOTHER' }),
      new ListStateMachinesCommand({}));
    expectEq('after refused requests',
      (await sfn.send(new ListStateMachinesCommand({}))).stateMachines.map((m) => m.name), ['signed']);
  } finally {
    await server.stop();
  }
}

async function main() {
  const zflow = process.argv[2];
  if (!zflow) throw new Failure('usage: node integration/serve_sdk.mjs ZFLOW');
  const tmp = mkdtempSync(join(tmpdir(), 'zflow-sdk-'));
  try {
    const server = await startServer(zflow, join(tmp, 'open'), '--no-auth');
    try {
      const sfn = client(server.endpoint);
      const pass = await machinesAndExecutions(sfn);
      await tokensStopAndRedrive(sfn);
      await versionsAndAliases(sfn, pass);
      await syncTestAndValidate(sfn);
      await tags(sfn, pass);
      await activities(sfn);
      await errors(sfn, pass);
    } finally {
      await server.stop();
    }
    await signed(zflow, tmp);
    check(answersChecked > 100, `only ${answersChecked} answers were checked against the model`);
    check(modelProblems.length === 0,
      `answers that do not match the API model:\n  ${modelProblems.join('\n  ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const version = JSON.parse(readFileSync(new URL(import.meta.resolve('@aws-sdk/client-sfn/package.json'))))
    .version;
  console.log(`ok: @aws-sdk/client-sfn ${version} drove zflow serve through the whole scenario, signed and unsigned (${answersChecked} answers checked against its model)`);
}

main().catch((e) => {
  console.error(`FAIL: ${e instanceof Failure ? e.message : e.stack}`);
  for (const p of modelProblems) console.error(`  model mismatch: ${p}`);
  process.exit(1);
});
