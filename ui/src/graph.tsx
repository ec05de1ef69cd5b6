// Draws a laid-out graph as SVG, each node coloured by its state's status. Nodes are buttons to
// the keyboard (Tab, Enter) as to the mouse.
import { useEffect, useState } from "preact/hooks";
import type { Graph } from "./asl";
import { STATUS_LABEL, type StateStatus } from "./history";
import { layOut, type Layout } from "./layout";

interface Props {
  graph: Graph;
  label: string; // what the graph is, for screen readers
  status?: (state: string) => StateStatus | undefined;
  selected?: string;
  onSelect?: (state: string) => void;
  testId?: string;
}

export function GraphView({ graph, label, status, selected, onSelect, testId }: Props) {
  const [layout, setLayout] = useState<Layout | null>(null);
  const [error, setError] = useState<string>("");
  const [fit, setFit] = useState(true);
  useEffect(() => {
    let live = true;
    layOut(graph).then(
      (l) => live && setLayout(l),
      (e) => live && setError(String(e)),
    );
    return () => {
      live = false;
    };
  }, [graph]);
  if (error) return <p class="error">Cannot lay out the graph: {error}</p>;
  if (!layout) return <p class="muted">Laying out the graph…</p>;
  const pad = 8;
  const width = layout.width + 2 * pad;
  return (
    <div class={`graph ${fit ? "fit" : ""}`} data-testid={testId}>
      <button class="zoom" onClick={() => setFit(!fit)} aria-pressed={!fit}>
        {fit ? "Actual size" : "Fit"}
      </button>
      <svg
        role="group"
        aria-label={label}
        width={width}
        height={layout.height + 2 * pad}
        style={fit ? { maxWidth: "100%", height: "auto" } : undefined}
        viewBox={`${-pad} ${-pad} ${layout.width + 2 * pad} ${layout.height + 2 * pad}`}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
          </marker>
        </defs>
        {layout.nodes
          .filter((p) => p.node.inner && p.node.inner.nodes.length > 0)
          .map((p) => {
            const s = p.node.state ? status?.(p.node.state) : undefined;
            return (
              <g key={p.node.id} class={`group ${p.node.kind === "Branch" ? "branch" : ""} ${s ? `st-${s}` : ""}`}
                 data-state={p.node.state}>
                <rect x={p.x} y={p.y} width={p.width} height={p.height} rx={6} />
                <text x={p.x + 10} y={p.y + 19}>
                  {p.node.label}
                  {p.node.kind !== "Branch" ? ` · ${p.node.kind}` : ""}
                </text>
              </g>
            );
          })}
        {layout.edges.map((e, i) => (
          <polyline
            key={`${e.id}-${i}`}
            class={`edge edge-${e.kind}`}
            points={e.points.map((pt) => `${pt.x},${pt.y}`).join(" ")}
            marker-end="url(#arrow)"
          />
        ))}
        {layout.nodes
          .filter((p) => !(p.node.inner && p.node.inner.nodes.length > 0))
          .map((p) => {
            const terminal = p.node.kind === "Start" || p.node.kind === "End";
            const s: StateStatus | undefined = p.node.state ? (status?.(p.node.state) ?? "not-started") : undefined;
            const name = p.node.state;
            const select = () => name && onSelect?.(name);
            return (
              <g
                key={p.node.id}
                class={`node kind-${p.node.kind} ${s ? `st-${s}` : ""} ${name && name === selected ? "selected" : ""}`}
                data-state={name}
                data-status={s}
                tabindex={name && onSelect ? 0 : undefined}
                role={name && onSelect ? "button" : undefined}
                aria-label={name ? `${name} (${p.node.kind})${s && status ? `: ${STATUS_LABEL[s]}` : ""}` : p.node.label}
                aria-pressed={name && onSelect ? name === selected : undefined}
                onClick={select}
                onKeyDown={(ev) => {
                  if (ev.key === "Enter" || ev.key === " ") {
                    ev.preventDefault();
                    select();
                  }
                }}
              >
                <rect x={p.x} y={p.y} width={p.width} height={p.height} rx={terminal ? p.height / 2 : 5} />
                <text x={p.x + p.width / 2} y={p.y + p.height / 2 + 4} text-anchor="middle">
                  {p.node.label.length > 42 ? `${p.node.label.slice(0, 40)}…` : p.node.label}
                </text>
                <title>{name ? `${name} · ${p.node.kind}${s && status ? ` · ${STATUS_LABEL[s]}` : ""}` : p.node.label}</title>
              </g>
            );
          })}
      </svg>
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge b-${status.toLowerCase()}`}>{status.replace("_", " ")}</span>;
}
