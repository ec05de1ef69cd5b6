// Known bugs of the oracle (aws-local-stepfunctions 3.0.0): places where the AWS documentation
// says it behaves differently. Only entries checked against the AWS documentation belong here;
// each cites the page and quotes the sentence that shows the oracle is wrong.
//
// Each entry has:
//   id, doc (where AWS says so), summary,
//   applies(definition)  cheap static check: can this definition hit the bug at all?
//   patches              [from, to] source replacements that fix the bug in the oracle's bundle
//                        (build/main.node.esm.js of 3.0.0; each `from` must occur exactly once),
//   predicate(definition, input, oracleResult, zflowResult) -> Promise<reason string | null>:
//                        non-null when the bug applies and the oracle with this bug fixed agrees
//                        with zflow.
// explainDisagreement() below also handles disagreements that need several fixes at once: it runs
// the oracle with every applicable fix, and if that agrees with zflow, names the fixes that are
// needed (those whose removal makes the agreement go away).
import { difference } from './compare.mjs';

const walkStates = (definition, fn) => {
  const walk = (states) => {
    for (const [name, s] of Object.entries(states || {})) {
      fn(s, name);
      if (s.Type === 'Parallel') for (const b of s.Branches || []) walk(b.States);
      if (s.Type === 'Map') walk((s.ItemProcessor || s.Iterator || {}).States);
    }
  };
  walk(definition.States);
};
const someState = (definition, pred) => {
  let found = false;
  walkStates(definition, (s, n) => { if (pred(s, n)) found = true; });
  return found;
};
const text = (definition) => JSON.stringify(definition);

export const KNOWN_ORACLE_BUGS = [
  {
    // AWS docs, "Pass workflow state" (https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html):
    //   "Result (Optional): Refers to the output of a virtual task that is passed on to the next
    //   state." (older wording: "Treated as the output of a virtual task to be passed to the next
    //   state, and filtered as specified by the ResultPath field").
    // Any JSON value is a result. The oracle tests `if (this.stateDefinition.Result)`, so a Result
    // of 0, false, "" or null is ignored and the state passes its input on instead.
    id: 'pass-falsy-result',
    doc: 'https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html (Result)',
    summary: 'Pass state with a falsy Result (0, false, "", null) outputs its input instead of the Result',
    applies: (d) => someState(d, (s) => s.Type === 'Pass' && 'Result' in s && !s.Result),
    patches: [['if (this.stateDefinition.Result) {', 'if ("Result" in this.stateDefinition) {']],
  },
  {
    // AWS docs, "Handling errors in Step Functions workflows"
    // (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html), Error output:
    //   "If you don't specify the ResultPath field, it defaults to $, which selects and overwrites
    //   the entire input."
    // and "Specifying state output using ResultPath" (input-output-resultpath.html): ResultPath "$"
    // replaces the whole input with the result. The oracle strips "$." from the path and, for "$",
    // sets a member literally named "$" ({...input, "$": result}), and fails with
    // States.ResultPathMatchFailure when the input is not an object.
    id: 'resultpath-root',
    doc: 'https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Error output: ResultPath defaults to $, which overwrites the entire input)',
    summary: 'ResultPath "$" (state or catcher) adds a member named "$" instead of replacing the input',
    applies: (d) => text(d).includes('"ResultPath":"$"'),
    patches: [[
      '  const sanitizedPath = path.replace("$.", "");',
      '  if (path === "$") return result;\n  const sanitizedPath = path.replace("$.", "");',
    ]],
  },
  {
    // AWS docs, "Choice workflow state" (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html),
    // Choice Rules:
    //   "For each of these operators, the corresponding value must be of the appropriate type:
    //   string, number, Boolean, or timestamp. Step Functions doesn't attempt to match a numeric
    //   field to a string value." and "Timestamps (for example, 2016-08-18T17:33:00Z) must conform
    //   to RFC3339 profile ISO 8601, with further restrictions: An uppercase T must separate the
    //   date and time portions. An uppercase Z must denote that a numeric time zone offset isn't
    //   present."
    // The oracle compares with JavaScript's coercing operators ("3" < 5 and null <= 5 are true,
    // "10" > "9" as strings...) and parses Timestamp* variables with new Date(), which accepts
    // "2021-01-02", numbers and lowercase forms. The fix makes a String*/Numeric*/Boolean*/
    // Timestamp* rule false when the variable is not a string / number / boolean / RFC 3339
    // timestamp.
    id: 'choice-type-mismatch',
    doc: 'https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html (Choice Rules: "Step Functions doesn\'t attempt to match a numeric field to a string value")',
    summary: 'Choice comparisons coerce values of the wrong type instead of not matching',
    applies: (d) => /"(String|Numeric|Boolean|Timestamp)[A-Za-z]*":/.test(text(d)),
    patches: [[
      '    if ("Not" in choiceRule) {\n      return !this.testChoiceRule(choiceRule.Not, input, context);\n    }\n',
      `    if ("Not" in choiceRule) {
      return !this.testChoiceRule(choiceRule.Not, input, context);
    }
    {
      const zOp = Object.keys(choiceRule).find((k) => /^(String|Numeric|Boolean|Timestamp)/.test(k));
      if (zOp) {
        const zFamily = zOp.startsWith("String") ? "string" : zOp.startsWith("Numeric") ? "number" : zOp.startsWith("Boolean") ? "boolean" : "timestamp";
        const zValue = jsonPathQuery(choiceRule.Variable, input, context);
        const zOk = zFamily === "timestamp" ? typeof zValue === "string" && isRFC3339Timestamp(zValue) : typeof zValue === zFamily;
        if (!zOk) {
          if (zOp.endsWith("Path")) jsonPathQuery(choiceRule[zOp], input, context);
          return false;
        }
      }
    }
`,
    ]],
  },
  {
    // AWS docs, "Intrinsic functions for JSONPath states"
    // (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html), States.MathAdd,
    // Input validation:
    //   "You must specify integer values for all the arguments. If you specify a non-integer value
    //   for one or both the arguments, Step Functions will round it off to the nearest integer."
    // The oracle returns num1 + num2 unrounded (MathAdd(3, 0.5) is 3.5 instead of 4).
    id: 'mathadd-rounding',
    doc: 'https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html (States.MathAdd, Input validation)',
    summary: 'States.MathAdd does not round non-integer arguments',
    applies: (d) => text(d).includes('States.MathAdd('),
    patches: [['return num1 + num2;', 'return Math.round(num1) + Math.round(num2);']],
  },
  {
    // AWS docs, "Intrinsic functions for JSONPath states"
    // (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html), States.StringSplit,
    // "Example - Split an input string using multiple delimiting characters":
    //   inputString "This.is+a,test=string" with splitter ".+,=" returns
    //   ["This", "is", "a", "test", "string"].
    // Every character of the second argument is a delimiter. The oracle calls
    // str.split(separator), which only splits on the whole separator string.
    id: 'stringsplit-delimiter-set',
    doc: 'https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html (States.StringSplit, multiple delimiting characters)',
    summary: 'States.StringSplit treats a multi-character second argument as one separator instead of a set of delimiter characters',
    applies: (d) => text(d).includes('States.StringSplit('),
    patches: [[
      'return str.split(separator);',
      'const zSet = new Set([...separator]); const zOut = []; let zCur = ""; for (const ch of str) { if (zSet.has(ch)) { zOut.push(zCur); zCur = ""; } else { zCur += ch; } } zOut.push(zCur); return zOut;',
    ]],
  },
];

