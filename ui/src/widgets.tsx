// Small pieces the pages share.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

export function JsonBlock({ text, label }: { text: string | undefined; label: string }) {
  if (text === undefined) return <p class="muted">No {label.toLowerCase()}.</p>;
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    /* shown as it is */
  }
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      {pretty}
    </pre>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const type = (error as { type?: string }).type;
  return (
    <p class="error" role="alert">
      {type ? <strong>{type}: </strong> : null}
      {message}
    </p>
  );
}

// Loads with `load` whenever `deps` change; re-runs on demand with reload().
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
} {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data: state.data, error: state.error, loading: state.loading, reload: () => setTick((t) => t + 1) };
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section aria-labelledby={id ? `${id}-h` : undefined} id={id}>
      <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
      {children}
    </section>
  );
}

// Where JSON.parse stopped, as line and column, from V8's or Firefox's message.
export function jsonProblem(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    if (at) {
      const pos = Number(at[1]);
      const before = text.slice(0, pos);
      const line = before.split("\n").length;
      const column = pos - before.lastIndexOf("\n");
      return `The input is not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, "")} (line ${line}, column ${column})`;
    }
    return `The input is not valid JSON: ${message}`;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
