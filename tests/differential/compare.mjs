// How two run results ({status, output?, error?, cause?}) are compared.
//
// - status must be equal;
// - SUCCEEDED: outputs deep-equal, numbers by value (1 == 1.0), object members in any order;
// - FAILED: error names equal (causes are free text and are not compared);
// - TIMED_OUT / ABORTED: status only.
// Error outputs that a Catch put into the data ({"Error": "States.X", "Cause": "..."}) carry an
// implementation-specific cause for predefined (States.*) errors, so inside outputs the Cause of an
// object whose members are exactly Error and Cause, with a States.* Error, is ignored. A Fail
// state's own Error/Cause (not States.*) is compared in full.

export function normalizeOutput(v) {
  if (Array.isArray(v)) return v.map(normalizeOutput);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 2 && 'Error' in v && 'Cause' in v && typeof v.Error === 'string' && v.Error.startsWith('States.')) {
      return { Error: v.Error, Cause: '<cause of a predefined error: not compared>' };
    }
    return Object.fromEntries(keys.map((k) => [k, normalizeOutput(v[k])]));
  }
  return v;
}

export function deepEqual(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

// null when the results agree, otherwise a one-line description of the first difference.
export function difference(expected, actual) {
  if (expected.status !== actual.status) return `status: oracle ${expected.status}, zflow ${actual.status}`;
  if (expected.status === 'SUCCEEDED') {
    const e = normalizeOutput(expected.output);
    const a = normalizeOutput(actual.output);
    if (!deepEqual(e, a)) return `output differs at ${firstDiffPath(e, a, '$')}`;
  }
  if (expected.status === 'FAILED' && expected.error !== actual.error) {
    return `error: oracle ${expected.error}, zflow ${actual.error}`;
  }
  return null;
}

function firstDiffPath(a, b, at) {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${at} (oracle ${JSON.stringify(a)}, zflow ${JSON.stringify(b)})`;
  }
  if (Array.isArray(a)) {
    if (a.length !== b.length) return `${at} (oracle ${a.length} items, zflow ${b.length})`;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return firstDiffPath(a[i], b[i], `${at}[${i}]`);
  } else {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(k in a)) return `${at}.${k} (only zflow has it: ${JSON.stringify(b[k])})`;
      if (!(k in b)) return `${at}.${k} (only the oracle has it: ${JSON.stringify(a[k])})`;
      if (!deepEqual(a[k], b[k])) return firstDiffPath(a[k], b[k], `${at}.${k}`);
    }
  }
  return at;
}
