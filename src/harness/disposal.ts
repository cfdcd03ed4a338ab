/**
 * A last-in-first-out stack of cleanups (AsyncDisposableStack is not in Node 20).
 * Every cleanup runs even when an earlier one throws; the first error is rethrown.
 */
export class DisposalStack implements AsyncDisposable {
  private readonly cleanups: Array<() => PromiseLike<void> | void> = [];
  private disposing: Promise<void> | undefined;

  /**
   * Something that finished starting after the unwinding began (an abort while it
   * started) is cleaned up too, before dispose() settles for later callers, and
   * the caller is told the run is over.
   */
  defer(fn: () => PromiseLike<void> | void): void {
    if (this.disposing) {
      const before = this.disposing;
      this.disposing = (async () => {
        await before.catch(() => {});
        await fn();
      })();
      throw new Error('stopped while starting: the run was aborted');
    }
    this.cleanups.push(fn);
  }

  use<T extends { close(): PromiseLike<void> } | AsyncDisposable>(resource: T): T {
    this.defer(() => ('close' in resource ? resource.close() : resource[Symbol.asyncDispose]()));
    return resource;
  }

  get isDisposed(): boolean {
    return this.disposing !== undefined;
  }

  /** Every caller waits for the same unwinding: an abort and a finally block may both ask for it. */
  dispose(): Promise<void> {
    this.disposing ??= this.unwind();
    return this.disposing;
  }

  private async unwind(): Promise<void> {
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
