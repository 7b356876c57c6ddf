/**
 * What start-up has opened so far (Redis, the store, the offline model, the stop channel), so a
 * start-up that fails half-way closes exactly those — newest first — before it rethrows.
 *
 * Contract: `hold(resource, close)` records a closer and returns the resource; `closeAll()` runs
 * every closer once, newest first; a closer that fails neither stops the others nor hides the
 * error that made start-up fail.
 */
export class StartupResources {
  readonly #closers: Array<() => Promise<void>> = [];

  hold<T>(resource: T, close: (resource: T) => Promise<void>): T {
    this.#closers.push(() => close(resource));
    return resource;
  }

  async closeAll(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      await close().catch(() => undefined);
    }
  }
}
