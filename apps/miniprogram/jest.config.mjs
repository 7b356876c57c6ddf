/**
 * Jest for the mini-program's tests: jsdom (what miniprogram-simulate renders into), TypeScript through
 * @swc/jest, and the built mini-program root under test (the global set-up builds it before every run,
 * so `jest --watch` tests what DevTools would load).
 *
 * Why @swc/jest: it only strips types and rewrites ESM to CommonJS, in native code — a cold run of the
 * whole suite spends next to nothing on transforms on a 2-core machine, where ts-jest's type-checking
 * transform is many times slower. Types are checked once by `pnpm typecheck` (tsc), as for every package.
 */

// China Standard Time, the app's users' zone, whatever the machine's: pages show local dates (the
// history page's 昨天 / M月D日) and a snapshot must not depend on where it runs. Set here, in the
// process that starts every worker, before any of them exists.
process.env.TZ = 'Asia/Shanghai';

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'jsdom',
  testEnvironmentOptions: { url: 'https://wxstream.test/' },
  // The client core and protocol are watched too: editing them re-runs these tests under --watch.
  roots: ['<rootDir>', '<rootDir>/../../packages/client/src', '<rootDir>/../../packages/protocol/src'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // 'js' first: miniprogram-simulate requires a page by its extensionless path, which must find the
  // built `.js` beside the `.ts` (what WeChat runs), as Node's own resolution does. Tests import
  // sources with explicit `.ts` extensions.
  // 'wxml' and 'wxss' only so that the watcher sees them change (see page-dependencies.cjs).
  moduleFileExtensions: ['js', 'ts', 'mjs', 'json', 'wxml', 'wxss'],
  // Which page files a test depends on, for --watch: simulate loads pages by path at run time.
  dependencyExtractor: '<rootDir>/test/jest/page-dependencies.cjs',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' }, sourceMaps: 'inline' },
    ],
    // The built scripts run as built; their source maps point coverage and stack traces at the .ts.
    '/miniprogram/miniprogram/.+\\.js$': '<rootDir>/test/jest/built-script.cjs',
    // ES modules the client core's Markdown pipeline loads from source (marked ships only ESM; the
    // highlighter's engine is a plain .js module): jest's module system needs them as CommonJS.
    '(/node_modules/(\\.pnpm/)?marked[@/].*|/packages/client/src/.*)\\.js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/)?marked[@/])'],
  globalSetup: '<rootDir>/test/jest/build-before-run.mjs',
  setupFilesAfterEnv: ['<rootDir>/test/jest/after-each-test.ts'],
  // Spies (`jest.spyOn`) are put back after every test, as node:test's `t.mock` did.
  restoreMocks: true,
  snapshotSerializers: ['miniprogram-simulate/jest-snapshot-plugin'],
  // The build rewrites the generated .js files on every run: watching them would re-run forever.
  watchPathIgnorePatterns: ['<rootDir>/miniprogram/.+\\.js$'],
  // Pure modules are tested from their .ts sources, pages run as built .js: both are instrumented, and
  // the build's source maps fold the .js into its .ts, so the report lists each source once. The vendor
  // bundle is the client core's, covered by that package's own tests.
  collectCoverageFrom: ['miniprogram/**/*.{ts,js}', '!miniprogram/**/*.d.ts', '!miniprogram/vendor/**'],
  coverageDirectory: '<rootDir>/coverage',
  coverageReporters: ['text-summary', 'html', 'lcov'],
};
