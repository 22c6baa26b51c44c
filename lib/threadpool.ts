// ThreadpoolContext: preadv2/pwritev2/fsync/fdatasync on kaio's own worker
// threads (native/core/offload.h) through kaio-owned bounce buffers, with the
// same promise API as Ring. For systems where neither io_uring nor Linux
// AIO is allowed.
import { binding } from './binding';
import { QueuedContext, validateEntries } from './backend';
import type { ContextStats, IoContext } from './types';
import { unpinnedPinner, type Pinner } from './pool';
import { validateKeys, validateObject } from './validate';

export interface ThreadpoolContextOptions {
  /**
   * Ops handed to the worker threads at once; more wait in a queue here.
   * Default 64.
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

  /** @internal Worker threads use their own bounce buffers: nothing to pin. */
  protected override _pinner(): Pinner {
    return unpinnedPinner;
  }
}
