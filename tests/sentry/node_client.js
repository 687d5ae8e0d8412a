// Sends errors / messages / spans to a Sentry-compatible server with the real @sentry/node SDK
// (integration tests; see README.md in this directory).
//
// usage: SENTRY_DSN=http://<key>@127.0.0.1:<port>/<project> node node_client.js <subcommand> [args]
//   same-bug              the same TypeError from the same line, captured twice (2 events)
//   other-line            the same TypeError (type and message) from another function/line (1 event)
//   message <text>        captureMessage(<text>, 'error') (1 event)
//   fingerprint <fp> [b]  captureException with scope fingerprint [<fp>]; the exception is always the
//                         same one (raised in failPayment) unless "b" is given, in which case a
//                         different exception from another function is used (1 event)
//   library               an error thrown in an in-app callback invoked by lodash, twice, through two
//                         different lodash call paths (_.map -> arrayMap, _.forEach -> arrayEach) from the
//                         same in-app line: in-app frames identical, node_modules frames differ (2 events)
//   traced                in-process HTTP server + client traced by OpenTelemetry (NodeSDK,
//                         HttpInstrumentation, OTLP/HTTP JSON exporter to $OTEL_EXPORTER_OTLP_ENDPOINT
//                         + /v1/traces, or $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); the server handler
//                         throws and calls Sentry.captureException inside the active OTel SERVER span
//                         (Sentry.openTelemetryIntegration links the event to that span) (1 event)
//   transaction [stream|static]
//                         Sentry.startSpan root span "checkout-job" (op task) with a child span and an
//                         error captured inside the root span; tracesSampleRate 1. stream (the 11.x
//                         default) sends a `span` v2 item, static sends a `transaction` item (1 event)
//
// stdout: one `event_id=<32 hex>` line per captured event (what captureException/captureMessage
// returned), and for traced/transaction `trace_id=<32 hex>` and `span_id=<16 hex>` (the span that
// was active when the exception was captured = the event's contexts.trace ids).
// Exit status: 0 only if Sentry.flush(5000) returned true, every printed event id went out in an
// envelope answered with 2xx, no envelope failed (network error / non-2xx), and (transaction) a
// span/transaction item and (traced) every OTLP export succeeded. 2 = usage, 1 = delivery failure,
// 3 = watchdog (did not finish within ~9.5 s). Release/environment: $SENTRY_RELEASE /
// $SENTRY_ENVIRONMENT, default sightline-itest@1.0.0 / itest.
// The Dedupe integration is removed: it would drop the second, identical same-bug event client-side.
'use strict';
const Sentry = require('@sentry/node');

const [cmd, arg1, arg2] = process.argv.slice(2);
const USAGE = 'usage: node node_client.js <same-bug|other-line|message <text>|fingerprint <fp> [b]|library|traced|transaction [stream|static]>';
const dsn = process.env.SENTRY_DSN;
if (!dsn || !cmd) {
  console.error(dsn ? USAGE : 'SENTRY_DSN is not set');
  process.exit(2);
}

const watchdog = setTimeout(() => {
  console.error('node_client: watchdog: did not finish in time');
  process.exit(3);
}, 9500);
watchdog.unref();

// ---- delivery tracking: wraps the SDK's own node transport -------------------------------------
const delivered = new Set(); // envelope-header event ids answered with 2xx
const deliveredTypes = new Set(); // item types answered with 2xx
const failures = [];

function trackingTransport(options) {
  const inner = Sentry.makeNodeTransport(options);
  return {
    ...inner,
    send(envelope) {
      const [headers, items] = envelope;
      const types = items.map((item) => item[0].type);
      return inner.send(envelope).then(
        (res) => {
          const code = res && res.statusCode;
          if (code >= 200 && code < 300) {
            if (headers.event_id) delivered.add(headers.event_id);
            types.forEach((t) => deliveredTypes.add(t));
          } else {
            failures.push(`[${types}] not delivered: status ${code === undefined ? 'none (dropped by SDK rate limit?)' : code}`);
          }
          return res;
        },
        (err) => {
          failures.push(`[${types}] not delivered: ${err && err.message}`);
          throw err;
        },
      );
    },
  };
}

