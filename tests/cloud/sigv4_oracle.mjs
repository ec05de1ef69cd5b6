// An independent SigV4 implementation for tests/cloud/sigv4_test.cc: signs requests with
// @smithy/signature-v4 (the AWS SDK for JavaScript v3's signer, over Node's crypto) and prints
// them as JSON: the request as the SDK would send it (path and query encoded for the wire),
// the headers before signing, and the headers after.
//
//   node tests/cloud/sigv4_oracle.mjs > cases.json
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/core/serde";

const credentials = {
  accessKeyId: "AKIDORACLE",
  secretAccessKey: "oracle/Secret+Key/EXAMPLEKEY",
};
const sessionCredentials = { ...credentials, sessionToken: "FQoGZXIvYXdzEXAMPLE//token+==" };
const signingDate = new Date("2026-03-01T12:34:56Z");
const sha256 = Hash.bind(null, "sha256");

// RFC 3986 encoding, as the SDK puts a query on the wire.
const encode = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const wireQuery = (query) =>
  Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encode(k)}=${encode(x)}`))
    .join("&");

const host = "localhost:8083";
const json = "application/x-amz-json-1.0";
const cases = [
  {
    name: "start-execution",
    service: "states",
    region: "us-east-1",
    credentials,
    applyChecksum: false,
    request: {
      method: "POST",
      path: "/",
      query: {},
      headers: {
        host,
        "content-type": json,
        "x-amz-target": "AWSStepFunctions.StartExecution",
      },
      body: JSON.stringify({
        stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:Hello",
        input: '{"msg": "héllo  wörld"}',
      }),
    },
  },
  {
    name: "list-state-machines-session-token-checksum",
    service: "states",
    region: "eu-west-1",
    credentials: sessionCredentials,
    applyChecksum: true,
    request: {
      method: "POST",
      path: "/",
      query: {},
      headers: {
        host,
        "content-type": json,
        "x-amz-target": "AWSStepFunctions.ListStateMachines",
        "x-extra": "  spaced   out  value ",
        "user-agent": "aws-sdk-js/3 oracle",
      },
      body: '{"maxResults":10}',
    },
  },
  {
    name: "get-encoded-path-and-query",
    service: "lambda",
    region: "us-west-2",
    credentials,
    applyChecksum: false,
    request: {
      method: "GET",
      path: "/2015-03-31/functions/my%20function/configuration",
      query: { b: "2", a: ["1", "0"], "c d": "x y/z", empty: "" },
      headers: { host },
      body: "",
    },
  },
];

function headerList(headers) {
  return Object.entries(headers).map(([k, v]) => [k, String(v)]);
}

const out = [];
for (const c of cases) {
  const signer = new SignatureV4({
    credentials: c.credentials,
    region: c.region,
    service: c.service,
    sha256,
    applyChecksum: c.applyChecksum,
  });
  const unsigned = structuredClone(c.request);
  const signed = await signer.sign(structuredClone(c.request), { signingDate });
  out.push({
    name: c.name,
    kind: "header",
    access_key_id: c.credentials.accessKeyId,
    secret_access_key: c.credentials.secretAccessKey,
    session_token: c.credentials.sessionToken ?? "",
    region: c.region,
    service: c.service,
    payload_hash_header: c.applyChecksum,
    now_seconds: signingDate.getTime() / 1000,
    method: signed.method,
    path: signed.path,
    query: wireQuery(signed.query ?? {}),
    unsigned_headers: headerList(unsigned.headers),
    headers: headerList(signed.headers),
    body: signed.body,
  });

  const presigned = await signer.presign(structuredClone(c.request), {
    signingDate,
    expiresIn: 900,
  });
  out.push({
    name: `${c.name}-presigned`,
    kind: "query",
    access_key_id: c.credentials.accessKeyId,
    secret_access_key: c.credentials.secretAccessKey,
    session_token: c.credentials.sessionToken ?? "",
    region: c.region,
    service: c.service,
    expires_in: 900,
    now_seconds: signingDate.getTime() / 1000,
    method: presigned.method,
    path: presigned.path,
    query: wireQuery(presigned.query ?? {}),
    headers: headerList(presigned.headers),
    body: presigned.body,
  });
}
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
