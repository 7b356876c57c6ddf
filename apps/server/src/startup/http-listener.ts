/**
 * The HTTP listener: Nagle off (each SSE frame leaves at once), listening on the configured host and
 * port, with the limits of `http/connection-gate.ts` — slow clients timed out (HEADERS_TIMEOUT_MS,
 * REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS) and connections counted against MAX_CONNECTIONS.
 * Resolves once listening, with the URL that reaches it from this machine (a wildcard address
 * becomes 127.0.0.1); rejects when the port cannot be taken.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenerOptions, type ConnectionGate } from '../http/connection-gate.ts';
import type { HttpConfig } from '../http/http-config.ts';
import type { Logger } from '../logger.ts';

export interface Listening {
  readonly httpServer: Server;
  readonly url: string;
  readonly port: number;
}

export async function listen(handler: RequestListener, where: { host: string; port: number; http: HttpConfig }, gate: ConnectionGate, logger: Logger): Promise<Listening> {
  const httpServer = createServer({ noDelay: true, ...listenerOptions(where.http) }, handler);
  gate.attach(httpServer);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(where.port, where.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = httpServer.address() as AddressInfo;
  const reachableHost = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
  const url = `http://${reachableHost}:${port}`;
  logger.info({ url, host: where.host, port }, 'listening');
  return { httpServer, url, port };
}