const lifecycle = cmd === 'transaction' && arg1 === 'static' ? 'static' : 'stream';
Sentry.init({
  dsn,
  release: process.env.SENTRY_RELEASE || 'sightline-itest@1.0.0',
  environment: process.env.SENTRY_ENVIRONMENT || 'itest',
  serverName: 'itest-host',
  transport: trackingTransport,
  tracesSampleRate: cmd === 'transaction' ? 1.0 : undefined,
  traceLifecycle: lifecycle,
  integrations: (defaults) => [
    ...defaults.filter((i) => i.name !== 'Dedupe'),
    ...(cmd === 'traced' ? [Sentry.openTelemetryIntegration()] : []),
  ],
});

const eventIds = [];
function report(id) {
  eventIds.push(id);
  console.log(`event_id=${id}`);
}

// ---- the code under test: every "bug" lives on a fixed line ------------------------------------
function readTheme(config) {
  return config.settings.theme; // same-bug: TypeError: Cannot read properties of undefined (reading 'theme')
}

function readProfileTheme(user) {
  return user.settings.theme; // other-line: the same TypeError from a different function and line
}

function failPayment(amount) {
  throw new Error(`payment of ${amount} declined`); // fingerprint: the default exception
}

function failShipping() {
  throw new RangeError('no carrier for zone'); // fingerprint ... b: a different exception
}

function handleItem(item) {
  throw new RangeError(`unsupported item kind ${item.kind}`); // library: thrown inside the callback
}

function processAll(iterate, items) {
  return iterate(items, handleItem); // library: the in-app caller (same line for both paths)
}

function handleCheckout(url) {
  throw new Error(`checkout backend unavailable for ${url}`); // traced: thrown in the server handler
}

function runJob(step) {
  if (step === 'charge') throw new Error('job step charge failed'); // transaction
}

// ---- subcommands -------------------------------------------------------------------------------
const commands = {
  'same-bug': async () => {
    // Two users hit the bug: "users affected" must be 2.
    for (let i = 0; i < 2; i++) {
      Sentry.setUser({ id: `u-${i}` });
      try {
        readTheme({});
      } catch (e) {
        report(Sentry.captureException(e));
      }
    }
  },
  'other-line': async () => {
    try {
      readProfileTheme({});
    } catch (e) {
      report(Sentry.captureException(e));
    }
  },
  message: async () => {
    if (arg1 === undefined) throw new UsageError('message <text>');
    report(Sentry.captureMessage(arg1, 'error'));
  },
  fingerprint: async () => {
    if (!arg1) throw new UsageError('fingerprint <fp> [b]');
    Sentry.withScope((scope) => {
      scope.setFingerprint([arg1]);
      try {
        if (arg2 === 'b') failShipping();
        else failPayment(42);
      } catch (e) {
        report(Sentry.captureException(e));
      }
    });
  },
  library: async () => {
    const _ = require('lodash');
    for (const iterate of [_.map, _.forEach]) {
      try {
        processAll(iterate, [{ kind: 'gift-card' }]);
      } catch (e) {
        report(Sentry.captureException(e));
      }
    }
  },
  transaction: async () => {
    Sentry.startSpan({ name: 'checkout-job', op: 'task' }, (root) => {
      Sentry.startSpan({ name: 'load cart', op: 'db.query' }, () => {});
      const ctx = root.spanContext();
      console.log(`trace_id=${ctx.traceId}`);
      console.log(`span_id=${ctx.spanId}`);
      try {
        runJob('charge');
      } catch (e) {
        report(Sentry.captureException(e));
      }
    });
  },
  traced: async () => tracedScenario(),
};

class UsageError extends Error {}

