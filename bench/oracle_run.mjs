// Runs one state machine on aws-local-stepfunctions (the oracle) as a whole process, for
// bench/cli_vs_oracle.py: node bench/oracle_run.mjs NODE_MODULES DEFINITION.json
// Prints the execution's output as JSON.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks.
if (!Promise.withResolvers) {
  Promise.withResolvers = () => {
    let resolve, reject;
    const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}
const [modules, file] = process.argv.slice(2);
const entry = createRequire(join(resolve(modules), "noop.js")).resolve("aws-local-stepfunctions");
const { StateMachine } = await import(pathToFileURL(entry).href);
const machine = new StateMachine(JSON.parse(readFileSync(file, "utf8")));
const execution = machine.run({});
process.stdout.write(JSON.stringify(await execution.result) + "\n");
