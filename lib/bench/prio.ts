// fio's I/O priorities: the job's own (prio, prioclass, priohint: ioprio_set
// on the job's thread before it starts) and per command (cmdprio_percentage
// or cmdprio_bssplit, with cmdprio_class / cmdprio / cmdprio_hint: the
// chosen ops carry their ioprio in the SQE's ioprio field on io_uring, in
// aio_reqprio with IOCB_FLAG_IOPRIO on libaio, as fio's engines put it).
// Completion latencies are also kept per ioprio value, fio's clat_prio.
import { Rand } from './random';

/** The kernel's ioprio value: class << 13 | hint << 3 | level (include/uapi/linux/ioprio.h). */
export function ioprioValue(cls: number, level: number, hint = 0): number {
  return (cls << 13) | (hint << 3) | level;
}

export interface BsPrio {
  bs: number;
  perc: number;
  /** ioprio value; -1: cmdprio_class/cmdprio's. */
  ioprio: number;
}

export interface PrioOptions {
  /** prio / prioclass / priohint were given: the job's thread gets ioprio_set. */
  jobSet: boolean;
  prio: number;
  prioclass: number;
  priohint: number;
  /** Per direction [read, write]. */
  cmdPercentage: [number, number];
  cmdClass: [number, number];
  cmdLevel: [number, number];
  cmdHint: [number, number];
  /** cmdprio_bssplit per direction; undefined: not given. */
  cmdBssplit: [BsPrio[], BsPrio[]] | undefined;
}

export function defaultPrioOptions(): PrioOptions {
  return {
    jobSet: false,
    // fio's defaults when only one of them is given: 0.
    prio: 0,
    prioclass: 0,
    priohint: 0,
    cmdPercentage: [0, 0],
    // fio: the highest class (RT), level 0, when not given.
    cmdClass: [1, 1],
    cmdLevel: [0, 0],
    cmdHint: [0, 0],
    cmdBssplit: undefined,
  };
}

/** Some op may carry its own priority. */
export function cmdprioOn(p: PrioOptions): boolean {
  return p.cmdBssplit !== undefined || p.cmdPercentage[0] > 0 || p.cmdPercentage[1] > 0;
}

/** The job's ioprio value (0: none, the ops inherit the thread's). */
export function jobIoprio(p: PrioOptions): number {
  return p.jobSet ? ioprioValue(p.prioclass, p.prio, p.priohint) : 0;
}

/** "a[,b]" of integers in [min, max], for read and write. */
export function parsePair(text: string, min: number, max: number, fail: (why: string) => Error): [number, number] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length > 2 || parts.some((s) => !/^\d+$/.test(s))) throw fail(`must be N or N,N (read,write) (got ${text})`);
  const v = parts.map(Number);
  for (const x of v) if (x < min || x > max) throw fail(`must be from ${min} to ${max} (got ${text})`);
  return [v[0], v.length > 1 ? v[1] : v[0]];
}

/**
 * cmdprio_bssplit: per direction (comma), entries BS/PCT[/CLASS/LEVEL[/HINT]]
 * separated by ':'; an entry without class and level takes cmdprio_class /
 * cmdprio's (-1 here). The percentages of one block size add up to at most 100.
 */
export function parseCmdBssplit(text: string, parseSize: (s: string) => number, fail: (why: string) => Error): [BsPrio[], BsPrio[]] {
  const dirs = text.split(',');
  if (dirs.length > 2) throw fail(`takes at most 2 comma-separated lists (read,write) (got ${text})`);
  const lists = dirs.map((d) => {
    const out: BsPrio[] = [];
    for (const item of d.split(':')) {
      if (!item.trim()) continue;
      const f = item.split('/').map((s) => s.trim());
      if (f.length !== 2 && f.length !== 4 && f.length !== 5) throw fail(`entries are BS/PCT or BS/PCT/CLASS/LEVEL[/HINT] (got ${item})`);
      const bs = parseSize(f[0]);
      const num = (s: string, lo: number, hi: number, what: string): number => {
        if (!/^\d+$/.test(s) || Number(s) < lo || Number(s) > hi) throw fail(`${what} must be from ${lo} to ${hi} (got ${item})`);
        return Number(s);
      };
      const perc = num(f[1], 0, 100, 'percentage');
      const ioprio = f.length === 2 ? -1 : ioprioValue(num(f[2], 0, 3, 'class'), num(f[3], 0, 7, 'level'), f.length === 5 ? num(f[4], 0, 1023, 'hint') : 0);
      out.push({ bs, perc, ioprio });
    }
    const per = new Map<number, number>();
    for (const e of out) per.set(e.bs, (per.get(e.bs) ?? 0) + e.perc);
    for (const [bs, p] of per) if (p > 100) throw fail(`the percentages of block size ${bs} add up to ${p}, more than 100`);
    return out;
  });
  return [lists[0], lists.length > 1 ? lists[1] : lists[0]];
}

/**
 * Picks each op's ioprio as fio's cmdprio does: one draw in [0, 100) per op;
 * below the direction's percentage (or the op's block size's total in
 * cmdprio_bssplit) the op gets the command priority, else the job's. Also
 * numbers the distinct values (the clat_prio index; the job's is 0).
 */
export class PrioPicker {
  readonly rand: Rand;
  readonly base: number;
  /** Distinct ioprio values, index = clat_prio index. */
  readonly values: number[];
  readonly perc: [number, number];
  readonly percPrio: [number, number];
  readonly bsprio: [Map<number, Array<{ perc: number; ioprio: number }>>, Map<number, Array<{ perc: number; ioprio: number }>>] | undefined;
  /** The last pick's clat_prio index. */
  index = 0;

  constructor(p: PrioOptions, seed: number) {
    this.rand = new Rand(seed ^ 0x1b873593);
    this.base = jobIoprio(p);
    this.values = [this.base];
    const implicit = [0, 1].map((d) => ioprioValue(p.cmdClass[d], p.cmdLevel[d], p.cmdHint[d]));
    this.perc = p.cmdPercentage;
    this.percPrio = [implicit[0], implicit[1]];
    if (p.cmdBssplit) {
      this.bsprio = [new Map(), new Map()];
      for (const d of [0, 1]) {
        for (const e of p.cmdBssplit[d]) {
          const ioprio = e.ioprio < 0 ? implicit[d] : e.ioprio;
          const l = this.bsprio[d].get(e.bs) ?? [];
          l.push({ perc: e.perc, ioprio });
          this.bsprio[d].set(e.bs, l);
          if (e.perc > 0) this.#idx(ioprio);
        }
      }
    } else for (const d of [0, 1]) if (this.perc[d] > 0) this.#idx(this.percPrio[d]);
  }

  #idx(v: number): number {
    let i = this.values.indexOf(v);
    if (i < 0) i = this.values.push(v) - 1;
    return i;
  }

  /** The ioprio of an op of direction `dir` and `len` bytes; this.index its clat_prio index. */
  pick(dir: number, len: number): number {
    const r = Math.floor(this.rand.next() * 100);
    if (this.bsprio === undefined) {
      if (dir < 2 && r < this.perc[dir]) return this.#pick(this.percPrio[dir]);
      this.index = 0;
      return this.base;
    }
    const list = dir < 2 ? this.bsprio[dir].get(len) : undefined;
    if (list !== undefined) {
      let acc = 0;
      for (const e of list) {
        acc += e.perc;
        if (r < acc) return this.#pick(e.ioprio);
      }
    }
    this.index = 0;
    return this.base;
  }

  #pick(v: number): number {
    this.index = this.values.indexOf(v);
    return v;
  }
}
