// FixedFile: an index into a ring's registered file table
// (IORING_REGISTER_FILES). A raw fd and a registered index are different
// types, so one can never be passed where the other is meant.

let ownerOf: (file: FixedFile) => object | undefined;
let disown: (file: FixedFile) => void;

export class FixedFile {
  /** Index in the owning ring's file table. */
  readonly index: number;
  /** The fd that was registered (the table holds its own reference), or -1 for an empty slot. */
  readonly fd: number;
  /** The ring whose table holds this slot; undefined once unregistered. A private field, not a WeakMap: every op on a FixedFile reads it. */
  #owner: object | undefined;

  /** Not for users: made by ring.registerFiles(). (Not marked internal: stripped from the .d.ts, it would leave a public no-argument constructor.) */
  constructor(owner: object, index: number, fd: number) {
    this.index = index;
    this.fd = fd;
    this.#owner = owner;
  }

  static {
    // An object that only inherits from FixedFile.prototype has no owner.
    ownerOf = (file) => (#owner in file ? file.#owner : undefined);
    disown = (file) => {
      if (#owner in file) file.#owner = undefined;
    };
  }
}

/** The ring a FixedFile belongs to, or undefined once it was unregistered. */
export function fixedFileOwner(file: FixedFile): object | undefined {
  return ownerOf(file);
}

/** @internal Marks a FixedFile as no longer registered. */
export function disownFixedFile(file: FixedFile): void {
  disown(file);
}
