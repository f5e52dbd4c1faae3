// Who may still touch memory. A core, the models on it and the trainers on a model form a
// tree of lifetimes: ending one ends everything below it, so that a single flag read tells any
// object whether it, or anything it depends on, was disposed. Every public call asserts its
// lifetime before its first read or write of the arena; without that, a trainer used after
// dispose() would run Adam over a block the allocator has since handed to another model.
import { DisposedError } from '../errors.js';

export class Lifetime {
  private endedBy: Lifetime | null = null;
  private readonly children = new Set<Lifetime>();

  /**
   * `what` names the owner in errors ("the model"); `release` frees what the owner holds and runs
   * once, when the owner or an ancestor ends, after the descendants have released theirs.
   */
  constructor(
    readonly what: string,
    private readonly parent: Lifetime | null = null,
    private release: (() => void) | null = null,
  ) {
    if (parent) {
      if (parent.endedBy) this.endedBy = parent.endedBy;
      else parent.children.add(this);
    }
  }

  get isDisposed(): boolean {
    return this.endedBy !== null;
  }

  /** Throws a DisposedError naming what was disposed (this owner, or the one it depends on). */
  assertAlive(): void {
    if (this.endedBy !== null) throw this.error();
  }

  /** The error assertAlive() throws, for callers that reject a promise instead. */
  error(): DisposedError {
    const by = this.endedBy;
    return new DisposedError(by === null || by === this ? this.what : `${by.what} (which ${this.what} depends on)`);
  }

  /** Ends this lifetime and every descendant; false when it had already ended (dispose is idempotent). */
  end(): boolean {
    if (this.endedBy !== null) return false;
    this.endAs(this);
    this.parent?.children.delete(this);
    return true;
  }

  private endAs(by: Lifetime): void {
    // descendants first: their blocks are released while the memory they live in is still ours
    for (const child of this.children) child.endAs(by);
    this.children.clear();
    this.endedBy = by;
    const release = this.release;
    this.release = null;
    release?.();
  }
}
