// FixedFile: an index into a ring's registered file table
// (IORING_REGISTER_FILES). A raw fd and a registered index are different
// types, so one can never be passed where the other is meant.

import { illegalConstructor } from '../errors';

/** Only the ring's registration makes FixedFiles (a made-up one could name any slot, 1.5 or 99999). */
export const MAKE_FIXED_FILE = Symbol('kaio.FixedFile');

let ownerOf: (file: FixedFile) => object | undefined;
let disown: (file: FixedFile) => void;
let slotIn: (file: unknown, ring: object) => number;
let slotOf: (file: FixedFile) => number;

export class FixedFile {
  /** Index in the owning ring's file table. */
  readonly index: number;
  /** The fd that was registered (the table holds its own reference), or -1 for an empty slot. */
  readonly fd: number;
  /** The ring whose table holds this slot; undefined once unregistered. A private field, not a WeakMap: every op on a FixedFile reads it. */
  #owner: object | undefined;
  /** The index ops use: `index` is a plain property a caller could redefine. */
  readonly #slot: number;

  /** Not for users: made by ring.registerFiles(). (Not marked internal: stripped from the .d.ts, it would leave a public no-argument constructor.) */
  constructor(token: symbol, owner: object, index: number, fd: number) {
    if (token !== MAKE_FIXED_FILE) throw illegalConstructor('a FixedFile is made by ring.registerFiles() or ring.updateFiles()');
    this.index = index;
    this.fd = fd;
    this.#owner = owner;
    this.#slot = index;
  }

  static {
    // An object that only inherits from FixedFile.prototype has no owner.
    ownerOf = (file) => (#owner in file ? file.#owner : undefined);
    // A brand check: runs none of the caller's code (instanceof would run a Proxy's traps).
    slotIn = (file, ring) =>
      typeof file !== 'object' || file === null || !(#owner in file) ? -1 : file.#owner === ring ? file.#slot : -2;
    slotOf = (file) => (#slot in file ? file.#slot : -1);
    disown = (file) => {
      if (#owner in file) file.#owner = undefined;
    };
  }
}

/** The ring a FixedFile belongs to, or undefined once it was unregistered. */
export function fixedFileOwner(file: FixedFile): object | undefined {
  return ownerOf(file);
}

/**
 * `file`'s index in `ring`'s table; -1 when it is not a FixedFile, -2 when it
 * is one of another ring or was unregistered.
 */
export function fixedFileSlot(file: unknown, ring: object): number {
  return slotIn(file, ring);
}

/** The slot `file` was made for (-1 if it is no FixedFile): for messages, where reading `index` would run a caller's getter. */
export function fixedFileIndex(file: FixedFile): number {
  return slotOf(file);
}

/** @internal Marks a FixedFile as no longer registered. */
export function disownFixedFile(file: FixedFile): void {
  disown(file);
}
