// A small HTTP service with a classic production leak: every request appends an audit
// record to a module-level array that nothing ever trims. Used by `make demo`.
//
//   node examples/leaky-service/server.cjs            # listens on $PORT (default 3000)
//   curl localhost:3000/orders/42
'use strict';

const http = require('node:http');

class AuditEntry {
  constructor(req, body) {
    this.at = new Date().toISOString();
    this.method = req.method;
    this.url = req.url;
    this.userAgent = req.headers['user-agent'] || '';
    this.response = body; // the whole response, "for debugging"
  }
}

// The leak: an audit trail kept in memory "until the exporter ships it" (it never does).
const auditLog = [];

function handle(req, res) {
  const id = Number(req.url.split('/').pop()) || 0;
  const order = { id, items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${id}-${i}`, qty: i + 1 })) };
  const body = JSON.stringify(order);
  auditLog.push(new AuditEntry(req, body));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}

const server = http.createServer(handle);
server.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`leaky-service listening on http://127.0.0.1:${port}\n`);
  if (process.send) process.send({ port });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
