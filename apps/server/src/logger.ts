/**
 * The structured logger (pino), configured once.
 *
 * Contract: one JSON line per record. Secrets never reach a record: handlers only log fields they
 * choose (request id, route, status, outcome, durations, token counts), and `redact` removes the
 * usual carriers (authorization headers, API keys, tokens, message text) in case one slips into an
 * object passed as context. Tests pass a `destination` to capture records or use level `silent`.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  destination?: DestinationStream;
}

const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'apiKey',
  'token',
  'secret',
  'message.text',
  'body.message',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'wxstream-server' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
