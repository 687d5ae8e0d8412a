// Sends log records to Sightline through the real OpenTelemetry JS logs SDK and OTLP exporter.
// usage: node send_logs.js <base-url> <proto|json> <count> <run-id>
// Each record: service "otel-<protocol>", body "otel record <i> run <run-id>", attributes
// {run, i, http.status}, severity ERROR for every 10th record else INFO, and the trace
// context 0af7651916cd43dd8448eb211c80319c / b7ad6b71692033<i as 2 hex> for i < 256.
'use strict';
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const api = require('@opentelemetry/api');

async function main() {
  const [base, protocol, countStr, run] = process.argv.slice(2);
  const count = Number(countStr);
  const { OTLPLogExporter } = protocol === 'proto'
    ? require('@opentelemetry/exporter-logs-otlp-proto')
    : require('@opentelemetry/exporter-logs-otlp-http');
  const exporter = new OTLPLogExporter({ url: `${base}/v1/logs` });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': `otel-${protocol}`,
      'deployment.environment': 'test',
      'host.name': 'itest-host',
    }),
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 100, scheduledDelayMillis: 50 })],
  });
  const logger = provider.getLogger('itest', '1.0.0');
  for (let i = 0; i < count; i++) {
    const sc = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b716920' + (i % 65536).toString(16).padStart(4, '0'),
      traceFlags: api.TraceFlags.SAMPLED,
    };
    logger.emit({
      severityNumber: i % 10 === 0 ? SeverityNumber.ERROR : SeverityNumber.INFO,
      severityText: i % 10 === 0 ? 'ERROR' : 'INFO',
      body: `otel record ${i} run ${run}`,
      attributes: { run, i, 'http.status': i % 10 === 0 ? 500 : 200 },
      context: api.trace.setSpanContext(api.ROOT_CONTEXT, sc),
    });
  }
  await provider.forceFlush();
  await provider.shutdown();
}

main().catch((e) => { console.error(e); process.exit(1); });
