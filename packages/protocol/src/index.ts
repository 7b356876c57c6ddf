/**
 * @wxstream/protocol — the wire contract shared by the server, the client core and the mini-program.
 * Types and tiny pure functions only: no I/O, no platform globals.
 */
export * from './error-codes.ts';
export * from './wire-error.ts';
export * from './reply-events.ts';
export * from './sse-format.ts';
export * from './http-contract.ts';
export * from './conversations.ts';
export * from './shares.ts';
