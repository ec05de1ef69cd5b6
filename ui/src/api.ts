// The server's APIs as the UI uses them: the Step Functions JSON API (POST /, X-Amz-Target) and
// zflow's few additions under /zflow/. The browser authenticates with its session cookie.

export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const authListeners = new Set<() => void>();
// Called when the server asks for credentials (the session expired or was never made).
export function onAuthRequired(listener: () => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

const AUTH_ERRORS = new Set([
  "MissingAuthenticationToken",
  "IncompleteSignature",
  "UnrecognizedClientException",
  "InvalidSignatureException",
]);

async function answer<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError("InvalidResponse", `The server answered HTTP ${response.status}: ${text.slice(0, 200)}`, response.status);
  }
  if (!response.ok) {
    const b = (body ?? {}) as { __type?: string; message?: string; Message?: string };
    const type = (b.__type ?? response.headers.get("x-amzn-ErrorType") ?? "Error").split("#").pop()!;
    if (AUTH_ERRORS.has(type)) authListeners.forEach((l) => l());
    throw new ApiError(type, b.message ?? b.Message ?? `HTTP ${response.status}`, response.status);
  }
  return body as T;
}

export async function sfn<T>(action: string, input: object): Promise<T> {
  const response = await fetch("/", {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": `AWSStepFunctions.${action}`,
    },
    body: JSON.stringify(input),
  });
  return answer<T>(response);
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { credentials: "same-origin" }));
}

export async function send<T>(method: string, path: string, body: string, contentType = "application/json"): Promise<T> {
  return answer<T>(
    await fetch(path, { method, credentials: "same-origin", headers: { "Content-Type": contentType }, body }),
  );
}

// ---- shapes (the fields the UI reads) ----

export interface StateMachineItem {
  stateMachineArn: string;
  name: string;
  type: string;
  creationDate: number;
}
export interface StateMachine extends StateMachineItem {
  definition: string;
  roleArn: string;
  status?: string;
  description?: string;
  revisionId?: string;
}
export interface ExecutionItem {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  startDate: number;
  stopDate?: number;
  redriveCount?: number;
  stateMachineVersionArn?: string;
  stateMachineAliasArn?: string;
}
export interface Execution extends ExecutionItem {
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
  redriveStatus?: string;
  redriveStatusReason?: string;
}
export interface HistoryEvent {
  id: number;
  previousEventId?: number;
  timestamp: number; // epoch seconds
  type: string;
  [details: string]: unknown;
}
export interface TaskLog {
  eventId: number;
  stateName: string;
  log: string;
}
export interface Artifact {
  uri: string;
  size: number;
  lastModified: number;
}
export interface Endpoint {
  name: string;
  status: string;
  config: string;
  url?: string;
  failure?: string;
}
export interface StepGraph {
  pipeline: string;
  steps: { name: string; kind: string; after: string[]; conditional?: boolean }[];
  schedule?: string;
  comment?: string;
}
export interface Schedule {
  Name: string;
  Arn: string;
  State: string;
  Target: { Arn: string };
  GroupName?: string;
}
export interface ScheduleDetail extends Schedule {
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
}

export async function fullHistory(executionArn: string, includeExecutionData = true): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn<{ events: HistoryEvent[]; nextToken?: string }>("GetExecutionHistory", {
      executionArn,
      maxResults: 1000,
      includeExecutionData,
      ...(nextToken ? { nextToken } : {}),
    });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

// Events newer than `lastId`, read newest first until the known ones: for following a run.
export async function newEvents(executionArn: string, lastId: number): Promise<HistoryEvent[]> {
  const fresh: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (;;) {
    const page = await sfn<{ events: HistoryEvent[]; nextToken?: string }>("GetExecutionHistory", {
      executionArn,
      maxResults: 200,
      reverseOrder: true,
      ...(nextToken ? { nextToken } : {}),
    });
    let reachedKnown = false;
    for (const e of page.events) {
      if (e.id <= lastId) {
        reachedKnown = true;
        break;
      }
      fresh.push(e);
    }
    if (reachedKnown || !page.nextToken) break;
    nextToken = page.nextToken;
  }
  return fresh.reverse();
}

export function machineNameOf(arn: string): string {
  // arn:aws:states:region:account:stateMachine:name[:qualifier]
  return arn.split(":")[6] ?? arn;
}

// ARNs keep their colons in paths (a path segment may hold them), for URLs people can read.
function pathSegment(s: string): string {
  return encodeURIComponent(s).replace(/%3A/g, ":");
}
export function executionPath(arn: string): string {
  return `/ui/executions/${pathSegment(arn)}`;
}
export function machinePath(nameOrArn: string): string {
  return `/ui/machines/${pathSegment(nameOrArn.startsWith("arn:") ? machineNameOf(nameOrArn) : nameOrArn)}`;
}
export function objectUrl(uri: string, download = false): string {
  return `/zflow/objects${query({ uri, download: download ? "1" : undefined })}`;
}