async function oracleWith(definition, input, ids) {
  const { runOracle } = await import('./oracle.mjs');
  return runOracle(definition, input, ids);
}

for (const bug of KNOWN_ORACLE_BUGS) {
  bug.predicate = async (definition, input, oracleResult, zflowResult) => {
    if (!bug.applies(definition)) return null;
    if (!difference(oracleResult, zflowResult)) return null;
    const fixed = await oracleWith(definition, input, [bug.id]);
    return difference(fixed, zflowResult) ? null : `${bug.id}: ${bug.summary} (${bug.doc})`;
  };
}

// A reason string when the disagreement is explained by known oracle bugs, else null.
export async function explainDisagreement(definition, input, oracleResult, zflowResult) {
  for (const bug of KNOWN_ORACLE_BUGS) {
    const reason = await bug.predicate(definition, input, oracleResult, zflowResult);
    if (reason) return { reason, ids: [bug.id] };
  }
  const candidates = KNOWN_ORACLE_BUGS.filter((b) => b.applies(definition)).map((b) => b.id);
  if (candidates.length < 2) return null;
  const allFixed = await oracleWith(definition, input, candidates);
  if (difference(allFixed, zflowResult)) return null;
  const needed = [];
  for (const id of candidates) {
    const without = await oracleWith(definition, input, candidates.filter((c) => c !== id));
    if (difference(without, zflowResult)) needed.push(id);
  }
  const ids = needed.length ? needed : candidates;
  const reasons = ids.map((id) => { const b = KNOWN_ORACLE_BUGS.find((x) => x.id === id); return `${id}: ${b.summary} (${b.doc})`; });
  return { reason: reasons.join('; '), ids };
}
