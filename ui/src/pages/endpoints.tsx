// The local endpoints pipelines deployed, each with a form that sends it a request.
import { useState } from "preact/hooks";
import { getJson, send, type Endpoint } from "../api";
import { StatusBadge } from "../graph";
import { ErrorNote, useLoad } from "../widgets";

export function EndpointsPage({ focus }: { focus?: string }) {
  const list = useLoad(() => getJson<{ endpoints: Endpoint[] }>("/zflow/endpoints"), []);
  return (
    <>
      <h1>Endpoints</h1>
      <ErrorNote error={list.error} />
      {list.data && list.data.endpoints.length === 0 ? (
        <p class="muted">No endpoints. A pipeline's endpoint step deploys one; it keeps serving after the run.</p>
      ) : null}
      {list.data?.endpoints.map((e) => <EndpointCard key={e.name} endpoint={e} open={e.name === focus} />)}
    </>
  );
}

function EndpointCard({ endpoint, open }: { endpoint: Endpoint; open: boolean }) {
  const [body, setBody] = useState("");
  const [type, setType] = useState("text/csv");
  const [answer, setAnswer] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = `ep-${endpoint.name}`;
  const invoke = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      const r = await send<{ body: string }>(
        "POST",
        `/zflow/endpoints/${encodeURIComponent(endpoint.name)}/invocations`,
        body,
        type,
      );
      setAnswer(r.body);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby={`${id}-h`} data-testid="endpoint" id={id}>
      <div class="title-row">
        <h2 id={`${id}-h`}>{endpoint.name}</h2>
        <StatusBadge status={endpoint.status} />
      </div>
      <p class="muted">
        Configuration {endpoint.config}
        {endpoint.url ? (
          <>
            {" "}
            · serving at <code>{endpoint.url}</code>
          </>
        ) : null}
      </p>
      {endpoint.failure ? <p class="error">{endpoint.failure}</p> : null}
      {endpoint.status === "InService" ? (
        <details open={open}>
          <summary>Invoke</summary>
          <form onSubmit={invoke} aria-label={`Invoke ${endpoint.name}`}>
            <label>
              Content type
              <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
                <option value="text/csv">text/csv</option>
                <option value="application/json">application/json</option>
              </select>
            </label>
            <label>
              Body
              <textarea rows={5} spellcheck={false} value={body} placeholder="One record per line"
                onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
            </label>
            <div class="actions">
              <button type="submit" class="primary" disabled={busy || !body.trim()}>
                Invoke
              </button>
            </div>
          </form>
          <ErrorNote error={error} />
          {answer !== null ? (
            <>
              <h3>Answer</h3>
              <pre class="log" data-testid="invocation-answer" tabIndex={0}>
                {answer}
              </pre>
            </>
          ) : null}
        </details>
      ) : null}
    </section>
  );
}
