/**
 * What to undo when the current test ends (pages to close, timers to restore, scratch folders to
 * remove): jest's equivalent of node:test's `t.after()`. The jest set-up file runs `runAfterThisTest`
 * after every test.
 */
type Cleanup = () => void | Promise<void>;

const pending: Cleanup[] = [];

export function afterThisTest(cleanup: Cleanup): void {
  pending.push(cleanup);
}

export async function runAfterThisTest(): Promise<void> {
  const errors: unknown[] = [];
  for (let cleanup = pending.pop(); cleanup; cleanup = pending.pop()) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} clean-ups failed`);
}
