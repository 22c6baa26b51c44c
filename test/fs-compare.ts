// What tests 26, 27 and 29 compare kaio/fs/promises with node:fs/promises
// on: the shape of an error, of a result, of a call's outcome, and of the
// tree a script of calls leaves behind, with the test's own directory (and
// what else differs between twin trees) taken out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { skip } from './helpers';

export type AnyFn = (...args: unknown[]) => unknown;
export type AsyncFn = (...args: unknown[]) => Promise<unknown>;

/** How a test's twin trees may differ in text: always their directory; with `mkdtemp`, mkdtemp's six random characters too. */
export interface Norm {
  dir: string;
  /** Replace the six characters after 'tmp-' with XXXXXX (the script calls mkdtemp('@tmp-')). */
  mkdtemp?: boolean;
}

const normOf = (n: string | Norm): Norm => (typeof n === 'string' ? { dir: n } : n);

/** A string with the tree's directory as '<D>' (and mkdtemp's suffix as XXXXXX where asked); anything else as it is. */
export function norm(v: unknown, n: string | Norm): unknown {
  if (typeof v !== 'string') return v;
  const { dir, mkdtemp } = normOf(n);
  const s = v.split(dir).join('<D>');
  return mkdtemp ? s.replace(/(tmp-)[A-Za-z0-9]{6}/g, '$1XXXXXX') : s;
}

/** The fields an error is compared on: class, name, message, code, errno, syscall, path, dest, and an AggregateError's errors, each the same way. */
export function errorShape(e: unknown, n: string | Norm): Record<string, unknown> {
  const err = e as Record<string, unknown> & Error;
  const shape: Record<string, unknown> = {
    ctor: err?.constructor?.name,
    name: err?.name,
    message: norm(err?.message, n),
    code: err?.code,
    errno: err?.errno,
    syscall: err?.syscall,
    path: norm(err?.path, n),
    dest: norm(err?.dest, n),
  };
  const errors = (err as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errors)) shape.errors = errors.map((x) => errorShape(x, n));
  return shape;
}

const entryKind = (e: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string =>
  (e.isFile() ? 'f' : e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : '?');

/**
 * What a call's result is compared on across twin trees (inodes and times
 * differ between them). A FileHandle is closed, a Dir read to its end.
 */
export async function resultShape(r: unknown, n: string | Norm): Promise<unknown> {
  if (r instanceof fs.Stats || (r && typeof r === 'object' && r.constructor?.name === 'BigIntStats')) {
    const s = r as fs.Stats;
    return {
      proto: Object.getPrototypeOf(s).constructor.name, keys: Object.keys(s), mode: s.mode, size: s.size, nlink: s.nlink, uid: s.uid, gid: s.gid,
      file: s.isFile(), dir: s.isDirectory(), link: s.isSymbolicLink(),
    };
  }
  if (r && typeof r === 'object' && r.constructor?.name === 'StatFs') {
    const s = r as { type: number; bsize: number };
    return { proto: 'StatFs', keys: Object.keys(s), type: s.type, bsize: s.bsize };
  }
  if (r && typeof r === 'object' && typeof (r as { close?: unknown }).close === 'function' && typeof (r as { fd?: unknown }).fd === 'number') {
    const h = r as fs.promises.FileHandle;
    const st = await h.stat();
    await h.close();
    return { handle: r.constructor.name, size: st.size, file: st.isFile() };
  }
  if (r instanceof fs.Dir) {
    const names: string[] = [];
    for await (const e of r) names.push(`${e.name}:${entryKind(e)}`);
    const p: unknown = r.path;
    return { dir: names.sort(), path: Buffer.isBuffer(p) ? { buffer: norm(p.toString('latin1'), n) } : norm(p, n) };
  }
  if (Array.isArray(r)) {
    return r.map((e) => (e instanceof fs.Dirent ? `${e.name}:${entryKind(e)}` : Buffer.isBuffer(e) ? `buf:${e.toString('hex')}` : String(e))).sort();
  }
  if (Buffer.isBuffer(r)) return { buffer: norm(r.toString('latin1'), n) };
  return norm(r, n);
}

/** A call's outcome: { ok: its result's shape } or { error: its error's shape } (a synchronous throw too). */
export async function outcome(fn: () => unknown, n: string | Norm): Promise<unknown> {
  try {
    return { ok: await resultShape(await fn(), n) };
  } catch (e) {
    return { error: errorShape(e, n) };
  }
}

/**
 * Every entry under dir: mode, size, nlink, owner, link target, the bytes of
 * files; the times only where utimes set them to the distant past (twin
 * trees are made at different moments). Names are keys as latin1 of their
 * bytes, so names that are not UTF-8 stay apart.
 */
export function tree(dir: string, n: string | Norm = dir): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (rel: Buffer): void => {
    const here = rel.length === 0 ? Buffer.from(dir) : Buffer.concat([Buffer.from(`${dir}/`), rel]);
    for (const name of fs.readdirSync(here, 'buffer').sort(Buffer.compare)) {
      const r = rel.length === 0 ? name : Buffer.concat([rel, Buffer.from('/'), name]);
      const p = Buffer.concat([Buffer.from(`${dir}/`), r]);
      const st = fs.lstatSync(p);
      const set = (ms: number): number | undefined => (ms < 1e11 ? ms : undefined);
      out[String(norm(r.toString('latin1'), n))] = {
        mode: st.mode, size: st.isDirectory() ? 0 : st.size, nlink: st.isDirectory() ? 0 : st.nlink, uid: st.uid, gid: st.gid,
        link: st.isSymbolicLink() ? fs.readlinkSync(p, 'buffer').toString('latin1') : undefined,
        data: st.isFile() ? fs.readFileSync(p, 'latin1') : undefined,
        atime: set(st.atimeMs), mtime: set(st.mtimeMs),
      };
      if (st.isDirectory()) walk(r);
    }
  };
  walk(Buffer.alloc(0));
  return out;
}

