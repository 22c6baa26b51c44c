// Registered buffers and files of one ring: pools pinned into the ring's
// buffer table (IORING_REGISTER_BUFFERS2/_UPDATE) and the file table
// (IORING_REGISTER_FILES/_UPDATE), with the FixedFile handles of its slots.
import { constants as osConstants } from 'node:os';
import type { NativeRing } from '../binding';
import { outOfRange, stateError, systemError } from '../errors';
import { createPool, MAX_POOL_BUFFERS, type BufferPool, type BufferPoolOptions, type Pinner } from '../pool';
import { vmBytes } from '../procfs';
import { validateInteger, validateOptions } from '../validate';
import { fileList } from './args';
import { disownFixedFile, FixedFile, MAKE_FIXED_FILE } from './fixed-file';

export interface RegisterFilesOptions {
  /** Slots in the table (>= fds.length); the ones past fds.length start empty, for updateFiles(). */
  size?: number;
}

/** Most slots a registered file table may have (IORING_MAX_FIXED_FILES). */
export const MAX_FIXED_FILES = 1 << 20;

export class Registration {
  readonly #native: NativeRing;
  /** The ring FixedFiles belong to. */
  readonly #owner: object;
  /** Pools made by registerBuffers() that are not released yet. */
  readonly #pools = new Set<BufferPool>();
  /** First table index of each registered pool, by its memory. */
  readonly #poolIndex = new Map<ArrayBuffer, number>();
  #registeredBuffers = 0;
  /** The registered file table, one handle per slot. */
  #files: FixedFile[] | undefined;

  constructor(native: NativeRing, owner: object) {
    this.#native = native;
    this.#owner = owner;
  }

  registerBuffers(options: BufferPoolOptions): BufferPool {
    const pool = createPool(options, this.#pinner);
    const first = this.#poolIndex.get(pool._memory);
    // Ops on it then stage a buffer index and offset (staging.ts).
    if (first !== undefined) pool._setFixed(this.#owner, first);
    this.#pools.add(pool);
    if (pool.registered) this.#registeredBuffers += pool.count;
    return pool;
  }

  /** Releases every pool (each waits for the ops that use it). */
  async releasePools(): Promise<void> {
    for (const pool of [...this.#pools]) await pool.release();
  }

  readonly #pinner: Pinner = {
    method: 'io_uring_register',
    lockedBytes: () => vmBytes('VmPin'),
    freeBuffers: () => MAX_POOL_BUFFERS - this.#registeredBuffers,
    pin: (memory, size, count) => {
      const first = this.#native.registerBuffers(memory, size, count);
      if (first === -osConstants.errno.ENOSPC) {
        // Enough slots are free, but not side by side: released pools left holes.
        throw outOfRange(
          'options.count',
          `a run of free slots in the ring's table of ${MAX_POOL_BUFFERS} buffers; released pools left no ${count} in a row`,
          count,
        );
      }
      if (first < 0) return first;
      this.#poolIndex.set(memory, first);
      return 0;
    },
    unpin: (memory) => {
      const first = this.#poolIndex.get(memory);
      if (first === undefined) return;
      this.#poolIndex.delete(memory);
      // Ops already in the kernel keep their pages until they finish; new
      // ones stop using the index at once.
      this.#native.unregisterBuffers(first);
    },
    forget: (pool) => {
      pool._setFixed(undefined, -1);
      if (this.#pools.delete(pool) && pool.registered) this.#registeredBuffers -= pool.count;
    },
  };

  /**
   * Registers a file table (IORING_REGISTER_FILES) and returns one FixedFile
   * per slot, usable wherever an fd is. The table holds its own reference to
   * each file: closing the fd does not unregister it. With `size`, the
   * slots past fds.length start empty (fd -1) for updateFiles(). One table
   * per ring; unregisterFiles() drops it.
   */
  registerFiles(fds: readonly number[], options?: RegisterFilesOptions): FixedFile[] {
    const list = fileList(fds, 'fds');
    const o = validateOptions<RegisterFilesOptions>(options, ['size']);
    const size = o.size === undefined ? list.length : validateInteger(o.size, 'options.size', Math.max(list.length, 1), MAX_FIXED_FILES);
    if (size === 0) throw outOfRange('fds.length', '>= 1 (or options.size >= 1 for an empty table)', 0);
    if (this.#files)
      throw stateError('ERR_KAIO_FIXED_FILE', 'This ring already has a registered file table; use updateFiles() or unregisterFiles() first');
    const table = new Int32Array(size).fill(-1);
    table.set(list);
    const r = this.#native.registerFiles(table);
    if (r < 0)
      throw systemError(r, 'io_uring_register', undefined, r === -osConstants.errno.EMFILE ? 'A file table may not have more slots than RLIMIT_NOFILE allows.' : undefined);
    this.#files = Array.from(table, (fd, i) => new FixedFile(MAKE_FIXED_FILE, this.#owner, i, fd));
    return this.#files.slice();
  }

  /**
   * Replaces slots offset.. of the file table (IORING_REGISTER_FILES_UPDATE);
   * fd -1 empties a slot. Returns the new handles; the old handles of those
   * slots stop working (ERR_KAIO_FIXED_FILE).
   */
  updateFiles(offset: number, fds: readonly number[]): FixedFile[] {
    const files = this.#files;
    if (!files) throw stateError('ERR_KAIO_FIXED_FILE', 'This ring has no registered file table; call registerFiles() first');
    const list = fileList(fds, 'fds');
    validateInteger(offset, 'offset', 0, files.length - 1);
    if (list.length === 0 || offset + list.length > files.length)
      throw outOfRange('fds.length', `>= 1 && <= ${files.length - offset} (the table has ${files.length} slots)`, list.length);
    const table = Int32Array.from(list);
    const done = this.#native.updateFiles(offset, table);
    const updated = done < 0 ? 0 : done;
    const out: FixedFile[] = [];
    for (let i = 0; i < updated; i++) {
      disownFixedFile(files[offset + i]);
      out.push((files[offset + i] = new FixedFile(MAKE_FIXED_FILE, this.#owner, offset + i, list[i])));
    }
    if (updated < list.length) {
      // The kernel reports only how many went in; ask again for the first
      // failing slot alone to learn why.
      const r = done < 0 ? done : this.#native.updateFiles(offset + updated, table.subarray(updated, updated + 1));
      const err = systemError(r < 0 ? r : -osConstants.errno.EIO, 'io_uring_register');
      if (r >= 0) {
        disownFixedFile(files[offset + updated]);
        files[offset + updated] = new FixedFile(MAKE_FIXED_FILE, this.#owner, offset + updated, list[updated]);
      }
      err.message += `
${updated} of ${list.length} slots were updated; slot ${offset + updated} (fd ${list[updated]}) failed.`;
      throw err;
    }
    return out;
  }

  /** A file table is registered. */
  get hasFiles(): boolean {
    return this.#files !== undefined;
  }

  /** Drops the file table (IORING_UNREGISTER_FILES); every FixedFile of it stops working. */
  unregisterFiles(): void {
    if (!this.#files) return;
    const r = this.#native.unregisterFiles();
    this.disownFiles();
    if (r < 0) throw systemError(r, 'io_uring_register');
  }

  disownFiles(): void {
    if (!this.#files) return;
    for (const f of this.#files) disownFixedFile(f);
    this.#files = undefined;
  }
}
