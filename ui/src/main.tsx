// The web UI of zflow serve: state machines and pipelines, their runs, endpoints.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, onAuthRequired, send } from "./api";
import { EndpointsPage } from "./pages/endpoints";
import { ExecutionPage } from "./pages/execution";
import { LoginPage } from "./pages/login";
import { MachinePage } from "./pages/machine";
import { MachinesPage } from "./pages/machines";
import { installLinkHandler, navigate, usePath } from "./router";

type Session = { authRequired: boolean; authenticated: boolean };

function Page({ path }: { path: string }) {
  const [pathname] = path.split("?");
  const parts = pathname.split("/").filter(Boolean).slice(1).map(decodeURIComponent); // after "ui"
  if (parts[0] === "machines" && parts[1]) return <MachinePage name={parts[1]} key={parts[1]} />;
  if (parts[0] === "executions" && parts[1]) return <ExecutionPage arn={parts[1]} key={parts[1]} />;
  if (parts[0] === "endpoints") return <EndpointsPage focus={parts[1]} />;
  if (parts.length === 0 || parts[0] === "machines") return <MachinesPage />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no page at {pathname}. <a href="/ui/">State machines</a>
      </p>
    </>
  );
}

function App() {
  const path = usePath();
  const [session, setSession] = useState<Session | null>(null);
  const check = () => getJson<Session>("/zflow/session").then(setSession, () => setSession({ authRequired: true, authenticated: false }));
  useEffect(() => {
    check();
    return onAuthRequired(() => setSession((s) => (s ? { ...s, authenticated: false } : s)));
  }, []);
  useEffect(() => {
    const title = path.split("?")[0].split("/").filter(Boolean).slice(1).map(decodeURIComponent);
    document.title = title.length ? `${title[title.length - 1].split(":").pop()} · zflow` : "zflow";
  }, [path]);
  const logout = async () => {
    await send("POST", "/zflow/logout", "{}");
    setSession({ authRequired: true, authenticated: false });
  };
  const section = path.split("/")[2] ?? "";
  return (
    <>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <a class="brand" href="/ui/">
          zflow
        </a>
        <nav aria-label="Main">
          <a href="/ui/" aria-current={section === "" || section === "machines" ? "page" : undefined}>
            State machines
          </a>
          <a href="/ui/endpoints" aria-current={section === "endpoints" ? "page" : undefined}>
            Endpoints
          </a>
        </nav>
        <span class="spacer" />
        {session?.authRequired && session.authenticated ? (
          <button class="link light" onClick={logout}>
            Log out
          </button>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {!session ? (
          <p class="muted">Loading…</p>
        ) : session.authRequired && !session.authenticated ? (
          <LoginPage onLogin={() => (check(), navigate(location.pathname + location.search, true))} />
        ) : (
          <Page path={path} />
        )}
      </main>
    </>
  );
}

installLinkHandler();
render(<App />, document.getElementById("app")!);
