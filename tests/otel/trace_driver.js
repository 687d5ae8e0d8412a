// Drives trace_service.js's gateway with plain (uninstrumented) HTTP, sequentially.
// usage: node trace_driver.js <gateway-url> <n_ok> <n_fail>
// Sends n_ok GET /checkout?fail=0 then n_fail GET /checkout?fail=1 and prints one JSON line per
// request: {"traceId":"<32 hex from the response body>","fail":bool,"status":<http status>}.
'use strict';
const http = require('http');

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 10000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
  });
}

async function main() {
  const [base, nOk, nFail] = process.argv.slice(2);
  const plan = [...Array(Number(nOk)).fill(false), ...Array(Number(nFail)).fill(true)];
  for (const fail of plan) {
    const { status, body } = await get(`${base.replace(/\/$/, '')}/checkout?fail=${fail ? 1 : 0}`);
    let traceId = '';
    try { traceId = JSON.parse(body).traceId || ''; } catch { /* reported as empty */ }
    console.log(JSON.stringify({ traceId, fail, status }));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
