#!/usr/bin/env node
// Drives EPCC's JavaScript SDK (@elasticpath/js-sdk, unchanged) for the pytest suite.
//
// Reads one JSON object on stdin:
//   {"host": "127.0.0.1:8123", "protocol": "http", "client_id": "...", "client_secret": "...",
//    "steps": [{"endpoint": "ErasureRequests", "chain": [["Filter", ["order", "<id>"]]],
//               "call": "All", "args": [],
//               "until": {"path": "data.status", "not": "CREATED", "seconds": 60}}]}
// and prints one JSON array on stdout, one entry per step: {"ok": true, "value": <answer>}
// or {"ok": false, "error": <what the SDK rejected with>}. An argument written "$N.a.b"
// is the value at a.b of step N's answer (e.g. "$0.data.id"). With `until`, the step is
// repeated (every 100 ms) until the value at `path` equals `equals` (or, given `not`
// instead, differs from it), or `seconds` pass.
// The SDK authenticates by itself (client_credentials on POST /oauth/access_token).
"use strict";

const { gateway, MemoryStorageFactory } = require("@elasticpath/js-sdk");

// The SDK talks on the console ("Token status: ..."); stdout is kept for the answers.
for (const name of ["log", "info", "warn", "error", "debug"]) {
  console[name] = (...args) => process.stderr.write(args.join(" ") + "\n");
}

function at(value, path) {
  return path.split(".").reduce((item, key) => (item == null ? undefined : item[key]), value);
}

function resolve(arg, results) {
  if (typeof arg === "string" && /^\$[0-9]+(\.|$)/.test(arg)) {
    const [index, ...path] = arg.slice(1).split(".");
    const result = results[Number(index)];
    if (!result || !result.ok) throw new Error(`step ${index} has no answer to use in ${arg}`);
    return path.length ? at(result.value, path.join(".")) : result.value;
  }
  return arg;
}

async function once(client, step, results) {
  let endpoint = client[step.endpoint];
  if (!endpoint) throw new Error(`the SDK has no endpoint ${step.endpoint}`);
  for (const [name, args] of step.chain || []) {
    endpoint = endpoint[name](...(args || []).map((arg) => resolve(arg, results)));
  }
  try {
    return { ok: true, value: await endpoint[step.call](...(step.args || []).map((a) => resolve(a, results))) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? { message: error.message } : error };
  }
}

async function run(config) {
  const client = gateway({
    host: config.host,
    protocol: config.protocol || "http",
    client_id: config.client_id,
    client_secret: config.client_secret,
    // In memory: the SDK would otherwise write its token under ./localStorage.
    storage: new MemoryStorageFactory(),
    // One attempt: a refused request is the answer under test, not something to retry.
    fetchMaxAttempts: config.fetchMaxAttempts || 1,
  });
  const results = [];
  for (const step of config.steps) {
    let result = await once(client, step, results);
    if (step.until) {
      const deadline = Date.now() + 1000 * (step.until.seconds || 60);
      const waits = (value) => ("equals" in step.until ? value !== step.until.equals : value === step.until.not);
      while (result.ok && waits(at(result.value, step.until.path)) && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 100));
        result = await once(client, step, results);
      }
    }
    results.push(result);
  }
  return results;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  run(JSON.parse(input)).then(
    (results) => process.stdout.write(JSON.stringify(results)),
    (error) => {
      process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
      process.exit(2);
    },
  );
});
