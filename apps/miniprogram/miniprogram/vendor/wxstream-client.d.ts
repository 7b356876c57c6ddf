/**
 * Types of the vendor bundle. At runtime pages `require('…/vendor/wxstream-client.js')`, which
 * scripts/build.mjs generates by bundling @wxstream/client and @wxstream/protocol into the
 * mini-program root (DevTools cannot load files outside it). The type-checker reads the workspace
 * sources through these re-exports, so types and runtime come from the same code.
 */
export * from '@wxstream/client';
export * from '@wxstream/protocol';
