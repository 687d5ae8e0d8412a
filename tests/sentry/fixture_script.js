// Produces the @sentry/node fixtures in src/ingest/testdata/sentry/ (node_*.envelope).
// usage: SENTRY_DSN=http://publickey@127.0.0.1:<port>/42 node fixture_script.js <event|message|transaction|transaction-static|log>
// Point the DSN at capture_server.py; each mode is one short process that exits on its own, so the
// ProcessSession integration also sends its closing `session` update at beforeExit.
'use strict';
const Sentry = require('@sentry/node');

const mode = process.argv[2];
Sentry.init({
  dsn: process.env.SENTRY_DSN,
  release: 'myapp@2.0.0',
  environment: 'staging',
  serverName: 'testhost',
  tracesSampleRate: mode.startsWith('transaction') ? 1.0 : undefined,
  // 'stream' (the 11.x default) sends `span` v2 items; 'static' sends a classic `transaction` event.
  traceLifecycle: mode === 'transaction-static' ? 'static' : 'stream',
  enableLogs: mode === 'log',
});

function parseOrder(order) {
  return validateQuantity(order.quantity);
}
function validateQuantity(q) {
  if (q < 1) throw new Error(`invalid quantity ${q}`);
  return q;
}

async function main() {
  Sentry.setUser({ id: 'u2', email: 'c@d.e' });
  Sentry.setTag('tier', 'frontend');
  Sentry.addBreadcrumb({ category: 'auth', message: 'login', level: 'info' });
  switch (mode) {
    case 'event':
      try {
        parseOrder({ quantity: 0 });
      } catch (e) {
        console.log('event_id=' + Sentry.captureException(e));
      }
      break;
    case 'message':
      console.log('event_id=' + Sentry.captureMessage('disk almost full', 'warning'));
      break;
    case 'transaction':
    case 'transaction-static':
      Sentry.startSpan({ name: 'checkout', op: 'task' }, () => {
        Sentry.startSpan({ name: 'load cart', op: 'db.query' }, () => {});
        try {
          parseOrder({ quantity: -1 });
        } catch (e) {
          console.log('event_id=' + Sentry.captureException(e));
        }
      });
      break;
    case 'log':
      Sentry.logger.info('user logged in', { userId: 'u2', attempt: 1 });
      Sentry.logger.warn(Sentry.logger.fmt`cache miss for ${'cart:42'}`);
      break;
    default:
      throw new Error('unknown mode ' + mode);
  }
  console.log('flushed=' + (await Sentry.flush(5000)));
}
main();
