// The login page of a server that has credentials: the same access key the API takes. The
// server answers with a session cookie (HttpOnly, SameSite=Strict); nothing is kept here.
import { useState } from "preact/hooks";
import { send } from "../api";
import { ErrorNote } from "../widgets";

export function LoginPage({ onLogin }: { onLogin: () => void }) {
  const [id, setId] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await send("POST", "/zflow/login", JSON.stringify({ accessKeyId: id, secretAccessKey: secret }));
      setSecret("");
      onLogin();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card login" onSubmit={submit} aria-label="Log in">
      <h1>Log in to zflow</h1>
      <p class="muted">This server takes the access key it was started with (zflow serve --access-key-id).</p>
      <label>
        Access key id
        <input value={id} autoComplete="username" required onInput={(e) => setId((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Secret access key
        <input type="password" value={secret} autoComplete="current-password" required
          onInput={(e) => setSecret((e.target as HTMLInputElement).value)} />
      </label>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </div>
    </form>
  );
}
