// An ASL definition (or a pipeline's step graph) as a graph to draw: a node per state, Parallel
// and Map states as groups holding their branches' and iteration's states, edges for Next,
// Choice rules, Default and Catch.

export type EdgeKind = "next" | "choice" | "default" | "catch";

export interface GraphNode {
  id: string;
  label: string;
  kind: string; // the ASL type, "Start", "End", or a step kind
  state?: string; // the state (or step) whose status colours it
  inner?: Graph; // a group: Parallel (its branches), Map (its states), a branch
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  kind: EdgeKind;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

type Json = Record<string, unknown>;

export const START = "zflow:start";
export const END = "zflow:end";

function scope(states: Json, prefix: string, top: boolean, startAt?: string): Graph {
  const g: Graph = { nodes: [], edges: [] };
  let edgeCount = 0;
  const edge = (from: string, to: string, kind: EdgeKind) => {
    if (to in states || to === END) g.edges.push({ id: `${prefix}e${edgeCount++}`, from, to, kind });
  };
  if (top) {
    g.nodes.push({ id: START, label: "Start", kind: "Start" });
    if (startAt) edge(START, startAt, "next");
  }
  let ends = false;
  for (const [name, raw] of Object.entries(states)) {
    const s = (raw ?? {}) as Json;
    const type = String(s.Type ?? "?");
    const node: GraphNode = { id: name, label: name, kind: type, state: name };
    if (type === "Parallel" && Array.isArray(s.Branches)) {
      node.inner = {
        nodes: (s.Branches as Json[]).map((b, i) => ({
          id: `${name}#branch${i}`,
          label: `Branch ${i + 1}`,
          kind: "Branch",
          inner: scope((b.States ?? {}) as Json, `${name}#${i}:`, false),
        })),
        edges: [],
      };
    } else if (type === "Map") {
      const processor = (s.ItemProcessor ?? s.Iterator) as Json | undefined;
      if (processor) node.inner = scope((processor.States ?? {}) as Json, `${name}#map:`, false);
    }
    g.nodes.push(node);
    if (typeof s.Next === "string") edge(name, s.Next, "next");
    if (Array.isArray(s.Choices)) {
      for (const c of s.Choices as Json[]) if (typeof c.Next === "string") edge(name, c.Next, "choice");
    }
    if (typeof s.Default === "string") edge(name, s.Default, "default");
    if (Array.isArray(s.Catch)) {
      for (const c of s.Catch as Json[]) if (typeof c.Next === "string") edge(name, c.Next, "catch");
    }
    if (top && (s.End === true || type === "Succeed")) {
      ends = true;
      g.edges.push({ id: `${prefix}e${edgeCount++}`, from: name, to: END, kind: "next" });
    }
  }
  if (top && ends) g.nodes.push({ id: END, label: "End", kind: "End" });
  if (top && !ends) g.edges = g.edges.filter((e) => e.to !== END);
  return g;
}

export function graphOfDefinition(definition: string): Graph {
  const d = JSON.parse(definition) as Json;
  return scope((d.States ?? {}) as Json, "", true, typeof d.StartAt === "string" ? d.StartAt : undefined);
}

// The state names of a definition, in document order (nested ones after their parent).
export function stateNames(definition: string): string[] {
  const out: string[] = [];
  const walk = (states: Json) => {
    for (const [name, raw] of Object.entries(states)) {
      out.push(name);
      const s = (raw ?? {}) as Json;
      if (Array.isArray(s.Branches)) for (const b of s.Branches as Json[]) walk((b.States ?? {}) as Json);
      const p = (s.ItemProcessor ?? s.Iterator) as Json | undefined;
      if (p) walk((p.States ?? {}) as Json);
    }
  };
  walk((JSON.parse(definition) as Json).States as Json ?? {});
  return out;
}

export interface Step {
  name: string;
  kind: string;
  after: string[];
  conditional?: boolean;
}

export function graphOfSteps(steps: Step[]): Graph {
  const g: Graph = { nodes: [], edges: [] };
  for (const s of steps) {
    g.nodes.push({ id: s.name, label: s.conditional ? `${s.name} (if)` : s.name, kind: s.kind, state: s.name });
    s.after.forEach((a, i) => g.edges.push({ id: `${s.name}<${i}`, from: a, to: s.name, kind: "next" }));
  }
  return g;
}

// The step a state belongs to: the compiler names a step's states "<step>" or "<step>: <phase>".
export function stepOfState(state: string, steps: Set<string>): string | undefined {
  if (steps.has(state)) return state;
  const colon = state.indexOf(": ");
  if (colon > 0 && steps.has(state.slice(0, colon))) return state.slice(0, colon);
  return undefined;
}
