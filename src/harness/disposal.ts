/**
 * A last-in-first-out stack of cleanups (AsyncDisposableStack is not in Node 20).
 * Every cleanup runs even when an earlier one throws; the first error is rethrown.
 */
export class DisposalStack implements AsyncDisposable {
  private readonly cleanups: Array<() => PromiseLike<void> | void> = [];
  private disposed = false;

  defer(fn: () => PromiseLike<void> | void): void {
    if (this.disposed) throw new Error('DisposalStack already disposed');
    this.cleanups.push(fn);
  }

  use<T extends { close(): PromiseLike<void> } | AsyncDisposable>(resource: T): T {
    this.defer(() => ('close' in resource ? resource.close() : resource[Symbol.asyncDispose]()));
    return resource;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    let first: unknown;
    while (this.cleanups.length > 0) {
      const fn = this.cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
