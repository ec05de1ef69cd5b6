// The web UI in a real browser: Debian's chromium, headless, driven by playwright-core, against
// zflow serve on loopback. Runs the fraud-scoring example, follows its run on the graph, reads a
// task's logs, opens the report, starts executions (a bad JSON input first), stops one, invokes
// the endpoint, pages through executions, and logs in to a server that has credentials.
// Screenshots of the main pages go to SCREENSHOT_DIR for review.
//
//   node tests/integration/ui_test.mjs ZFLOW SCREENSHOT_DIR
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [zflow, shotsArg] = process.argv.slice(2);
assert(zflow, "usage: ui_test.mjs ZFLOW SCREENSHOT_DIR");
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const example = join(root, "examples/fraud-detection");
const shots = resolve(shotsArg ?? "ui-screenshots");
mkdirSync(shots, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), "zflow-ui-"));
const servers = [];
let browser;

function log(message) {
  process.stdout.write(`${message}\n`);
}

// zflow serve on a free port; resolves with its URL once it listens.
function serve(args) {
  return new Promise((ok, fail) => {
    const child = spawn(zflow, ["serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    servers.push(child);
    let out = "";
    const timer = setTimeout(() => fail(new Error(`zflow serve did not start: ${out}`)), 20000);
    const read = (chunk) => {
      out += chunk;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => fail(new Error(`zflow serve exited (${code}): ${out}`)));
  });
}

function zflowCli(args, env = {}) {
  return execFileSync(zflow, args, { encoding: "utf8", env: { ...process.env, ...env } });
}

async function sfn(url, action, body) {
  const r = await fetch(url + "/", {
    method: "POST",
    headers: { "X-Amz-Target": `AWSStepFunctions.${action}`, "Content-Type": "application/x-amz-json-1.0" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

// WCAG 2 A and AA rules (contrast, names, keyboard reachability) by axe-core, in the page.
const axeSource = readFileSync(join(root, "tests/node_modules/axe-core/axe.min.js"), "utf8");
async function checkAccessibility(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] } }));
  const problems = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n    ")}`);
  assert.deepEqual(problems, [], `accessibility of ${what}`);
}

async function main() {
  // The example's profile with this test's directories: nothing shared with other runs.
  const profile = join(tmp, "zflow.profile.yaml");
  writeFileSync(
    profile,
    readFileSync(join(example, "zflow.profile.yaml"), "utf8")
      .replace(/^s3_root:.*$/m, `s3_root: ${join(tmp, "s3")}`)
      .replace(/^work_dir:.*$/m, `work_dir: ${join(tmp, "work")}`)
      .replaceAll(" jobs/", ` ${example}/jobs/`),
  );
  execFileSync("/usr/bin/python3", [join(example, "jobs/generate_data.py"), "--rows", "20000",
    "--output", "s3://zflow-local/fraud/raw/transactions.csv"], { env: { ...process.env, ZFLOW_S3_ROOT: join(tmp, "s3") } });
  const url = await serve(["--data-dir", join(tmp, "data"), "--profile", profile]);
  log(`zflow serve at ${url}`);
  zflowCli(["deploy", "--local", join(example, "fraud_pipeline.yaml"), "--endpoint-url", url]);
  const started = zflowCli(["executions", "start", "fraud-scoring", "--name", "ui-run-1", "--wait", "--endpoint-url", url]);
  const pageUrl = /^\s+(http\S+)$/m.exec(started)?.[1];
  assert(pageUrl, `no page URL in: ${started}`);
  assert.match(started, /SUCCEEDED/);

  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") &&
    pageErrors.push(m.text()));
  // Failed requests, except the step graph a plain state machine does not have.
  page.on("response", (r) => r.status() >= 400 && !/\/zflow\/pipelines\/many$/.test(r.url()) &&
    pageErrors.push(`${r.status()} ${r.url()}`));

  // ---- the run's page: every step and every state that ran succeeded ----
  await page.goto(pageUrl);
  await page.getByRole("heading", { name: "ui-run-1" }).waitFor();
  const stateGraph = page.getByTestId("execution-graph");
  await stateGraph.locator("g.node[data-state='train']").waitFor();
  const statuses = await stateGraph.locator("g.node[data-state]").evaluateAll((nodes) =>
    Object.fromEntries(nodes.map((n) => [n.getAttribute("data-state"), n.getAttribute("data-status")])));
  for (const state of ["preprocess", "scaler-model", "scale-features", "train", "model", "predict", "report",
    "deploy: create endpoint", "deploy: check status"]) {
    assert.equal(statuses[state], "succeeded", `${state} on the graph: ${statuses[state]}`);
  }
  for (const [state, status] of Object.entries(statuses)) {
    assert(["succeeded", "caught", "not-started"].includes(status), `${state} is ${status}`);
  }
  assert.equal(statuses["notify-failure"], "not-started");
  // The lookup of an endpoint that does not exist yet fails and is caught: the plan, not a failure.
  assert.equal(statuses["deploy: find endpoint"], "caught");
  const steps = await page.getByTestId("step-graph").locator("g.node[data-state]").evaluateAll((nodes) =>
    nodes.map((n) => [n.getAttribute("data-state"), n.getAttribute("data-status")]));
  assert.equal(steps.length, 8, JSON.stringify(steps));
  for (const [step, status] of steps) assert.equal(status, "succeeded", `step ${step}: ${status}`);
  await page.screenshot({ path: join(shots, "execution.png"), fullPage: true });

  // ---- a task's logs, reached with the keyboard: Tab to the node, Enter ----
  const train = stateGraph.locator("g.node[data-state='train']");
  await train.focus();
  await page.keyboard.press("Enter");
  const details = page.getByTestId("state-details");
  await details.getByRole("heading", { name: "train" }).waitFor();
  const trainLog = await details.getByTestId("task-log").first().textContent();
  assert.match(trainLog, /validation auc: [0-9.]+/, "the training script's output");
  assert.match(await details.textContent(), /createTrainingJob\.sync/);
  await page.screenshot({ path: join(shots, "execution-train-logs.png"), fullPage: true });
  await checkAccessibility(page, "the execution page");
  // Input and output of the state are there, as JSON.
  assert.match(await details.getByLabel("State output").textContent(), /"train"/);

  // ---- the report, downloadable ----
  const report = page.getByTestId("artifacts").getByRole("link", { name: /fraud-report\.pdf$/ });
  const href = await report.getAttribute("href");
  const pdf = await page.request.get(new URL(href, url).href);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  assert.equal((await pdf.body()).subarray(0, 4).toString(), "%PDF");
  const artifacts = await page.getByTestId("artifacts").textContent();
  assert(!/train-fraud-/.test(artifacts), "another run's model is not this run's artifact");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("artifacts").locator("tr", { hasText: "fraud-report.pdf" }).getByRole("link", { name: "Download" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "fraud-report.pdf");

  // ---- the machine's page: graphs, grid, start with a bad input, then a good one ----
  await page.getByRole("link", { name: "fraud-scoring" }).first().click();
  await page.getByRole("heading", { name: "fraud-scoring", level: 1 }).waitFor();
  await page.getByTestId("run-grid").waitFor();
  assert.equal(await page.getByTestId("run-grid").locator(".cell.st-succeeded").count(), 8);
  // The schedules arrive in their own request: wait for them rather than read the heading alone.
  await page.locator("#machine-schedules").getByText(/cron\(0 6 \* \* \? \*\)/).first().waitFor();
  assert.match(await page.locator("#machine-schedules").textContent(), /cron\(0 6 \* \* \? \*\)/);
  await page.screenshot({ path: join(shots, "machine.png"), fullPage: true });
  await checkAccessibility(page, "the state machine page");
  await page.getByRole("button", { name: "Start execution" }).click();
  const input = page.getByLabel("Input (JSON)");
  await input.fill('{"day": "2026-12-01",}');
  const problem = page.getByTestId("input-problem");
  assert.match(await problem.textContent(), /not valid JSON.*line 1, column/);
  await page.getByRole("button", { name: "Start", exact: true }).click();
  assert.match(page.url(), /\/ui\/machines\/fraud-scoring$/, "a bad input is not sent");
  await page.screenshot({ path: join(shots, "start-bad-json.png") });
  await input.fill('{"day": "2026-12-01"}');
  assert.equal(await problem.textContent(), "Valid JSON.");
  await page.getByLabel(/^Name/).fill("ui-run-2");
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await page.getByRole("heading", { name: "ui-run-2" }).waitFor();
  // Followed live: the first states turn green while it runs, then it is stopped.
  await page.getByTestId("execution-graph").locator("g.node[data-state='Initialize parameters'][data-status='succeeded']").waitFor();
  await page.getByRole("button", { name: "Stop" }).click();
  await page.locator(".title-row .badge.b-aborted").waitFor();
  await page.getByRole("button", { name: "Redrive" }).waitFor();
  const aborted = await sfn(url, "DescribeExecution", {
    executionArn: "arn:aws:states:us-east-1:123456789012:execution:fraud-scoring:ui-run-2",
  });
  assert.equal(aborted.body.status, "ABORTED");

  // ---- the endpoint the run deployed, invoked from its page ----
  await page.getByRole("link", { name: "Endpoints" }).click();
  const endpoint = page.getByTestId("endpoint").filter({ hasText: "fraud-scoring" });
  await endpoint.getByText("InService").waitFor();
  await endpoint.getByText("Invoke").first().click();
  const runDir = join(tmp, "s3/zflow-local/fraud/runs/ui-run-1/scaled/holdout");
  const scaled = readdirSync(runDir).find((f) => f.endsWith(".out"));
  const rows = readFileSync(join(runDir, scaled), "utf8").split("\n").slice(0, 3)
    .map((line) => line.split(",").slice(1).join(",")).join("\n");
  await endpoint.getByLabel("Body").fill(rows);
  await endpoint.getByRole("button", { name: "Invoke" }).click();
  const answer = await endpoint.getByTestId("invocation-answer").textContent();
  const scores = answer.trim().split("\n");
  assert.equal(scores.length, 3, answer);
  for (const s of scores) assert(Number(s) >= 0 && Number(s) <= 1, `a score: ${s}`);
  await page.screenshot({ path: join(shots, "endpoints.png"), fullPage: true });
  await checkAccessibility(page, "the endpoints page");

  // ---- pagination and filters over many executions ----
  const pass = await sfn(url, "CreateStateMachine", {
    name: "many",
    definition: JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } }),
    roleArn: "arn:aws:iam::123456789012:role/r",
  });
  assert.equal(pass.status, 200);
  for (let i = 0; i < 60; i++) {
    await sfn(url, "StartExecution", { stateMachineArn: pass.body.stateMachineArn, name: `run-${String(i).padStart(2, "0")}` });
  }
  await page.goto(`${url}/ui/machines/many`);
  const table = page.getByTestId("executions");
  await table.getByRole("link", { name: "run-59" }).waitFor();
  assert.equal(await table.locator("tbody tr").count(), 25);
  await page.getByRole("button", { name: "Older →" }).click();
  await table.getByRole("link", { name: "run-34" }).waitFor();
  assert.equal(await table.getByRole("link", { name: "run-59" }).count(), 0);
  await page.getByRole("button", { name: "← Newer" }).click();
  await table.getByRole("link", { name: "run-59" }).waitFor();
  await page.getByLabel("Status").selectOption("FAILED");
  await table.getByText("No executions match.").waitFor();
  await page.getByLabel("Status").selectOption("");
  await page.getByLabel("Started after").fill("2099-01-01T00:00");
  await table.getByText("No executions match.").waitFor();

  // ---- the front page ----
  await page.goto(`${url}/`);
  await page.getByTestId("machines").getByRole("link", { name: "fraud-scoring" }).waitFor();
  await page.screenshot({ path: join(shots, "machines.png"), fullPage: true });
  await checkAccessibility(page, "the front page");
  assert.deepEqual(pageErrors, [], "no errors in the browser's console, no failed requests");

  // ---- a server with credentials: the login page and a session cookie ----
  const secured = await serve(["--data-dir", join(tmp, "secured"), "--access-key-id", "AKIDUITEST",
    "--secret-access-key", "ui-test-secret"]);
  const unsigned = await sfn(secured, "ListStateMachines", {});
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.body.__type.split("#").pop(), "MissingAuthenticationToken");
  const login = await context.newPage();
  await login.goto(`${secured}/ui/`);
  await login.getByRole("heading", { name: "Log in to zflow" }).waitFor();
  await login.getByLabel("Access key id").fill("AKIDUITEST");
  await login.getByLabel("Secret access key").fill("wrong");
  await login.getByRole("button", { name: "Log in" }).click();
  await login.getByText(/not this server's/).waitFor();
  await login.screenshot({ path: join(shots, "login.png") });
  await checkAccessibility(login, "the login page");
  await login.getByLabel("Secret access key").fill("ui-test-secret");
  await login.getByRole("button", { name: "Log in" }).click();
  await login.getByRole("heading", { name: "State machines" }).waitFor();
  const cookie = (await context.cookies(secured)).find((c) => c.name === "zflow_session");
  assert(cookie, "a session cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert(cookie.expires > Date.now() / 1000 && cookie.expires < Date.now() / 1000 + 13 * 3600);
  assert(!login.url().includes("secret") && !login.url().includes("AKID"), "no credentials in the URL");
  await login.getByRole("button", { name: "Log out" }).click();
  await login.getByRole("heading", { name: "Log in to zflow" }).waitFor();
  log(`ok: web UI in chromium (screenshots in ${shots})`);
}

try {
  await main();
} finally {
  if (browser) await browser.close();
  for (const s of servers) s.kill("SIGTERM");
  // The endpoint's serving process belongs to the server's work directory.
  try {
    execFileSync(zflow, ["endpoints", "delete", "fraud-scoring", "--work-dir", join(tmp, "data/work")], { stdio: "ignore" });
  } catch {
    /* none was deployed */
  }
  if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
}
