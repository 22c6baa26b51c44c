// FixedFile: an index into a ring's registered file table
// (IORING_REGISTER_FILES). A raw fd and a registered index are different
// types, so one can never be passed where the other is meant.

const owners = new WeakMap<FixedFile, object>();

export class FixedFile {
  /** Index in the owning ring's file table. */
  readonly index: number;
  /** The fd that was registered (the table holds its own reference), or -1 for an empty slot. */
  readonly fd: number;

  /** @internal Made by Ring.registerFiles(). */
  constructor(owner: object, index: number, fd: number) {
    this.index = index;
    this.fd = fd;
    owners.set(this, owner);
  }
}

/** The ring a FixedFile belongs to, or undefined once it was unregistered. */
export function fixedFileOwner(file: FixedFile): object | undefined {
  return owners.get(file);
}

/** @internal Marks a FixedFile as no longer registered. */
export function disownFixedFile(file: FixedFile): void {
  owners.delete(file);
}
