// fio's zonemode=strided (not random_distribution=zoned, which skews where
// random offsets fall): the job does zonesize bytes of I/O inside a zone of
// zonerange bytes, then moves zonerange + zoneskip further on, wrapping to
// the start past the end. As in fio, skipped bytes do not count toward the
// job's size: a job of size bytes does size bytes of I/O, wrapping around.
import type { Rand } from './random';

export interface ZoneOptions {
  mode: 'none' | 'strided';
  /** Bytes of I/O per zone (fio's zonesize). */
  size: number;
  /** A zone's extent (fio's zonerange; 0: zonesize). */
  range: number;
  /** Bytes skipped after each zone. */
  skip: number;
}

export function defaultZoneOptions(): ZoneOptions {
  return { mode: 'none', size: 0, range: 0, skip: 0 };
}

export class StridedZones {
  /** Start of the current zone, and the next sequential offset in it. */
  zoneStart: number;
  pos: number;
  /** I/O bytes done in the current zone (fio's zone_bytes). */
  bytes = 0;
  readonly range: number;

  constructor(
    readonly z: ZoneOptions,
    readonly start: number,
    readonly end: number,
    readonly unit: number,
  ) {
    this.zoneStart = this.pos = start;
    this.range = z.range || z.size;
  }

  /** The next op's offset (`len` bytes): sequential, or random within the zone. */
  next(len: number, random: Rand | undefined): number {
    if (this.bytes >= this.z.size) {
      this.bytes = 0;
      this.zoneStart += this.range + this.z.skip;
      if (this.zoneStart >= this.end) this.zoneStart = this.start;
      this.pos = this.zoneStart;
    }
    const zoneEnd = Math.min(this.zoneStart + this.range, this.end);
    // A zonesize above zonerange goes over the zone again.
    if (this.pos + len > zoneEnd) this.pos = this.zoneStart;
    let off: number;
    if (random !== undefined) {
      const slots = Math.max(1, Math.floor((zoneEnd - this.zoneStart - len) / this.unit) + 1);
      off = this.zoneStart + Math.floor(random.next() * slots) * this.unit;
    } else {
      off = this.pos;
      this.pos += len;
    }
    this.bytes += len;
    return off;
  }
}
