#!/usr/bin/env node
// Deterministic generator of random, valid JSONPath-mode ASL state machines and their inputs, for
// differential testing of `zflow run` against aws-local-stepfunctions.
//
//   node generate.mjs SEED OUTDIR      writes OUTDIR/SEED.asl.json and OUTDIR/SEED.input.json
//   import { generateCase } from './generate.mjs'; const { definition, input } = generateCase(7);
//
// Same seed, same files (a seeded sfc32 PRNG; Math.random is never used). Machines have 5-25
// states (nested ones included), are acyclic except for one kind of bounded counter loop, and use
// Task resource "arn:aws:states:::zflow:echo" (the task returns its effective input).
//
// The generator keeps a model of the data flowing through each state (concrete JSON, with
// `Unknown` placeholders where a value depends on the run, e.g. Map results), so most paths it
// writes exist. At the top level a few paths deliberately do not (States.Runtime, which States.ALL
// does not catch), and a few states deliberately hit States.ResultPathMatchFailure.
//
// Rules that keep the oracle comparison deterministic and inside documented AWS behaviour:
// - every Fail state inside one top-level Parallel/Map uses the same Error, and nested scopes use
//   no risky paths and always give Choice a Default, so concurrent branches cannot race to fail
//   with different error names;
// - in machines with TimeoutSeconds (always 7 mod 10), every wait and retry delay is a multiple of
//   5 seconds, so a timeout never ties with the end of a wait;
// - strings contain no quote, backslash, brace or non-ASCII character; Fail states always have
//   Error and Cause; $$ is only used for $$.Map.Item in ItemSelector and $$.Execution.Input at the
//   top level; Is* operators are only used with `true` (negation goes through Not);
//   StringMatches patterns only use '*'; ArrayGetItem indexes are in range; StringSplit is only
//   applied to strings without empty tokens;
// - what the oracle cannot run is avoided: non-integer number literals in intrinsic arguments and
//   null/"" inside literal arrays of payload templates (its asl-validator rejects them), and "$"
//   paths on a root that may be false/0/""/null (its jsonpath-plus selects nothing there).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const ECHO_RESOURCE = 'arn:aws:states:::zflow:echo';

// ---------------------------------------------------------------------------------------------
// PRNG: cyrb128 seeding + sfc32.
function cyrb128(str) {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0, k; i < str.length; i++) {
    k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

export class Rng {
  constructor(seed) {
    [this.a, this.b, this.c, this.d] = cyrb128(`zflow-differential:${seed}`);
    for (let i = 0; i < 16; i++) this.next();
  }
  next() {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p) { return this.next() < p; }
  pick(arr) { return arr[Math.floor(this.next() * arr.length)]; }
  // weighted([[w, v], ...]) -> v
  weighted(pairs) {
    const total = pairs.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of pairs) {
      if ((r -= w) < 0) return v;
    }
    return pairs[pairs.length - 1][1];
  }
  shuffle(arr) {
    const a = [...arr];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  sample(arr, n) { return this.shuffle(arr).slice(0, n); }
}

// ---------------------------------------------------------------------------------------------
// Data model. Unknown stands for a value whose type is known but not its content.
export class Unknown {
  constructor(type, samples = []) { this.type = type; this.samples = samples; }
}
const U = (type, samples) => new Unknown(type, samples);

const TS_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,3})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
export const isTimestamp = (s) => typeof s === 'string' && TS_RE.test(s);

function kindOf(v) {
  if (v instanceof Unknown) return v.type;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return isTimestamp(v) ? 'timestamp' : 'string';
  return 'any';
}
const isNum = (k) => k === 'int' || k === 'float';
// "$" is only used on objects and arrays: the oracle's jsonpath-plus selects nothing for "$" when
// the root is false, 0, "" or null.
const rootOk = (v) => ['object', 'array'].includes(kindOf(v));
const falsy = (p) => p.value instanceof Unknown ? !['object', 'array'].includes(p.value.type) : !p.value;
const isStr = (k) => k === 'string' || k === 'timestamp';
const isConcrete = (v) => {
  if (v instanceof Unknown) return false;
  if (Array.isArray(v)) return v.every(isConcrete);
  if (v !== null && typeof v === 'object') return Object.values(v).every(isConcrete);
  return true;
};
const clone = (v) => (v instanceof Unknown ? v : v === null || typeof v !== 'object' ? v
  : Array.isArray(v) ? v.map(clone) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])));

// A path is a list of segments: strings (member names) or numbers (indexes).
function pathText(segs, bracketKeys = false) {
  let s = '$';
  for (const seg of segs) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (bracketKeys) s += `['${seg}']`;
    else s += `.${seg}`;
  }
  return s;
}
// { found: true, value } | { found: false } | { unknown: true }
function lookup(v, segs) {
  let cur = v;
  for (const seg of segs) {
    if (cur instanceof Unknown) return { unknown: true };
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return { found: false };
      cur = cur[seg];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !(seg in cur)) return { found: false };
      cur = cur[seg];
    }
  }
  return { found: true, value: cur };
}
// Every definite path under v (not into Unknowns), with its value.
function enumPaths(v, maxDepth = 4) {
  const out = [];
  const walk = (x, segs) => {
    if (segs.length >= maxDepth || x instanceof Unknown || x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      x.slice(0, 3).forEach((e, i) => { out.push({ segs: [...segs, i], value: e }); walk(e, [...segs, i]); });
    } else {
      for (const [k, e] of Object.entries(x)) { out.push({ segs: [...segs, k], value: e }); walk(e, [...segs, k]); }
    }
  };
  walk(v, []);
  return out;
}
function assign(v, segs, value) {
  if (segs.length === 0) return value;
  const [head, ...rest] = segs;
  const base = v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unknown) ? v : {};
  return { ...base, [head]: assign(base[head], rest, value) };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'red', 'green', 'blue', 'item', 'Zed', 'apple',
  'Banana', 'cherry', 'MiXeD', 'order', 'ship', 'north', 'south', 'x', 'yy', 'z9', 'hello world',
  'a b c', 'done', 'pending', 'ok', 'FAILED', 'node-1', 'v1.2.3', 'path/to/file', 'under_score',
  'key:value', 'tab sep', 'Omega', 'zeta'];
const ODD_STRINGS = ['42', '-3.5', '007', 'true', 'null', '', ' ', '2021-01-02', '1e3', 'a*b',
  '2021-03-04t05:06:07z'];
const KEYS = ['id', 'name', 'count', 'price', 'ratio', 'active', 'flag', 'tags', 'items', 'meta',
  'when', 'created', 'note', 'csv', 'code', 'level', 'score', 'user', 'limits', 'wait', 'nothing',
  'values', 'label', 'kind', 'status', 'ts', 'amount', 'qty', 'path', 'extra', 'owner', 'region',
  'retries', 'flags', 'info', 'payload', 'ref', 'total', 'unit', 'zone'];
const ERROR_NAMES = ['CustomError', 'Oops.Failed', 'ValidationError', 'E1', 'Timeout.Custom',
  'Rejected', 'Lambda.Unknown', 'BadInput', 'NotFound', 'Conflict'];
