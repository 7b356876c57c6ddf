/**
 * The `requestId` of each message sent: made once per send and kept for its retries, so a send the
 * server committed before the network failed is found again instead of starting a second turn, and a
 * stop can name the request before its reply has an id.
 *
 * Contract: `newRequestId(random)` is 22 characters of `A-Za-z0-9` (about 131 bits), within the
 * protocol's `REQUEST_ID_PATTERN`. Math.random is enough: the id only has to be unlikely to repeat for
 * one user, and it is scoped to that user on the server.
 */
import { randomChars } from './device-id.ts';

export const REQUEST_ID_CHARS = 22;

export function newRequestId(random: () => number): string {
  return randomChars(random, REQUEST_ID_CHARS);
}
