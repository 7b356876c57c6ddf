/**
 * Benchmark child: the naive relay the project replaced — a byte pipe in the style of the seed
 * (Express + axios with `responseType: 'stream'`, `upstream.data.pipe(res)`), written with plain
 * `node:http` so it costs what piping costs and nothing more. Every request is forwarded to the
 * emulator whose base URL is argv[2] (same method, path, body; the JSON content type), and the
 * provider's status, content type and bytes are piped back unparsed. Reports its URL over IPC;
 * `stop` closes it and exits.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:1/v1');
const server = createServer((req, res) => {
  const forwarded = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'text/event-stream', 'cache-control': 'no-cache' });
      answer.pipe(res);
    },
  );
  forwarded.on('error', () => res.destroy());
  res.on('close', () => forwarded.destroy());
  req.pipe(forwarded);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}` });
});
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
