// Usage: node oracle_check.mjs MANIFEST.json
//
// Runs the asl-validator oracle (npm asl-validator, pinned in tests/package.json) on every
// case of the validator conformance manifest and prints one JSON line per case:
//   {"file", "oracle_valid", "expected_valid", "agrees", "oracle_disagrees_documented"}
// Exit status is non-zero when
//   - the oracle's valid/invalid verdict differs from the manifest on a case that has no
//     "oracle_disagrees" note, or
//   - a case WITH an "oracle_disagrees" note actually agrees with the oracle (stale note), or
//   - the manifest or a case file cannot be read.
//
// A case that is not JSON counts as invalid for the oracle. "Not JSON" is decided strictly,
// the way zflow reports E_JSON_SYNTAX (RFC 8259): the bytes must be valid UTF-8 (Node's
// default decoder would silently replace bad bytes with U+FFFD) and no object may repeat a
// member name (JSON.parse would silently keep the last one).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator');

function strictParse(bytes) {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // throws on invalid UTF-8
  const value = JSON.parse(text); // throws on malformed JSON
  findDuplicateMember(text);
  return value;
}

// Walks the (already syntactically valid) JSON text and throws on a repeated member name.
function findDuplicateMember(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const str = () => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      const names = new Set();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        const name = str();
        if (names.has(name)) throw new Error(`duplicate member name ${JSON.stringify(name)}`);
        names.add(name);
        ws(); i++; // ':'
        value(); ws();
        if (text[i++] === '}') return; // else ','
      }
    } else if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) { value(); ws(); if (text[i++] === ']') return; }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',]} \t\n\r'.includes(text[i])) i++;
    }
  };
  value();
}

const manifestPath = process.argv[2];
if (!manifestPath) {
  console.error('usage: node oracle_check.mjs MANIFEST.json');
  process.exit(2);
}
const baseDir = path.dirname(path.resolve(manifestPath));
const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));

let failures = 0;
let disagreements = 0;
for (const entry of manifest.cases) {
  const file = entry.file;
  const expectedValid = entry.expect === 'valid';
  const documented = typeof entry.oracle_disagrees === 'string' && entry.oracle_disagrees.length > 0;
  let oracleValid;
  let detail;
  try {
    const definition = strictParse(fs.readFileSync(path.join(baseDir, file)));
    const { isValid, errorsText } = aslValidator(definition);
    oracleValid = isValid;
    if (!isValid) detail = errorsText(' | ');
  } catch (e) {
    if (e.code === 'ENOENT') {
      console.error(`missing case file: ${file}`);
      failures++;
      continue;
    }
    oracleValid = false;
    detail = `not JSON: ${e.message}`;
  }
  const agrees = oracleValid === expectedValid;
  const line = { file, oracle_valid: oracleValid, expected_valid: expectedValid, agrees, oracle_disagrees_documented: documented };
  if (process.env.ORACLE_VERBOSE && detail) line.oracle_errors = detail;
  console.log(JSON.stringify(line));
  if (!agrees) disagreements++;
  if (agrees === documented) {
    failures++;
    console.error(agrees
      ? `STALE oracle_disagrees note: ${file} (the oracle agrees with the manifest)`
      : `UNDOCUMENTED disagreement: ${file} (oracle says ${oracleValid ? 'valid' : 'invalid'}${detail ? ': ' + detail : ''})`);
  }
}
const total = manifest.cases.length;
console.error(`${total} cases, ${disagreements} documented oracle disagreements, ${failures} problems`);
process.exit(failures ? 1 : 0);