const CAUSES = ['it broke', 'validation failed', 'no such item', 'custom cause', 'limit reached',
  'bad input: see logs', 'x', 'conflict on write'];

// ---------------------------------------------------------------------------------------------
// Input generation.
function genTimestamp(rng, { future = false } = {}) {
  const y = future ? rng.int(2090, 2099) : rng.int(2015, 2024);
  const p2 = (n) => String(n).padStart(2, '0');
  let s = `${y}-${p2(rng.int(1, 12))}-${p2(rng.int(1, 28))}T${p2(rng.int(0, 23))}:${p2(rng.int(0, 59))}:${p2(rng.int(0, 59))}`;
  const form = rng.weighted([[6, 'Z'], [2, 'frac'], [1, 'offset']]);
  if (form === 'frac') s += `.${rng.pick(['5', '25', '125', '500', '999'])}Z`;
  else if (form === 'offset') s += `${rng.pick(['+', '-'])}${p2(rng.int(0, 11))}:${rng.pick(['00', '30'])}`;
  else s += 'Z';
  return s;
}
function genFloat(rng) {
  return rng.int(-200, 500) + rng.pick([0.25, 0.5, 0.75, 0.125, 0.1, 0.3]);
}
function genWord(rng) {
  if (rng.chance(0.12)) return rng.pick(ODD_STRINGS);
  let w = rng.pick(WORDS);
  if (rng.chance(0.3)) w += String(rng.int(0, 99));
  return w;
}
function genCsv(rng, delims = [',']) {
  const n = rng.int(1, 5);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(rng.pick(['a', 'bb', 'c3', 'dd', 'e', 'red', 'x1', 'y', '42', 'Zz']));
  let s = parts[0];
  for (let i = 1; i < n; i++) s += rng.pick(delims) + parts[i];
  return s;
}
function genScalar(rng) {
  return rng.weighted([
    [4, () => rng.int(-20, 120)],
    [2, () => genFloat(rng)],
    [4, () => genWord(rng)],
    [2, () => rng.chance(0.5)],
    [1, () => null],
    [2, () => genTimestamp(rng)],
  ])();
}
function genValue(rng, depth = 0) {
  if (depth >= 3) return genScalar(rng);
  return rng.weighted([
    [8, () => genScalar(rng)],
    [2, () => Array.from({ length: rng.int(0, 4) }, () => genScalar(rng))],
    [2, () => {
      const o = {};
      for (const k of rng.sample(KEYS, rng.int(1, 4))) o[k] = genValue(rng, depth + 1);
      return o;
    }],
  ])();
}
function genRecords(rng) {
  const n = rng.int(1, 4);
  const withTs = rng.chance(0.5);
  return Array.from({ length: n }, (_, i) => {
    const r = { id: i + rng.int(1, 5) * 10, name: rng.pick(WORDS), ok: rng.chance(0.5), score: rng.chance(0.5) ? rng.int(0, 100) : genFloat(rng) };
    if (withTs) r.at = genTimestamp(rng);
    if (rng.chance(0.3)) r.sub = { depth: rng.int(0, 3), tag: rng.pick(WORDS) };
    return r;
  });
}
export function genInput(rng) {
  const o = {};
  o.count = rng.int(0, 50);
  o.price = genFloat(rng);
  o.name = genWord(rng);
  o.active = rng.chance(0.5);
  o.when = genTimestamp(rng);
  o.csv = genCsv(rng);
  if (rng.chance(0.5)) o.multi = genCsv(rng, ['.', '-', '+', ',']);
  o.tags = Array.from({ length: rng.int(1, 4) }, () => rng.pick(WORDS));
  o.values = Array.from({ length: rng.int(0, 5) }, () => rng.int(-5, 30));
  o.items = genRecords(rng);
  o.meta = { owner: rng.pick(WORDS), level: rng.int(0, 9), inner: { code: genWord(rng), flag: rng.chance(0.5), at: genTimestamp(rng) } };
  o.wait = rng.int(0, 6) * 10;
  o.nothing = null;
  const extras = rng.sample(KEYS.filter((k) => !(k in o)), rng.int(1, 5));
  for (const k of extras) o[k] = genValue(rng);
  // Shuffle key order so that order-sensitive bugs are more likely to show.
  return Object.fromEntries(rng.shuffle(Object.entries(o)));
}

// ---------------------------------------------------------------------------------------------
// The machine generator.
class Gen {
  constructor(seed) {
    this.seed = seed;
    this.rng = new Rng(seed);
    this.input = genInput(this.rng);
    this.maxStates = this.rng.int(5, 25);
    this.count = 0;
    this.serial = 0;
    this.freshKey = 0;
    this.names = new Set();
    this.timeoutSeconds = this.rng.chance(0.18) ? this.rng.pick([17, 27, 37, 57, 97, 207]) : null;
  }

  stateName(prefix) {
    const rng = this.rng;
    let name;
    do {
      const n = ++this.serial;
      name = rng.weighted([[6, `${prefix}${n}`], [1, `${prefix} ${n}`], [1, `${prefix}-${n}`]]);
    } while (this.names.has(name));
    this.names.add(name);
    this.count++;
    return name;
  }
  fresh(prefix = 'r') { return `${prefix}${++this.freshKey}`; }

  // Scope: { states, nested, risky, errName, top }
  topScope(states) { return { states, nested: false, risky: 0.04, errName: null, top: true }; }
  nestedScope(parent, states) {
    return { states, nested: true, risky: 0, errName: parent.errName ?? this.rng.pick(ERROR_NAMES), top: false };
  }

  // ----- paths -------------------------------------------------------------------------------
  // A path (text) to a value of one of `kinds` in v (or any kind when kinds is null), or null.
  pathTo(v, kinds, { allowRoot = false, exclude = null } = {}) {
    let cands = enumPaths(v).filter((p) => !kinds || kinds.includes(kindOf(p.value)));
    if (exclude) cands = cands.filter((p) => !exclude(p));
    if (allowRoot && (!kinds || kinds.includes(kindOf(v)))) cands.push({ segs: [], value: v });
    if (cands.length === 0) return null;
    const p = this.rng.pick(cands);
    return { text: pathText(p.segs), segs: p.segs, value: p.value };
  }
  missingPath(v) {
    const rng = this.rng;
    const objs = enumPaths(v).filter((p) => kindOf(p.value) === 'object');
    const arrs = enumPaths(v).filter((p) => kindOf(p.value) === 'array');
    return rng.weighted([
      [3, () => `$.${rng.pick(['missing', 'nope', 'absent', 'undefinedField'])}${rng.int(1, 9)}`],
      [2, () => (objs.length ? `${pathText(rng.pick(objs).segs)}.notThere` : '$.notThere')],
      [1, () => (arrs.length ? `${pathText(rng.pick(arrs).segs)}[${rng.int(7, 30)}]` : '$.gone[3]')],
    ])();
  }