// ---- traced: OpenTelemetry-owned tracing, Sentry only links its events to the active OTel span --
async function tracedScenario() {
  const base = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || '').replace(/\/$/, '');
  const url = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base && `${base}/v1/traces`);
  if (!url) throw new UsageError('traced needs OTEL_EXPORTER_OTLP_ENDPOINT');
  // Only traces: keep NodeSDK from starting its default OTLP metrics/logs pipelines.
  process.env.OTEL_METRICS_EXPORTER = 'none';
  process.env.OTEL_LOGS_EXPORTER = 'none';
  const api = require('@opentelemetry/api');
  const { NodeSDK, tracing } = require('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

  const ingest = new URL(dsn);
  const isSentryRequest = (opts) => {
    const host = opts.hostname || opts.host;
    const port = String(opts.port || '');
    return host === ingest.hostname && port === ingest.port && String(opts.path || '').includes('/api/');
  };
  const exportResults = [];
  const otlp = new OTLPTraceExporter({ url, timeoutMillis: 4000 });
  const exporter = {
    export(spans, done) {
      otlp.export(spans, (result) => {
        exportResults.push(result);
        done(result);
      });
    },
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  const sdk = new NodeSDK({
    serviceName: 'sentry-node-client',
    spanProcessors: [new tracing.BatchSpanProcessor(exporter, { scheduledDelayMillis: 100 })],
    // The SDK's own envelope POSTs would otherwise show up as CLIENT spans in the traced request.
    instrumentations: [new HttpInstrumentation({ ignoreOutgoingRequestHook: isSentryRequest })],
  });
  sdk.start();
  const http = require('http'); // after sdk.start() so HttpInstrumentation patches it

  const server = http.createServer((req, res) => {
    const span = api.trace.getActiveSpan(); // the OTel SERVER span of this request
    try {
      handleCheckout(req.url);
      res.end('ok');
    } catch (e) {
      const ctx = span.spanContext();
      console.log(`trace_id=${ctx.traceId}`);
      console.log(`span_id=${ctx.spanId}`);
      report(Sentry.captureException(e));
      span.recordException(e);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.message });
      res.statusCode = 500;
      res.end('error');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  const tracer = api.trace.getTracer('sentry-node-client');
  const status = await tracer.startActiveSpan('traced client', async (root) => {
    try {
      return await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/checkout?cart=42', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.setTimeout(4000, () => req.destroy(new Error('request timeout')));
        req.on('error', reject);
      });
    } finally {
      root.end();
    }
  });
  await new Promise((resolve) => server.close(resolve));
  if (status !== 500) failures.push(`traced: server answered ${status}, expected 500`);
  return async () => {
    // after the Sentry flush: export every span and check that the OTLP endpoint took them
    try {
      await sdk.shutdown();
    } catch (e) {
      failures.push(`traced: OpenTelemetry shutdown failed: ${e && e.message}`);
    }
    if (exportResults.length === 0) failures.push('traced: no OTLP export happened');
    for (const r of exportResults) {
      if (r.code !== 0) failures.push(`traced: OTLP export failed: ${r.error && r.error.message}`);
    }
  };
}

async function main() {
  const run = commands[cmd];
  if (!run) throw new UsageError(`unknown subcommand ${cmd}`);
  const after = await run();
  const flushed = await Sentry.flush(5000);
  if (typeof after === 'function') await after();
  if (!flushed) failures.push('Sentry.flush(5000) returned false');
  for (const id of eventIds) {
    if (!delivered.has(id)) failures.push(`event ${id} was not delivered`);
  }
  if (cmd === 'transaction' && !deliveredTypes.has(lifecycle === 'static' ? 'transaction' : 'span')) {
    failures.push(`no ${lifecycle === 'static' ? 'transaction' : 'span'} item was delivered`);
  }
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    for (const f of failures) console.error(`node_client: ${f}`);
    clearTimeout(watchdog);
    process.exitCode = code;
    // Leave the event loop alone so ProcessSession can send its closing session update at
    // beforeExit, but never hang around for it.
    setTimeout(() => process.exit(code), 1500).unref();
  },
  (err) => {
    console.error(err instanceof UsageError ? `usage: ${err.message}\n${USAGE}` : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
