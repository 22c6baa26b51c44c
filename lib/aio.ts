// AioContext: Linux native AIO (io_setup/io_submit/io_getevents) with the
// same promise API as Ring. Completions signal an eventfd watched on Node's
// loop and are reaped from the kernel's mapped completion ring.
import { binding, BackendCounter, type NativeAio } from './binding';
import { QueuedContext, validateEntries } from './backend';
import type { ContextStats, IoContext } from './types';
import { mlockPinner, type Pinner } from './pool';
import { aioLimits } from './procfs';
import { validateBoolean, validateKeys, validateObject } from './validate';

export interface AioContextOptions {
  /** Ops the context holds at once (io_setup's nr_events). More wait in a queue. Default 128. */
  entries?: number;
  /** Reap completions from the ring io_setup maps (no syscall) when its layout is known. Default true. */
  userspaceReap?: boolean;
}

export interface AioContextStats extends ContextStats {
  /** io_submit(2) calls. */
  submitCalls: number;
  /** io_getevents(2) calls (0 while completions are reaped from the mapped ring). */
  geteventsCalls: number;
  /** Reads and writes on BufferPool memory. */
  poolOps: number;
}

export interface AioContextParams {
  entries: number;
  /** Completions are reaped from the user-space ring rather than with io_getevents. */
  userspaceReap: boolean;
}

const AIO_OPTIONS = ['entries', 'userspaceReap'] as const;

function setupError(e: unknown, entries: number): unknown {
  const err = e as { code?: string; message?: string };
  if (!err || typeof err.message !== 'string') return e;
  if (err.code === 'EAGAIN') {
    const { maxNr, nr } = aioLimits();
    err.message +=
      `\nio_setup(${entries}) would exceed fs.aio-max-nr (${maxNr ?? '?'}; ${nr ?? '?'} events already in use system-wide;` +
      ' the kernel reserves about twice the asked number, at least 4 per CPU).' +
      ' Use fewer entries, close other contexts, or raise it: sysctl -w fs.aio-max-nr=1048576.';
  } else if (err.code === 'EPERM') {
    err.message += '\nLinux AIO is blocked here (a seccomp profile or sandbox).' +
      " createContext({ backend: 'auto' }) falls back to the thread pool.";
  } else if (err.code === 'ENOSYS') {
    err.message += '\nThis kernel was built without CONFIG_AIO.';
  }
  return e;
}

/**
 * A Linux native AIO context. See io_setup(2), io_submit(2).
 *
 * AIO is only truly asynchronous for O_DIRECT files: on buffered files
 * io_submit does the I/O before it returns.
 * Reads and writes on fds that are neither regular files nor block devices
 * (pipes, sockets, character devices) never reach io_submit, which would
 * block the event loop on them: they run on the thread pool's workers.
 */
export class AioContext extends QueuedContext implements IoContext {
  readonly backend = 'aio' as const;
  readonly #native: NativeAio;

  constructor(options: AioContextOptions = {}) {
    const o = validateObject<AioContextOptions>(options, 'options');
    validateKeys(o, 'options', AIO_OPTIONS);
    const entries = validateEntries(o.entries, 128);
    const userRing = o.userspaceReap === undefined ? true : validateBoolean(o.userspaceReap, 'options.userspaceReap');
    let native: NativeAio | undefined;
    super(
      {
        name: 'AioContext',
        currentPosition: false,
        currentPositionWhy: 'by Linux AIO (every iocb carries an explicit offset)',
        bounce: true,
      },
      entries,
      (onComplete, completions, counters) => {
        try {
          native = new binding.Aio({ entries, userRing }, onComplete, completions, counters);
        } catch (e) {
          throw setupError(e, entries);
        }
        return native;
      },
    );
    this.#native = native as NativeAio;
  }

  get params(): AioContextParams {
    const info = this.#native.info();
    return { entries: info.entries, userspaceReap: info.userRing };
  }

  override get stats(): AioContextStats {
    return {
      ...super.stats,
      submitCalls: this._counter(BackendCounter.SubmitCalls),
      geteventsCalls: this._counter(BackendCounter.GeteventsCalls),
      poolOps: this._poolOps,
    };
  }

  /** @internal Linux AIO has no buffer registration: pools are mlock(2)ed. */
  protected override _pinner(): Pinner {
    return mlockPinner();
  }
}
