// How fast the web UI's pages are with many executions in the store: zflow serve on loopback
// with N executions of one state machine (default 10,000), Debian's chromium headless.
// Prints, per page, the median time from navigation until its content is on screen, and the
// bytes of data (not assets) the page fetched.
//
//   node bench/ui_bench.mjs ZFLOW [EXECUTIONS]      (from tests/, for playwright-core)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const require = createRequire(join(resolve("."), "package.json"));
const { chromium } = require("playwright-core");
const [zflow, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 10000);
const tmp = mkdtempSync(join(tmpdir(), "zflow-ui-bench-"));

const server = spawn(zflow, ["serve", "--port", "0", "--data-dir", join(tmp, "data")], { stdio: ["ignore", "pipe", "pipe"] });
const url = await new Promise((ok, fail) => {
  let out = "";
  const read = (c) => {
    out += c;
    const m = /listening on (\S+)/.exec(out);
    if (m) ok(m[1]);
  };
  server.stdout.on("data", read);
  server.stderr.on("data", read);
  server.on("exit", () => fail(new Error(out)));
});

async function sfn(action, body) {
  const r = await fetch(url + "/", {
    method: "POST",
    headers: { "X-Amz-Target": `AWSStepFunctions.${action}`, "Content-Type": "application/x-amz-json-1.0" },
    body: JSON.stringify(body),
  });
  return r.json();
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const machine = await sfn("CreateStateMachine", {
    name: "many",
    definition: JSON.stringify({
      StartAt: "Prepare",
      States: {
        Prepare: { Type: "Pass", Result: { day: "2026-12-07" }, Next: "Score" },
        Score: { Type: "Pass", Next: "Done" },
        Done: { Type: "Succeed" },
      },
    }),
    roleArn: "arn:aws:iam::123456789012:role/r",
  });
  const t0 = performance.now();
  let next = 0;
  const client = async () => {
    while (next < count) {
      const i = next++;
      await sfn("StartExecution", { stateMachineArn: machine.stateMachineArn, name: `run-${i}` });
    }
  };
  await Promise.all(Array.from({ length: 16 }, client));
  console.log(`${count} executions started in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  // Bytes of data (API answers, not the app's assets) the page fetched, as the browser saw them.
  const dataBytes = () => page.evaluate(() => performance.getEntriesByType("resource")
    .filter((e) => !e.name.includes("/ui/assets/"))
    .reduce((sum, e) => sum + e.decodedBodySize, 0));
  const measure = async (label, path, ready, runs = 7) => {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await page.goto(url + path);
      await ready();
      times.push(performance.now() - start);
      bytes = await dataBytes();
    }
    console.log(`${label.padEnd(44)} median ${median(times).toFixed(0).padStart(5)} ms  ` +
      `(min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}), data ${(bytes / 1024).toFixed(0)} KiB`);
  };
  await measure("front page (state machines)", "/ui/", () => page.getByRole("link", { name: "many" }).waitFor());
  await measure(`state machine page (${count} executions)`, "/ui/machines/many", async () => {
    await page.getByTestId("executions").getByRole("link", { name: `run-${count - 1}` }).waitFor();
    await page.getByTestId("run-grid").waitFor();
    await page.getByTestId("state-graph").locator("svg").waitFor();
  });
  const older = [];
  for (let i = 0; i < 7; i++) {
    await page.goto(url + "/ui/machines/many");
    await page.getByTestId("executions").getByRole("link", { name: `run-${count - 1}` }).waitFor();
    const start = performance.now();
    await page.getByRole("button", { name: "Older →" }).click();
    await page.getByTestId("executions").getByRole("link", { name: `run-${count - 26}` }).waitFor();
    older.push(performance.now() - start);
  }
  console.log(`${"next page of executions".padEnd(44)} median ${median(older).toFixed(0).padStart(5)} ms`);
  await measure("execution page", `/ui/executions/arn:aws:states:us-east-1:123456789012:execution:many:run-${count - 1}`,
    () => page.locator("g.node[data-state='Done'][data-status='succeeded']").waitFor());
  const api = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    await fetch(`${url}/zflow/executions?stateMachineArn=${encodeURIComponent(machine.stateMachineArn)}&maxResults=25&statusFilter=SUCCEEDED`);
    api.push(performance.now() - start);
  }
  console.log(`${"GET /zflow/executions (25, by status)".padEnd(44)} median ${median(api).toFixed(1).padStart(5)} ms`);
  await browser.close();
} finally {
  server.kill("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
}
