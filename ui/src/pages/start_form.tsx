// Starting an execution: an optional name and a JSON input, checked as it is typed and again
// before anything is sent.
import { useState } from "preact/hooks";
import { executionPath, sfn } from "../api";
import { navigate } from "../router";
import { ErrorNote, jsonProblem } from "../widgets";

export function StartForm({ machineArn, onClose }: { machineArn: string; onClose: () => void }) {
  const [name, setName] = useState("");
  const [input, setInput] = useState("{}");
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const p = jsonProblem(input);
    setProblem(p);
    if (p) return;
    setBusy(true);
    setError(null);
    try {
      const started = await sfn<{ executionArn: string }>("StartExecution", {
        stateMachineArn: machineArn,
        input,
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      navigate(executionPath(started.executionArn));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card start-form" onSubmit={submit} aria-label="Start an execution">
      <h2>Start an execution</h2>
      <label>
        Name <span class="muted">(optional; a new id when empty)</span>
        <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} maxLength={80} />
      </label>
      <label>
        Input (JSON)
        <textarea
          rows={8}
          spellcheck={false}
          value={input}
          aria-invalid={problem ? true : undefined}
          aria-describedby="input-problem"
          onInput={(e) => {
            const v = (e.target as HTMLTextAreaElement).value;
            setInput(v);
            setProblem(jsonProblem(v));
          }}
        />
      </label>
      <p id="input-problem" class={problem ? "error" : "ok"} role={problem ? "alert" : undefined} data-testid="input-problem">
        {problem ?? "Valid JSON."}
      </p>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Start
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
