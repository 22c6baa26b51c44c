// ThreadpoolContext: preadv2/pwritev2/fsync/fdatasync on libuv's worker
// threads (the pool node:fs uses), with the same promise API as Ring. For
// systems where neither io_uring nor Linux AIO is allowed.
import { binding } from './binding';
import { QueuedContext, validateEntries } from './backend';
import type { ContextStats, IoContext } from './types';
import { unpinnedPinner, type Pinner } from './pool';
import { validateKeys, validateObject } from './validate';

export interface ThreadpoolContextOptions {
  /**
   * Ops handed to libuv's pool at once; more wait in a queue here, so kaio
   * cannot starve node:fs, dns and zlib of the pool. Default 64.
   */
  entries?: number;
}

const TP_OPTIONS = ['entries'] as const;

export interface ThreadpoolContextStats extends ContextStats {
  /** Reads and writes on BufferPool memory. */
  poolOps: number;
}

export class ThreadpoolContext extends QueuedContext implements IoContext {
  readonly backend = 'threadpool' as const;

  constructor(options: ThreadpoolContextOptions = {}) {
    const o = validateObject<ThreadpoolContextOptions>(options, 'options');
    validateKeys(o, 'options', TP_OPTIONS);
    const entries = validateEntries(o.entries, 64);
    super({ name: 'ThreadpoolContext', currentPosition: true }, entries, (onComplete, completions, counters) =>
      new binding.Threadpool({ entries }, onComplete, completions, counters),
    );
  }

  override get stats(): ThreadpoolContextStats {
    return { ...super.stats, poolOps: this._poolOps };
  }

  /** @internal Worker threads copy through the page cache: nothing to pin. */
  protected override _pinner(): Pinner {
    return unpinnedPinner;
  }
}
