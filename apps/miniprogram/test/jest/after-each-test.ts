/**
 * Per-test clean-up for jest, in the spirit of node:test's `t.after()`: a test (or a helper it calls,
 * like `openPage`) registers what to undo with `afterThisTest(fn)`, and the functions run after that
 * test — pass or fail — newest first, so a page opened last is closed first.
 *
 * Contract: registered functions run once, then are forgotten; one that throws fails the test after
 * the rest have run.
 */
import { afterEach } from '@jest/globals';
import { runAfterThisTest } from '../support/after-this-test.ts';

afterEach(runAfterThisTest);