  // ----- literals ----------------------------------------------------------------------------
  // inArray: asl-validator 4 rejects null and "" as array elements of payload templates (AWS
  // does not), so the oracle could not run such machines: they are not generated.
  genLiteral(depth = 0, inArray = false) {
    const rng = this.rng;
    const v = rng.weighted([
      [5, () => genScalar(rng)],
      [1, () => rng.pick([0, false, '', null])],
      [1, () => (depth < 2 ? Array.from({ length: rng.int(0, 3) }, () => this.genLiteral(depth + 1, true)) : 1)],
      [1, () => (depth < 2 ? Object.fromEntries(rng.sample(KEYS, rng.int(0, 3)).map((k) => [k, this.genLiteral(depth + 1)])) : 'leaf')],
    ])();
    return inArray && (v === null || v === '') ? 'elem' : v;
  }
  strLit() {
    // Safe inside a single-quoted intrinsic literal: no ' { } \ ( ).
    return this.rng.pick([...WORDS, 'x,y', 'id-7', 'v:1', '']);
  }

  // ----- intrinsic functions -----------------------------------------------------------------
  // Returns { expr, value } or null. `v` is the template's input; `ctxInput` adds $$ values.
  genIntrinsic(v, depth = 0) {
    const rng = this.rng;
    const fmtArg = (x) => (typeof x === 'string' ? x : x === null ? 'null' : String(x));
    const scalarArg = () => {
      const p = rng.chance(0.7) ? this.pathTo(v, ['string', 'int', 'float', 'boolean', 'null', 'timestamp']) : null;
      if (p && !(p.value instanceof Unknown)) return { text: p.text, value: p.value };
      if (p) return { text: p.text, value: U('string') };
      return rng.weighted([
        [2, () => { const n = rng.int(-9, 99); return { text: String(n), value: n }; }],
        [2, () => { const s = this.strLit(); return { text: `'${s}'`, value: s }; }],
        [1, () => ({ text: rng.pick(['true', 'false', 'null']), value: JSON.parse(rng.pick(['true', 'false', 'null'])) })],
      ])();
    };
    const concreteStr = (pred = () => true) => {
      const cands = enumPaths(v).filter((p) => typeof p.value === 'string' && pred(p.value));
      return cands.length ? rng.pick(cands) : null;
    };
    const arrayPath = (pred = () => true) => {
      const cands = enumPaths(v).filter((p) => Array.isArray(p.value) && pred(p.value));
      if (kindOf(v) === 'array' && Array.isArray(v) && pred(v)) cands.push({ segs: [], value: v });
      return cands.length ? rng.pick(cands) : null;
    };
    const splittable = (s, delims) => {
      if (s.length === 0 || s.length > 200) return false;
      const set = new Set(delims);
      let prevDelim = true;
      for (const ch of s) {
        const d = set.has(ch);
        if (d && prevDelim) return false;
        prevDelim = d;
      }
      return !prevDelim;
    };
    const splitBy = (s, delims) => {
      const set = new Set(delims);
      const out = [];
      let cur = '';
      for (const ch of s) { if (set.has(ch)) { out.push(cur); cur = ''; } else cur += ch; }
      out.push(cur);
      return out;
    };
    const options = [
      [4, () => { // Format
        const n = rng.int(0, 3);
        const args = Array.from({ length: n }, scalarArg);
        const pieces = [rng.pick(['', 'v=', 'Hello ', 'id:'])];
        for (let i = 0; i < n; i++) pieces.push('{}', rng.pick(['', ' and ', '-', ', ', ' / ']));
        const tmpl = pieces.join('');
        let value;
        if (args.every((a) => !(a.value instanceof Unknown))) {
          let i = 0;
          value = tmpl.replace(/\{\}/g, () => fmtArg(args[i++].value));
        } else value = U('string');
        return { expr: `States.Format('${tmpl}'${args.map((a) => `, ${a.text}`).join('')})`, value };
      }],
      [2, () => { // Array
        const n = rng.int(0, 3);
        const args = Array.from({ length: n }, () => {
          if (depth < 2 && rng.chance(0.15)) {
            const inner = this.genIntrinsic(v, depth + 1);
            if (inner) return { text: inner.expr, value: inner.value };
          }
          const p = rng.chance(0.5) ? this.pathTo(v, null) : null;
          return p ? { text: p.text, value: p.value } : scalarArg();
        });
        return { expr: `States.Array(${args.map((a) => a.text).join(', ')})`, value: args.map((a) => a.value) };
      }],
      [3, () => { // ArrayLength
        if (depth < 2 && rng.chance(0.3)) {
          const inner = this.genIntrinsicOfKind(v, 'array', depth + 1);
          if (inner) return { expr: `States.ArrayLength(${inner.expr})`, value: Array.isArray(inner.value) ? inner.value.length : U('int') };
        }
        const p = arrayPath();
        if (!p) return null;
        return { expr: `States.ArrayLength(${pathText(p.segs)})`, value: p.value.length };
      }],
      [3, () => { // MathAdd
        // A non-integer argument is rounded (AWS documents it); it only comes through a path,
        // because asl-validator rejects non-integer number literals in intrinsic arguments.
        const want = rng.chance(0.15) ? 'float' : 'int';
        const nums = enumPaths(v).filter((p) => kindOf(p.value) === want && (p.value instanceof Unknown || Math.abs(p.value) < 1e6));
        const a = nums.length && rng.chance(0.7) ? rng.pick(nums) : null;
        const aText = a ? pathText(a.segs) : String(rng.int(-50, 50));
        const aVal = a ? a.value : Number(aText);
        const b = rng.int(-10, 10);
        const value = aVal instanceof Unknown ? U('int') : Math.round(aVal) + b;
        return { expr: `States.MathAdd(${aText}, ${b})`, value };
      }],
      [3, () => { // StringSplit
        const multi = rng.chance(0.25);
        const delims = multi ? rng.pick(['.-+,', ',.', '-+']) : rng.pick([',', ',', '-', ' ']);
        const p = concreteStr((s) => splittable(s, delims));
        if (p && rng.chance(0.7)) return { expr: `States.StringSplit(${pathText(p.segs)}, '${delims}')`, value: splitBy(p.value, delims) };
        const lit = genCsv(rng, multi ? [...delims] : [delims[0]]);
        return { expr: `States.StringSplit('${lit}', '${delims}')`, value: splitBy(lit, delims) };
      }],
      [2, () => { // JsonToString
        const p = this.pathTo(v, null);
        if (!p || !isConcrete(p.value)) return null;
        return { expr: `States.JsonToString(${p.text})`, value: JSON.stringify(p.value) };
      }],
      [3, () => { // ArrayGetItem
        if (depth < 2 && rng.chance(0.3)) {
          const inner = this.genIntrinsicOfKind(v, 'array', depth + 1);
          if (inner && Array.isArray(inner.value) && inner.value.length > 0) {
            const i = rng.int(0, inner.value.length - 1);
            return { expr: `States.ArrayGetItem(${inner.expr}, ${i})`, value: inner.value[i] };
          }
        }
        const p = arrayPath((a) => a.length > 0);
        if (!p) return null;
        const i = rng.int(0, p.value.length - 1);
        return { expr: `States.ArrayGetItem(${pathText(p.segs)}, ${i})`, value: p.value[i] };
      }],
      [2, () => { // ArrayContains
        const p = arrayPath((a) => a.every((x) => !(x instanceof Unknown)));
        if (!p) return null;
        let needle;
        if (p.value.length && rng.chance(0.5)) {
          const e = rng.pick(p.value);
          // Non-integer number literals are left out: asl-validator rejects them in intrinsic
          // arguments (AWS accepts them), so the oracle could not run the machine.
          if ((e === null || typeof e !== 'object') && !(typeof e === 'number' && !Number.isInteger(e))) {
            needle = { text: typeof e === 'string' ? `'${e}'` : JSON.stringify(e), value: e };
          }
        }
        if (needle && typeof needle.value === 'string' && /['{}\\()]/.test(needle.value)) needle = null;
        needle ??= scalarArg();
        if (needle.value instanceof Unknown) return null;
        const value = p.value.some((x) => JSON.stringify(x) === JSON.stringify(needle.value));
        return { expr: `States.ArrayContains(${pathText(p.segs)}, ${needle.text})`, value };
      }],
      [2, () => { // ArrayRange
        const start = rng.int(-5, 10);
        const step = rng.pick([1, 2, 3, -1, -2]);
        const end = start + step * rng.int(-1, 8);
        const out = [];
        for (let x = start; step > 0 ? x <= end : x >= end; x += step) out.push(x);
        return { expr: `States.ArrayRange(${start}, ${end}, ${step})`, value: out };
      }],
      [2, () => { // Base64Encode (+ Decode)
        const p = concreteStr((s) => s.length <= 200);
        const text = p && rng.chance(0.6) ? pathText(p.segs) : null;
        const raw = text ? p.value : this.strLit();
        const arg = text ?? `'${raw}'`;
        const enc = Buffer.from(raw, 'utf8').toString('base64');
        if (rng.chance(0.3)) return { expr: `States.Base64Decode(States.Base64Encode(${arg}))`, value: raw };
        return { expr: `States.Base64Encode(${arg})`, value: enc };
      }],
      [2, () => { // Hash
        const p = concreteStr((s) => s.length <= 200);
        const text = p && rng.chance(0.6) ? pathText(p.segs) : null;
        const raw = text ? p.value : this.strLit();
        const alg = rng.pick(['MD5', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']);
        const node = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[alg];
        return { expr: `States.Hash(${text ?? `'${raw}'`}, '${alg}')`, value: crypto.createHash(node).update(raw, 'utf8').digest('hex') };
      }],
      [1, () => { // ArrayUnique
        const p = arrayPath((a) => a.every(isConcrete));
        if (!p) return null;
        const seen = new Set();
        const value = p.value.filter((x) => { const k = JSON.stringify(x); if (seen.has(k)) return false; seen.add(k); return true; });
        return { expr: `States.ArrayUnique(${pathText(p.segs)})`, value };
      }],
      [1, () => { // ArrayPartition
        const p = arrayPath();
        if (!p) return null;
        const n = rng.int(1, 3);
        const value = [];
        for (let i = 0; i < p.value.length; i += n) value.push(p.value.slice(i, i + n));
        return { expr: `States.ArrayPartition(${pathText(p.segs)}, ${n})`, value };
      }],
      [1, () => { // StringToJson(JsonToString(x))
        const p = this.pathTo(v, ['object', 'array', 'int', 'string', 'boolean']);
        if (!p || !isConcrete(p.value)) return null;
        return { expr: `States.StringToJson(States.JsonToString(${p.text}))`, value: clone(p.value) };
      }],
    ];
    for (let attempt = 0; attempt < 6; attempt++) {
      const r = rng.weighted(options)();
      if (r) return r;
    }
    return null;
  }
  genIntrinsicOfKind(v, kind, depth) {
    for (let i = 0; i < 6; i++) {
      const r = this.genIntrinsic(v, depth);
      if (r && kindOf(r.value) === kind) return r;
    }
    return null;
  }

  // ----- payload templates -------------------------------------------------------------------
  // Returns { tpl, value }. `v` is what "$" means; extra: { mapItem, top }.
  genTemplate(scope, v, { mapItem = null, depth = 0, keys = null } = {}) {
    const rng = this.rng;
    const tpl = {};
    const value = {};
    const n = keys ?? rng.int(1, 4);
    if (mapItem && depth === 0) {
      if (rng.chance(0.8)) { tpl['index.$'] = '$$.Map.Item.Index'; value.index = U('int'); }
      if (rng.chance(0.85)) { tpl['value.$'] = '$$.Map.Item.Value'; value.value = mapItem.rep; }
      if (mapItem.fields.length && rng.chance(0.4)) {
        const f = rng.pick(mapItem.fields);
        tpl[`${f}.$`] = `$$.Map.Item.Value.${f}`;
        value[f] = mapItem.rep[f];
      }
    }
    const used = new Set(Object.keys(value));
    for (let i = 0; i < n; i++) {
      let k;
      do { k = rng.pick(KEYS) + (rng.chance(0.3) ? String(rng.int(1, 9)) : ''); } while (used.has(k));
      used.add(k);
      const kind = rng.weighted([[3, 'lit'], [4, 'path'], [4, 'intrinsic'], [depth < 1 ? 1 : 0, 'nested'], [1, 'root'],
        [scope.top ? 0.3 : 0, 'exec'], [0.4, 'wildcard'], [scope.risky > 0 ? 0.6 : 0, 'missing']]);
      if (kind === 'lit') {
        tpl[k] = this.genLiteral();
        value[k] = clone(tpl[k]);
      } else if (kind === 'path') {
        const p = this.pathTo(v, null);
        if (!p) { tpl[k] = 1; value[k] = 1; continue; }
        tpl[`${k}.$`] = rng.chance(0.1) ? pathText(p.segs, true) : p.text;
        value[k] = clone(p.value);
      } else if (kind === 'intrinsic') {
        const r = this.genIntrinsic(v);
        if (!r) { tpl[k] = 'none'; value[k] = 'none'; continue; }
        tpl[`${k}.$`] = r.expr;
        value[k] = r.value;
      } else if (kind === 'nested') {
        const r = this.genTemplate(scope, v, { depth: depth + 1 });
        tpl[k] = r.tpl;
        value[k] = r.value;
      } else if (kind === 'root' && rootOk(v)) {
        tpl[`${k}.$`] = '$';
        value[k] = clone(v);
      } else if (kind === 'root') {
        tpl[k] = 'root';
        value[k] = 'root';
      } else if (kind === 'exec') {
        tpl[`${k}.$`] = '$$.Execution.Input';
        value[k] = clone(this.input);
      } else if (kind === 'wildcard') {
        const arrs = enumPaths(v).filter((p) => Array.isArray(p.value) && p.value.length > 0 && isConcrete(p.value));
        if (!arrs.length) { tpl[k] = true; value[k] = true; continue; }
        const p = rng.pick(arrs);
        const recs = p.value.every((e) => e && typeof e === 'object' && !Array.isArray(e));
        if (recs && rng.chance(0.6)) {
          const field = rng.pick(Object.keys(p.value[0]).filter((f) => p.value.every((e) => f in e)) || ['id']);
          if (field !== undefined) {
            tpl[`${k}.$`] = `${pathText(p.segs)}[*].${field}`;
            value[k] = p.value.map((e) => clone(e[field]));
            continue;
          }
        }
        tpl[`${k}.$`] = `${pathText(p.segs)}[*]`;
        value[k] = clone(p.value);
      } else {
        tpl[`${k}.$`] = this.missingPath(v);
        value[k] = U('any');
      }
    }
    return { tpl, value };
  }

  // ----- Choice rules ------------------------------------------------------------------------
  genRule(scope, v, depth = 0) {
    const rng = this.rng;
    if (depth < 2 && rng.chance(0.25)) {
      const op = rng.weighted([[2, 'And'], [2, 'Or'], [1, 'Not']]);
      if (op === 'Not') return { Not: this.genRule(scope, v, depth + 1) };
      return { [op]: Array.from({ length: rng.int(2, 3) }, () => this.genRule(scope, v, depth + 1)) };
    }
    // IsPresent on a path that may be missing: never an error.
    if (rng.chance(0.12)) {
      const p = rng.chance(0.5) ? this.pathTo(v, null) : null;
      return { Variable: p ? p.text : this.missingPath(v), IsPresent: true };
    }
    if (scope.risky > 0 && rng.chance(scope.risky)) {
      return rng.chance(0.5) ? { Variable: this.missingPath(v), StringEquals: genWord(rng) }
        : { Variable: this.missingPath(v), NumericGreaterThan: rng.int(0, 9) };
    }
    const p = this.pathTo(v, null, { allowRoot: rootOk(v) });
    if (!p) return { Variable: `$.absent${rng.int(1, 9)}`, IsPresent: true };
    const kind = kindOf(p.value);
    const samples = p.value instanceof Unknown ? p.value.samples : [p.value];
    // Mostly the operator family of the value's type; sometimes a mismatched one (false in AWS).
    let family = rng.chance(0.82) ? kind : rng.pick(['string', 'int', 'boolean', 'timestamp', 'null', 'is']);
    if (family === 'any' || family === 'object' || family === 'array') family = 'is';
    const lit = (() => {
      const s = samples.length ? rng.pick(samples) : undefined;
      return s;
    })();
    const pathOperand = (kinds) => {
      const q = this.pathTo(v, kinds);
      return q ? q.text : null;
    };
    const rule = { Variable: p.text };
    switch (family) {
      case 'string': {
        const op = rng.pick(['StringEquals', 'StringEquals', 'StringLessThan', 'StringGreaterThan', 'StringLessThanEquals', 'StringGreaterThanEquals', 'StringMatches', 'StringMatches']);
        if (op === 'StringMatches') {
          const base = typeof lit === 'string' ? lit : genWord(rng);
          rule.StringMatches = this.matchPattern(base);
        } else if (rng.chance(0.25) && pathOperand(['string', 'timestamp'])) {
          rule[`${op}Path`] = pathOperand(['string', 'timestamp']);
        } else {
          rule[op] = typeof lit === 'string' && rng.chance(0.6) ? lit : genWord(rng);
        }
        break;
      }
      case 'int':
      case 'float': {
        const op = rng.pick(['NumericEquals', 'NumericLessThan', 'NumericGreaterThan', 'NumericLessThanEquals', 'NumericGreaterThanEquals']);
        if (rng.chance(0.25) && pathOperand(['int', 'float'])) {
          rule[`${op}Path`] = pathOperand(['int', 'float']);
        } else {
          const base = typeof lit === 'number' ? lit : rng.int(-10, 60);
          rule[op] = rng.weighted([[3, base], [1, base + 1], [1, base - 1], [1, base + 0.5], [1, Math.trunc(base)]]);
        }
        break;
      }
      case 'boolean': {
        if (rng.chance(0.2) && pathOperand(['boolean'])) rule.BooleanEqualsPath = pathOperand(['boolean']);
        else rule.BooleanEquals = typeof lit === 'boolean' && rng.chance(0.6) ? lit : rng.chance(0.5);
        break;
      }
      case 'timestamp': {
        const op = rng.pick(['TimestampEquals', 'TimestampLessThan', 'TimestampGreaterThan', 'TimestampLessThanEquals', 'TimestampGreaterThanEquals']);
        if (rng.chance(0.25) && pathOperand(['timestamp'])) {
          rule[`${op}Path`] = pathOperand(['timestamp']);
        } else if (typeof lit === 'string' && isTimestamp(lit) && rng.chance(0.5)) {
          rule[op] = new Date(lit).toISOString().replace('.000Z', 'Z');
        } else {
          rule[op] = genTimestamp(rng).replace(/(\.\d+)?([+-]\d\d:\d\d|Z)$/, 'Z');
        }
        break;
      }
      case 'null':
        rule.IsNull = true;
        break;
      default:
        rule[rng.pick(['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'])] = true;
    }
    return rule;
  }
  matchPattern(base) {
    const rng = this.rng;
    const esc = (s) => s.replace(/\*/g, '\\*');
    if (base.length === 0) return rng.pick(['*', '']);
    const i = rng.int(0, base.length);
    const j = rng.int(i, base.length);
    return rng.weighted([
      [2, () => `${esc(base.slice(0, i))}*`],
      [2, () => `*${esc(base.slice(j))}`],
      [2, () => `${esc(base.slice(0, i))}*${esc(base.slice(j))}`],
      [1, () => esc(base)],
      [1, () => `${esc(base)}x*`],
      [1, () => '*'],
    ])();
  }

  // ----- common fields -----------------------------------------------------------------------
  // InputPath selection: returns { field, eff } (field undefined when not set).
  genInputPath(scope, v) {
    const rng = this.rng;
    if (!rng.chance(0.2)) return { eff: v };
    if (scope.risky > 0 && rng.chance(scope.risky)) return { field: this.missingPath(v), eff: U('any') };
    if (rng.chance(0.05)) return { field: null, eff: {} };
    const p = this.pathTo(v, rng.chance(0.8) ? ['object'] : null, { exclude: falsy });
    if (!p) return { eff: v };
    return { field: p.text, eff: clone(p.value) };
  }
  // ResultPath: returns { field, out } given raw input v and result r. `mustSucceed` avoids
  // ResultPathMatchFailure.
  genResultPath(scope, v, r, { allowRoot = true } = {}) {
    const rng = this.rng;
    const vObj = kindOf(v) === 'object' && !(v instanceof Unknown);
    const choice = rng.weighted([[4, 'default'], [5, 'fresh'], [2, 'overwrite'], [1, 'nested'], [2, 'null'], [allowRoot ? 1 : 0, 'root']]);
    const nonObjectRisk = !vObj && !(v instanceof Unknown && v.type === 'object');
    if ((choice === 'fresh' || choice === 'overwrite' || choice === 'nested') && nonObjectRisk && !(scope.risky > 0 && rng.chance(0.5))) {
      return { out: r };
    }
    switch (choice) {
      case 'default': return { out: r };
      case 'root': return { field: '$', out: r };
      case 'null': return { field: null, out: v };
      case 'overwrite': {
        const keys = vObj ? Object.keys(v) : [];
        if (keys.length) { const k = rng.pick(keys); return { field: `$.${k}`, out: assign(v, [k], r) }; }
      }
      // fall through
      case 'nested': {
        if (choice === 'nested' && vObj) {
          const objs = enumPaths(v, 2).filter((p) => kindOf(p.value) === 'object' && !(p.value instanceof Unknown) && p.segs.every((s) => typeof s === 'string'));
          if (objs.length) {
            const p = rng.pick(objs);
            const k = this.fresh('sub');
            return { field: `${pathText(p.segs)}.${k}`, out: assign(v, [...p.segs, k], r) };
          }
        }
      }
      // fall through
      default: {
        const k = this.fresh();
        if (nonObjectRisk) return { field: `$.${k}`, out: U('any'), fails: true };
        return { field: `$.${k}`, out: vObj ? assign(v, [k], r) : U('object') };
      }
    }
  }
  genOutputPath(scope, v) {
    const rng = this.rng;
    if (!rng.chance(0.15)) return { out: v };
    if (scope.risky > 0 && rng.chance(scope.risky)) return { field: this.missingPath(v), out: U('any') };
    if (rng.chance(0.04)) return { field: null, out: {} };
    if (rng.chance(0.15) && rootOk(v)) return { field: '$', out: v };
    // Mostly objects, so that later ResultPaths apply; sometimes scalars/arrays (which makes a
    // later ResultPath fail with States.ResultPathMatchFailure).
    const kinds = scope.nested || rng.chance(0.75) ? ['object'] : null;
    const p = this.pathTo(v, kinds, { exclude: falsy });
    if (!p) return { out: v };
    return { field: p.text, out: clone(p.value) };
  }

  // ----- Retry / Catch -----------------------------------------------------------------------
  genRetryCatch(scope, s, v, errorNames, isTask) {
    const rng = this.rng;
    const names = [...new Set([...errorNames, 'States.ParameterPathFailure', 'States.ResultPathMatchFailure',
      'States.IntrinsicFailure', ...(isTask ? ['States.TaskFailed', 'States.Timeout'] : []), rng.pick(ERROR_NAMES)])];
    const pickErrors = () => rng.sample(names, rng.int(1, 2));
    if (rng.chance(0.35)) {
      const retriers = [];
      const n = rng.int(1, 2);
      for (let i = 0; i < n; i++) {
        const r = { ErrorEquals: i === n - 1 && rng.chance(0.3) ? ['States.ALL'] : pickErrors() };
        if (rng.chance(0.8)) r.IntervalSeconds = rng.pick([10, 20, 30]);
        if (rng.chance(0.8)) r.MaxAttempts = rng.pick([0, 1, 2, 3]);
        if (rng.chance(0.6)) r.BackoffRate = rng.pick([1, 1.5, 2]);
        if (rng.chance(0.15)) r.MaxDelaySeconds = rng.pick([30, 60]);
        retriers.push(r);
      }
      s.Retry = retriers;
    }
    if (rng.chance(0.45)) {
      const catchers = [];
      const n = rng.int(1, 2);
      for (let i = 0; i < n; i++) {
        const c = { ErrorEquals: i === n - 1 && rng.chance(0.5) ? ['States.ALL'] : pickErrors() };
        const errObj = U('object');
        const choice = rng.weighted([[6, 'fresh'], [1, 'null'], [2, 'default'], [1, 'root']]);
        let next;
        const vObj = kindOf(v) === 'object' && !(v instanceof Unknown);
        if (choice === 'fresh' && vObj) {
          const k = this.fresh('err');
          c.ResultPath = `$.${k}`;
          next = assign(v, [k], errObj);
        } else if (choice === 'null') {
          c.ResultPath = null;
          next = v;
        } else if (choice === 'root') {
          c.ResultPath = '$';
          next = errObj;
        } else {
          next = errObj;
        }
        c.Next = this.genChain(scope, next, rng.int(1, 3));
        catchers.push(c);
      }
      s.Catch = catchers;
    }
  }

  // ----- states ------------------------------------------------------------------------------
  finish(scope, s, out, budget) {
    if (budget <= 1 || this.count >= this.maxStates || this.rng.chance(0.05)) s.End = true;
    else s.Next = this.genChain(scope, out, budget - 1);
  }
  add(scope, prefix, s) {
    const name = this.stateName(prefix);
    scope.states[name] = s;
    if (this.rng.chance(0.1)) s.Comment = `generated ${prefix.toLowerCase()}`;
    return name;
  }

  terminal(scope, v) {
    const rng = this.rng;
    const kind = rng.weighted([[5, 'Succeed'], [2, 'Fail'], [3, 'Pass']]);
    if (kind === 'Fail') return this.failState(scope, v);
    if (kind === 'Succeed') {
      const s = { Type: 'Succeed' };
      const name = this.add(scope, 'Done', s);
      if (rng.chance(0.2)) { const o = this.genOutputPath(scope, v); if ('field' in o) s.OutputPath = o.field; }
      return name;
    }
    const s = { Type: 'Pass' };
    const name = this.add(scope, 'Finish', s);
    if (rng.chance(0.4)) s.Result = this.genLiteral();
    s.End = true;
    return name;
  }
  failState(scope, v) {
    const rng = this.rng;
    const s = { Type: 'Fail' };
    const name = this.add(scope, 'Fail', s);
    if (scope.nested) s.Error = scope.errName;
    else if (rng.chance(0.06)) {
      const p = this.pathTo(v, ['string'], { exclude: (q) => q.value === '' || q.value instanceof Unknown });
      if (p) s.ErrorPath = p.text; else s.Error = rng.pick(ERROR_NAMES);
    } else s.Error = rng.pick(ERROR_NAMES);
    if (!scope.nested && rng.chance(0.06)) {
      const p = this.pathTo(v, ['string'], { exclude: (q) => q.value instanceof Unknown });
      if (p) s.CausePath = p.text; else s.Cause = rng.pick(CAUSES);
    } else s.Cause = scope.nested ? `${scope.errName} cause` : rng.pick(CAUSES);
    return name;
  }

  genChain(scope, v, budget) {
    const rng = this.rng;
    if (budget <= 0 || this.count >= this.maxStates) return this.terminal(scope, v);
    const vObj = kindOf(v) === 'object' && !(v instanceof Unknown);
    const kind = rng.weighted([
      [5, 'Pass'], [5, 'Task'], [4, 'Choice'], [2, 'Wait'],
      [scope.nested ? 0.7 : 2, 'Parallel'], [scope.nested ? 0.7 : 2, 'Map'],
      [1, 'Fail'], [0.6, 'Succeed'],
      [scope.top && vObj && budget >= 5 ? 1 : 0, 'Loop'],
    ]);
    switch (kind) {
      case 'Pass': return this.passState(scope, v, budget);
      case 'Task': return this.taskState(scope, v, budget);
      case 'Choice': return this.choiceState(scope, v, budget);
      case 'Wait': return this.waitState(scope, v, budget);
      case 'Parallel': return this.parallelState(scope, v, budget);
      case 'Map': return this.mapState(scope, v, budget);
      case 'Fail': return this.failState(scope, v);
      case 'Loop': return this.loop(scope, v, budget);
      default: return this.terminal(scope, v);
    }
  }

  passState(scope, v, budget) {
    const rng = this.rng;
    const s = { Type: 'Pass' };
    const name = this.add(scope, rng.pick(['Pass', 'Shape', 'Inject']), s);
    const ip = this.genInputPath(scope, v);
    if ('field' in ip) s.InputPath = ip.field;
    let eff = ip.eff;
    const mode = rng.weighted([[4, 'params'], [3, 'result'], [1, 'plain']]);
    if (mode === 'params' && !(eff instanceof Unknown)) {
      const t = this.genTemplate(scope, eff);
      s.Parameters = t.tpl;
      eff = t.value;
    }
    let result = eff;
    if (mode === 'result') {
      s.Result = this.genLiteral();
      result = clone(s.Result);
    }
    const rp = this.genResultPath(scope, v, result);
    if ('field' in rp) s.ResultPath = rp.field;
    const op = this.genOutputPath(scope, rp.out);
    if ('field' in op) s.OutputPath = op.field;
    this.finish(scope, s, op.out, budget);
    return name;
  }

  taskState(scope, v, budget) {
    const rng = this.rng;
    const s = { Type: 'Task', Resource: ECHO_RESOURCE };
    const name = this.add(scope, rng.pick(['Task', 'Call', 'Echo']), s);
    const ip = this.genInputPath(scope, v);
    if ('field' in ip) s.InputPath = ip.field;
    let eff = ip.eff;
    if (rng.chance(0.55) && !(eff instanceof Unknown)) {
      const t = this.genTemplate(scope, eff);
      s.Parameters = t.tpl;
      eff = t.value;
    }
    let result = eff; // echo
    if (rng.chance(0.3) && !(result instanceof Unknown)) {
      const t = this.genTemplate({ ...scope, risky: scope.risky / 2, top: false }, result, { keys: rng.int(1, 3) });
      s.ResultSelector = t.tpl;
      result = t.value;
    }
    if (rng.chance(0.1)) s.TimeoutSeconds = rng.pick([30, 60, 300]);
    const rp = this.genResultPath(scope, v, result);
    if ('field' in rp) s.ResultPath = rp.field;
    const op = this.genOutputPath(scope, rp.out);
    if ('field' in op) s.OutputPath = op.field;
    this.genRetryCatch(scope, s, v, [], true);
    this.finish(scope, s, op.out, budget);
    return name;
  }

  choiceState(scope, v, budget) {
    const rng = this.rng;
    const s = { Type: 'Choice', Choices: [] };
    const name = this.add(scope, rng.pick(['Choice', 'Check', 'Route']), s);
    if (rng.chance(0.08)) { const ip = this.genInputPath(scope, v); if ('field' in ip && ip.field !== null) { s.InputPath = ip.field; v = ip.eff; } }
    let out = v;
    if (rng.chance(0.08) && !scope.nested) { const op = this.genOutputPath(scope, v); if ('field' in op) { s.OutputPath = op.field; out = op.out; } }
    const n = rng.int(1, 3);
    const rules = Array.from({ length: n }, () => this.genRule(scope, v));
    const branchBudget = Math.max(1, Math.floor((budget - 1) / (n + 1)));
    for (const rule of rules) {
      rule.Next = this.genChain(scope, out, rng.int(1, branchBudget));
      s.Choices.push(rule);
    }
    if (scope.nested || rng.chance(0.85)) s.Default = this.genChain(scope, out, budget - 1);
    return name;
  }

  waitState(scope, v, budget) {
    const rng = this.rng;
    const s = { Type: 'Wait' };
    const name = this.add(scope, rng.pick(['Wait', 'Pause', 'Sleep']), s);
    const timed = this.timeoutSeconds !== null;
    const mode = rng.weighted([[4, 'Seconds'], [2, 'SecondsPath'], [2, 'Timestamp'], [1, 'TimestampPath']]);
    if (mode === 'SecondsPath') {
      const p = this.pathTo(v, ['int'], { exclude: (q) => q.value instanceof Unknown || q.value < 0 || q.value > 600 || (timed && q.value % 5 !== 0) });
      if (scope.risky > 0 && rng.chance(scope.risky * 2)) s.SecondsPath = rng.chance(0.5) ? this.missingPath(v) : (this.pathTo(v, ['string', 'float', 'boolean'])?.text ?? this.missingPath(v));
      else if (p) s.SecondsPath = p.text;
      else s.Seconds = rng.pick([10, 20, 30]);
    } else if (mode === 'Timestamp') {
      s.Timestamp = timed && rng.chance(0.4) ? genTimestamp(rng, { future: true }).replace(/(\.\d+)?([+-]\d\d:\d\d|Z)$/, 'Z')
        : genTimestamp(rng).replace(/(\.\d+)?([+-]\d\d:\d\d|Z)$/, 'Z');
    } else if (mode === 'TimestampPath') {
      const p = this.pathTo(v, ['timestamp'], { exclude: (q) => q.value instanceof Unknown });
      if (scope.risky > 0 && rng.chance(scope.risky * 2)) s.TimestampPath = this.pathTo(v, ['string'])?.text ?? this.missingPath(v);
      else if (p) s.TimestampPath = p.text;
      else s.Seconds = rng.pick([10, 20]);
    } else {
      s.Seconds = rng.pick([5, 10, 20, 30, 60]);
    }
    let out = v;
    if (rng.chance(0.1) && !scope.nested) { const op = this.genOutputPath(scope, v); if ('field' in op) { s.OutputPath = op.field; out = op.out; } }
    this.finish(scope, s, out, budget);
    return name;
  }

  parallelState(scope, v, budget) {
    const rng = this.rng;
    const s = { Type: 'Parallel', Branches: [] };
    const name = this.add(scope, rng.pick(['Parallel', 'Fork', 'Both']), s);
    const inner = this.nestedScope(scope, null);
    const ip = this.genInputPath(scope, v);
    if ('field' in ip) s.InputPath = ip.field;
    let eff = ip.eff;
    if (rng.chance(0.15) && !(eff instanceof Unknown)) {
      const t = this.genTemplate(scope, eff);
      s.Parameters = t.tpl;
      eff = t.value;
    }
    const nb = rng.int(2, 3);
    for (let i = 0; i < nb; i++) {
      const states = {};
      const bscope = { ...inner, states };
      const start = this.genChain(bscope, eff, rng.int(1, 3));
      s.Branches.push({ StartAt: start, States: states });
    }
    let result = Array.from({ length: nb }, () => U('any'));
    if (rng.chance(0.3)) {
      const t = this.genTemplate({ ...scope, risky: 0, top: false }, result, { keys: rng.int(1, 2) });
      s.ResultSelector = t.tpl;
      result = t.value;
    }
    const rp = this.genResultPath(scope, v, result);
    if ('field' in rp) s.ResultPath = rp.field;
    const op = this.genOutputPath(scope, rp.out);
    if ('field' in op) s.OutputPath = op.field;
    this.genRetryCatch(scope, s, v, [inner.errName, 'States.NoChoiceMatched'], false);
    this.finish(scope, s, op.out, budget);
    return name;
  }

  mapState(scope, v, budget) {
    const rng = this.rng;
    const ip = this.genInputPath(scope, v);
    const eff = ip.eff;
    // Items: an array in the effective input (records preferred).
    const arrs = enumPaths(eff).filter((p) => Array.isArray(p.value));
    if (Array.isArray(eff)) arrs.push({ segs: [], value: eff });
    const recs = arrs.filter((p) => p.value.length && p.value.every((e) => e && typeof e === 'object' && !Array.isArray(e) && !(e instanceof Unknown)));
    const pick = recs.length && rng.chance(0.6) ? rng.pick(recs) : arrs.length ? rng.pick(arrs) : null;
    if (!pick) return this.passState(scope, v, budget);
    const s = { Type: 'Map' };
    const name = this.add(scope, rng.pick(['Map', 'ForEach', 'Each']), s);
    if ('field' in ip) s.InputPath = ip.field;
    if (pick.segs.length || rng.chance(0.3)) s.ItemsPath = pathText(pick.segs);
    if (scope.risky > 0 && rng.chance(scope.risky)) s.ItemsPath = rng.chance(0.5) ? this.missingPath(eff) : (this.pathTo(eff, ['object', 'string', 'int'])?.text ?? this.missingPath(eff));
    // Representative item.
    const items = pick.value;
    let rep;
    let fields = [];
    if (items.length && items.every((e) => e && typeof e === 'object' && !Array.isArray(e) && !(e instanceof Unknown))) {
      fields = Object.keys(items[0]).filter((f) => items.every((e) => f in e && kindOf(e[f]) === kindOf(items[0][f])));
      rep = Object.fromEntries(fields.map((f) => [f, U(kindOf(items[0][f]), items.map((e) => e[f]))]));
    } else {
      const kinds = new Set(items.map(kindOf));
      rep = kinds.size === 1 ? U([...kinds][0], items.filter((e) => !(e instanceof Unknown))) : U('any');
    }
    let iterInput = rep;
    if (rng.chance(0.6)) {
      const t = this.genTemplate({ ...scope, top: scope.top }, eff, { mapItem: { rep, fields }, keys: rng.int(0, 2) });
      s.ItemSelector = t.tpl;
      iterInput = t.value;
    }
    if (rng.chance(0.3)) s.MaxConcurrency = rng.pick([0, 1, 2, 5]);
    const inner = this.nestedScope(scope, {});
    const start = this.genChain(inner, iterInput, rng.int(1, 4));
    s.ItemProcessor = { StartAt: start, States: inner.states };
    if (rng.chance(0.3)) s.ItemProcessor = { ProcessorConfig: { Mode: 'INLINE' }, ...s.ItemProcessor };
    let result = Array.isArray(items) ? items.map(() => U('any')) : U('array');
    if (rng.chance(0.25)) {
      const t = this.genTemplate({ ...scope, risky: 0, top: false }, result, { keys: rng.int(1, 2) });
      s.ResultSelector = t.tpl;
      result = t.value;
    }
    const rp = this.genResultPath(scope, v, result);
    if ('field' in rp) s.ResultPath = rp.field;
    const op = this.genOutputPath(scope, rp.out);
    if ('field' in op) s.OutputPath = op.field;
    this.genRetryCatch(scope, s, v, [inner.errName, 'States.NoChoiceMatched'], false);
    this.finish(scope, s, op.out, budget);
    return name;
  }

  // Init -> Body (Task) -> Inc -> Check (n < K ? Body : continue)
  loop(scope, v, budget) {
    const rng = this.rng;
    const key = this.fresh('loop');
    const echoKey = this.fresh('last');
    const k = rng.int(1, 3);
    const init = { Type: 'Pass', Result: { n: 0 }, ResultPath: `$.${key}` };
    const initName = this.add(scope, 'LoopInit', init);
    const body = { Type: 'Task', Resource: ECHO_RESOURCE, Parameters: { 'n.$': `$.${key}.n`, 'round.$': `States.Format('round {}', $.${key}.n)` }, ResultPath: `$.${echoKey}` };
    const bodyName = this.add(scope, 'LoopBody', body);
    const inc = { Type: 'Pass', Parameters: { 'n.$': `States.MathAdd($.${key}.n, 1)` }, ResultPath: `$.${key}` };
    const incName = this.add(scope, 'LoopInc', inc);
    const check = { Type: 'Choice', Choices: [{ Variable: `$.${key}.n`, NumericLessThan: k, Next: bodyName }] };
    const checkName = this.add(scope, 'LoopCheck', check);
    init.Next = bodyName;
    body.Next = incName;
    inc.Next = checkName;
    const after = { ...v, [key]: { n: k }, [echoKey]: { n: k - 1, round: `round ${k - 1}` } };
    check.Default = this.genChain(scope, after, budget - 4);
    return initName;
  }

  build() {
    const states = {};
    const scope = this.topScope(states);
    const startAt = this.genChain(scope, this.input, this.maxStates);
    const def = {};
    if (this.rng.chance(0.3)) def.Comment = `differential case ${this.seed}`;
    def.StartAt = startAt;
    if (this.timeoutSeconds !== null) def.TimeoutSeconds = this.timeoutSeconds;
    def.States = states;
    return def;
  }
}

export function generateCase(seed) {
  const g = new Gen(seed);
  const definition = g.build();
  return { definition, input: g.input };
}

export function writeCase(seed, outDir) {
  const { definition, input } = generateCase(seed);
  fs.mkdirSync(outDir, { recursive: true });
  const defFile = path.join(outDir, `${seed}.asl.json`);
  const inputFile = path.join(outDir, `${seed}.input.json`);
  fs.writeFileSync(defFile, `${JSON.stringify(definition, null, 2)}\n`);
  fs.writeFileSync(inputFile, `${JSON.stringify(input, null, 2)}\n`);
  return { definition, input, defFile, inputFile };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [seed, outDir] = process.argv.slice(2);
  if (seed === undefined || outDir === undefined || !/^-?\d+$/.test(seed)) {
    console.error('usage: node generate.mjs SEED OUTDIR');
    process.exit(2);
  }
  const { defFile, inputFile } = writeCase(Number(seed), outDir);
  console.log(`${defFile}\n${inputFile}`);
}