/** A script's path arguments: '@x' is x in the tree; B('@x') its Buffer, U('@x') its file: URL, R('@x', bytes) x with raw bytes after it (a Buffer). */
export const B = (p: string) => ({ buffer: p });
export const U = (p: string) => ({ url: p });
export const R = (p: string, hex: string) => ({ bytes: p, hex });
/** Past NAME_MAX: ENAMETOOLONG. */
export const LONG_NAME = 'n'.repeat(300);
/** Past PATH_MAX: ENAMETOOLONG. */
export const LONG_PATH = `${'a/'.repeat(2100)}x`;

const only = (a: object, key: string): boolean => key in a && Object.keys(a).length === (key === 'bytes' ? 2 : 1);

/** The script's arguments for the tree at dir. */
export function resolveArgs(args: unknown[], dir: string): unknown[] {
  const one = (a: unknown): unknown => {
    if (typeof a === 'string' && a.startsWith('@')) return path.join(dir, a.slice(1));
    if (a && typeof a === 'object' && only(a, 'buffer')) return Buffer.from(one((a as { buffer: string }).buffer) as string);
    if (a && typeof a === 'object' && only(a, 'url')) return new URL(`file://${encodeURI(one((a as { url: string }).url) as string)}`);
    if (a && typeof a === 'object' && only(a, 'bytes')) {
      const { bytes, hex } = a as { bytes: string; hex: string };
      assert.ok(/^([0-9a-f]{2})+$/.test(hex), `R(${bytes}, ${hex}): not hex`);
      return Buffer.concat([Buffer.from(one(bytes) as string), Buffer.from(hex, 'hex')]);
    }
    return a;
  };
  return args.map(one);
}

/** A call as a message shows it (long strings cut). */
export const show = (name: string, args: unknown[]): string =>
  `${name}(${args.map((a) => (typeof a === 'string' && a.length > 40 ? `${a.slice(0, 20)}…(${a.length})` : typeof a === 'bigint' ? `${a}n` : JSON.stringify(a) ?? String(a))).join(', ')})`;

/** Ops the default context's ring completed while fn ran (0 off the ring). */
export async function ringOps(fn: () => Promise<unknown>): Promise<number> {
  const ctx = kaio.defaultContext();
  const before = ctx instanceof kaio.Ring ? ctx.stats.completed : 0;
  await fn();
  return ctx instanceof kaio.Ring ? ctx.stats.completed - before : 0;
}

/**
 * Called in a test file's describe(): its hooks make a temporary directory
 * (`base`) and, at the end, remove it, put KAIO_BACKEND back and close the
 * default context. `use(this, backend)` in a describe()'s `before` makes the
 * default context one on `backend` (skipped where it cannot be set up here)
 * and returns it.
 */
export function fsSuite(prefix: string): { readonly base: string; use(t: Mocha.Context, backend: string): Promise<kaio.IoContext> } {
  const saved = process.env.KAIO_BACKEND;
  let base = '';
  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  after(async () => {
    if (saved === undefined) delete process.env.KAIO_BACKEND;
    else process.env.KAIO_BACKEND = saved;
    await kaio.defaultContext().close();
    fs.rmSync(base, { recursive: true, force: true });
  });
  return {
    get base() {
      return base;
    },
    async use(t, backend) {
      process.env.KAIO_BACKEND = backend;
      await kaio.defaultContext().close();
      let ctx: kaio.IoContext;
      try {
        ctx = kaio.defaultContext();
      } catch (e) {
        skip(t, `${backend} cannot be set up here: ${(e as Error).message}`);
      }
      assert.strictEqual(ctx.backend, backend);
      return ctx;
    },
  };
}
