// One small HTTP service instrumented with the real OpenTelemetry JS trace SDK (integration tests).
// usage: node trace_service.js <name> <port> <downstream-url|-> <otlp-proto|otlp-json|otlp-grpc|zipkin>
// env: SIGHTLINE_HTTP (http://127.0.0.1:PORT; OTLP/HTTP -> /v1/traces, Zipkin -> /api/v2/spans),
//      SIGHTLINE_GRPC (http://127.0.0.1:GPORT; OTLP/gRPC), TRACE_DEBUG=1 also prints every finished
//      span as one JSON line on stderr.
// Resource service.name = <name>. HttpInstrumentation makes a SERVER span per inbound request and a
// CLIENT span per outbound request and propagates W3C traceparent. Routes (any service serves all):
//   GET /checkout?fail=0|1  internal span "validate cart", then GET <downstream>/orders?fail=..;
//                           200 (502 if downstream failed), body {"traceId":"<32 hex>"}
//   GET /orders?fail=0|1    GET <downstream>/pay?fail=..; 200, or 502 if downstream failed
//   GET /pay?fail=0|1       200; fail=1: exception "card declined" recorded on the server span,
//                           status ERROR with message "card declined", HTTP 500
// Server spans are renamed "GET <route>" and get http.route. Prints "listening <port>" on stdout when
// ready. SIGTERM: stop accepting, provider.shutdown() (flushes every span), exit 0.
'use strict';
const api = require('@opentelemetry/api');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

const [name, portStr, downstreamArg, exporterKind] = process.argv.slice(2);
if (!name || !portStr || !downstreamArg || !exporterKind) {
  console.error('usage: node trace_service.js <name> <port> <downstream-url|-> <otlp-proto|otlp-json|otlp-grpc|zipkin>');
  process.exit(2);
}
const downstream = downstreamArg === '-' ? null : downstreamArg.replace(/\/$/, '');
const httpBase = (process.env.SIGHTLINE_HTTP || '').replace(/\/$/, '');
const grpcBase = process.env.SIGHTLINE_GRPC || '';

api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.WARN);

function makeExporter(kind) {
  const timeoutMillis = 5000;
  switch (kind) {
    case 'otlp-proto': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter({ url: `${httpBase}/v1/traces`, timeoutMillis });
    }
    case 'otlp-json': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ url: `${httpBase}/v1/traces`, timeoutMillis });
    }
    case 'otlp-grpc': {
      // An http:// URL means a plaintext (insecure) channel.
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
      return new OTLPTraceExporter({ url: grpcBase, timeoutMillis });
    }
    case 'zipkin': {
      const { ZipkinExporter } = require('@opentelemetry/exporter-zipkin');
      return new ZipkinExporter({ url: `${httpBase}/api/v2/spans` });
    }
    default:
      throw new Error(`unknown exporter ${kind}`);
  }
}

// TRACE_DEBUG=1: one JSON line per finished span on stderr.
class DebugExporter {
  export(spans, done) {
    for (const s of spans) {
      const sc = s.spanContext();
      process.stderr.write(JSON.stringify({
        debugSpan: true, service: name, name: s.name, kind: api.SpanKind[s.kind],
        traceId: sc.traceId, spanId: sc.spanId, parentSpanId: s.parentSpanContext?.spanId || '',
        status: { code: api.SpanStatusCode[s.status.code], message: s.status.message || '' },
        attributes: s.attributes, events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      }) + '\n');
    }
    done({ code: 0 });
  }
  shutdown() { return Promise.resolve(); }
  forceFlush() { return Promise.resolve(); }
}

const spanProcessors = [new BatchSpanProcessor(makeExporter(exporterKind), {
  scheduledDelayMillis: 100, maxExportBatchSize: 512, exportTimeoutMillis: 5000,
})];
if (process.env.TRACE_DEBUG === '1') spanProcessors.push(new SimpleSpanProcessor(new DebugExporter()));

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': name, 'deployment.environment': 'test' }),
  spanProcessors,
});
provider.register(); // AsyncLocalStorage context manager + W3C trace-context propagator
// The instrumentation sets the server span's status from the HTTP code when the response finishes,
// which replaces an ERROR status set by the handler with one without message; re-apply the handler's.
const statusMessages = new WeakMap(); // ServerResponse -> message
registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation({
    applyCustomAttributesOnSpan: (span, _req, res) => {
      const message = statusMessages.get(res);
      if (message !== undefined) span.setStatus({ code: api.SpanStatusCode.ERROR, message });
    },
  })],
});

// Only now load http, so that it is the instrumented module.
const http = require('http');
const tracer = api.trace.getTracer('sightline-itest', '1.0.0');

// GET url (instrumented: a CLIENT span + traceparent); resolves to the HTTP status.
function callDownstream(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('downstream timeout')));
    req.on('error', () => resolve(599));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function reply(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function handle(req, res) {
  const u = new URL(req.url, 'http://localhost');
  const fail = u.searchParams.get('fail') === '1';
  const serverSpan = api.trace.getActiveSpan();
  const route = u.pathname;
  if (serverSpan && ['/checkout', '/orders', '/pay'].includes(route)) {
    serverSpan.updateName(`GET ${route}`);
    serverSpan.setAttribute('http.route', route);
  }
  const traceId = serverSpan ? serverSpan.spanContext().traceId : '';
  if (route === '/checkout') {
    serverSpan?.setAttribute('checkout.outcome', fail ? 'fail' : 'ok');
    await tracer.startActiveSpan('validate cart', { kind: api.SpanKind.INTERNAL }, async (span) => {
      span.setAttribute('cart.items', 3);
      await sleep(2);
      span.end();
    });
    const status = await callDownstream(`${downstream}/orders?fail=${fail ? 1 : 0}`);
    return reply(res, status === 200 ? 200 : 502, { traceId });
  }
  if (route === '/orders') {
    const status = await callDownstream(`${downstream}/pay?fail=${fail ? 1 : 0}`);
    return reply(res, status === 200 ? 200 : 502, { traceId });
  }
  if (route === '/pay') {
    await sleep(1);
    if (fail) {
      serverSpan?.recordException(new Error('card declined'));
      serverSpan?.setStatus({ code: api.SpanStatusCode.ERROR, message: 'card declined' });
      statusMessages.set(res, 'card declined');
      return reply(res, 500, { traceId, error: 'card declined' });
    }
    return reply(res, 200, { traceId });
  }
  return reply(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => { if (!res.headersSent) reply(res, 500, { error: String(e) }); });
});
server.listen(Number(portStr), '127.0.0.1', () => { console.log(`listening ${portStr}`); });

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => { console.error('shutdown timed out'); process.exit(1); }, 8000).unref();
  server.close();
  server.closeAllConnections?.();
  provider.shutdown().then(
    () => process.exit(0),
    (e) => { console.error('shutdown failed:', e); process.exit(1); },
  );
});
