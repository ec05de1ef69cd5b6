// Lays a Graph out with ELK (layered, top to bottom; groups laid out inside their parents) and
// returns absolute coordinates for drawing.
import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import type { EdgeKind, Graph, GraphNode } from "./asl";

export interface PlacedNode {
  node: GraphNode;
  x: number;
  y: number;
  width: number;
  height: number;
  depth: number;
}
export interface PlacedEdge {
  id: string;
  kind: EdgeKind;
  points: { x: number; y: number }[];
}
export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[]; // groups before what they hold
  edges: PlacedEdge[];
}

const elk = new ELK();

// Every level is laid out top to bottom (ELK does not pass options down to groups).
const LAYERED = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.layered.spacing.nodeNodeBetweenLayers": "36",
  "elk.spacing.nodeNode": "24",
  "elk.edgeRouting": "ORTHOGONAL",
};

function size(n: GraphNode): { width: number; height: number } {
  if (n.kind === "Start" || n.kind === "End") return { width: 64, height: 28 };
  return { width: Math.max(96, Math.min(320, n.label.length * 7.2 + 30)), height: 36 };
}

function toElk(g: Graph): { children: ElkNode[]; edges: ElkExtendedEdge[] } {
  return {
    children: g.nodes.map((n) => {
      if (n.inner && n.inner.nodes.length > 0) {
        return {
          id: n.id,
          layoutOptions: { ...LAYERED, "elk.padding": "[top=30,left=12,bottom=12,right=12]" },
          ...toElk(n.inner),
        };
      }
      return { id: n.id, ...size(n) };
    }),
    edges: g.edges.map((e) => ({ id: e.id, sources: [e.from], targets: [e.to] })),
  };
}

export async function layOut(graph: Graph): Promise<Layout> {
  const input: ElkNode = {
    id: "zflow:root",
    layoutOptions: {
      ...LAYERED,
      "elk.json.shapeCoords": "ROOT",
      "elk.json.edgeCoords": "ROOT",
    },
    ...toElk(graph),
  };
  const root: ElkNode = await elk.layout(input);
  const byId = new Map<string, GraphNode>();
  const index = (g: Graph) => g.nodes.forEach((n) => (byId.set(n.id, n), n.inner && index(n.inner)));
  index(graph);
  const kinds = new Map<string, EdgeKind>();
  const indexEdges = (g: Graph) => {
    g.edges.forEach((e) => kinds.set(e.id, e.kind));
    g.nodes.forEach((n) => n.inner && indexEdges(n.inner));
  };
  indexEdges(graph);
  const out: Layout = { width: root.width ?? 0, height: root.height ?? 0, nodes: [], edges: [] };
  const walk = (n: ElkNode, depth: number) => {
    for (const c of n.children ?? []) {
      const node = byId.get(c.id);
      if (node) out.nodes.push({ node, x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0, depth });
      walk(c, depth + 1);
    }
    for (const e of (n.edges ?? []) as ElkExtendedEdge[]) {
      for (const s of e.sections ?? []) {
        out.edges.push({
          id: e.id,
          kind: kinds.get(e.id) ?? "next",
          points: [s.startPoint, ...(s.bendPoints ?? []), s.endPoint],
        });
      }
    }
  };
  walk(root, 0);
  return out;
}
