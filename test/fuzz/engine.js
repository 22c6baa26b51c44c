'use strict';
// The kaio fuzzer. Runs in a child process (test/fuzz/child.js) so a crash is
// seen as an exit signal by the parent, never as a dead test runner.
//
// One fast-check run = a fresh temp directory with a modelled file (random
// bytes, and an in-memory copy: the byte model) and a scratch file, four
// contexts (Ring on a small SQ, AioContext, ThreadpoolContext, createContext),
// sometimes a registered pool, a kaio FileHandle on the modelled file, then a
// sequence of steps:
//   - waves of modelled ops (read/write/readv/writev/fsync through every
//     context, the batch API and the FileHandle) on disjoint slots of the
//     modelled file, each result checked against the model;
//   - hostile calls: any public method with any argument replaced by a
//     hostile value (wrong types, -0, NaN, huge numbers, bigint,
//     null-prototype objects, Proxies with throwing traps, getters that run
//     code, TypedArray subclasses with lying getters, detached and resizable
//     buffers, DataViews), always aimed at the scratch file or a bad fd;
//   - re-entrant calls from getters and from completion handlers
//     (submit/close/prep from inside);
//   - closes and pool releases at random points.
// Judged: no crash (parent sees exit status), no hang (per-wave timeout),
// every thrown or rejected error has a `code` (TypeError/RangeError: an ERR_
// code), every op settles exactly once, and after all ops settled and the
// contexts closed the modelled file equals the model byte for byte. Hostile
// calls never touch the modelled file: bytes landing there are a finding.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const fc = require('fast-check');
const kaio = require('../../dist/lib');
const { isOpen } = require('./known');

const FILE_SIZE = 64 * 1024;
const SLOT = 4096;
const SLOTS = FILE_SIZE / SLOT;
const WAVE_TIMEOUT_MS = Number(process.env.KAIO_FUZZ_WAVE_TIMEOUT_MS || 10000);

class HostileError extends Error {
  constructor(where) {
    super(`hostile value threw (${where})`);
    this.code = 'HOSTILE';
  }
}

class Finding extends Error {}

/** Every error that reaches the caller must be Node-shaped. */
function judgeError(e, where) {
  if (e instanceof HostileError) return; // the caller's own exception passed through
  if (!(e instanceof Error)) throw new Finding(`${where}: threw a non-Error: ${String(e)}`);
  if (typeof e.code !== 'string' || e.code === '')
    throw new Finding(`${where}: error without code: ${e.constructor.name}: ${e.message}`);
  if ((e instanceof TypeError || e instanceof RangeError) && !e.code.startsWith('ERR_'))
    throw new Finding(`${where}: ${e.constructor.name} with non-Node code ${e.code}: ${e.message}`);
}

let statsNow = () => '';
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Finding(`hang: ${what} did not settle in ${ms} ms ${statsNow()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- hostile values

// Names of hostile values; materialised per call by make() so values that act
// (getters, Proxies) see the run's live objects.
const HOSTILE = [
  'undefined', 'null', 'true', 'emptyString', 'string', '-0', 'NaN', 'Infinity', '-Infinity',
  '2**53', '-2**53', '2**31', '2**32', '2**64', '-1', '-2', '1.5', '1e300', '0n', '-1n', '2n**64n', '2n**63n',
  'symbol', 'emptyObject', 'emptyArray', 'nullProto', 'function', 'throwingProxy', 'proxyOverBuffer',
  'throwingGetterObject', 'closingGetterObject', 'submittingGetterObject', 'detachedBuffer', 'detachedView',
  'resizableView', 'dataView', 'lyingLengthSubclass', 'lyingOffsetSubclass', 'lyingBufferSubclass',
  'ownBufferProperty', 'float64', 'bigArray', 'sparseArray', 'arrayOfHostile', 'hugeBufferLike',
  'signalLike', 'abortedSignal', 'url', 'negZeroMode', 'dataViewDetached', 'poolViewLyingBuffer',
  'reentrantList', 'shrinkingList', 'growingResizable',
];

// Which hostile values exercise a known finding (not generated while open).
const HOSTILE_FINDING = {
  signalLike: 6,
  dataViewDetached: 12,
  poolViewLyingBuffer: 2,
  reentrantList: 1,
  shrinkingList: 5,
  growingResizable: 9,
  negZeroMode: 11,
  nullProto: 12,
};

// Argument positions that hit a known finding (not generated while it is open).
const OBJECTISH = new Set(['emptyObject', 'emptyArray', 'nullProto', 'function', 'throwingProxy', 'throwingGetterObject',
  'closingGetterObject', 'submittingGetterObject', 'url', 'signalLike', 'abortedSignal', 'hugeBufferLike', 'bigArray',
  'sparseArray', 'arrayOfHostile', 'symbol']);
function knownCombo(target, method, index, name) {
  // open(p, 'r', -0) (mode) and open(p, -0) (flags) both abort in node:fs (args[i]->IsInt32()).
  if (target === 'kaio' && method === 'open' && (index === 1 || index === 2) && (name === '-0' || name === 'negZeroMode') && isOpen(11)) return 11;
  if (target === 'kaio' && method === 'open' && index === 3 && isOpen(12)) return 12;
  if (method === 'supports' && isOpen(12)) return 12; // ring.supports({}) and other non-strings
  if (target === 'pool' && method === 'indexOf' && isOpen(12)) return 12;
  if (target === 'scratchFh' && method === 'close' && isOpen(4)) return 4;
  if ((name === 'signalLike') && isOpen(6)) return 6;
  // closeFd(-0) closes fd 0; when a later ring gets fd 0 and it is closed again,
  // io_uring_enter fails with EBADF and the error is thrown from process.nextTick.
  if (method === 'closeFd' && isOpen(10)) return 10;
  // Harness rule, not a finding: closeFd(-0) closes fd 0; the next open then gets fd 0
  // and hostile values -0 aimed at "some fd" write into the modelled file.
  if (method === 'closeFd' && (name === '-0' || name === 'negZeroMode' || name === '0n')) return 'harness: fd 0';
  if ((target === 'scratchFh' || target === 'roFh') && /^(ownBufferProperty|lying)/.test(name) && isOpen('N4')) return 'N4';
  if ((target === 'scratchFh' || target === 'roFh') && method === 'write' && index >= 1 && /^(symbol|detached)/.test(name) && isOpen('N5')) return 'N5';
  if (target === 'kaio' && method === 'open' && index === 0 && /^detached/.test(name) && isOpen('N6')) return 'N6';
  if (target === 'ring' && method === 'updateFiles' && isOpen('N8')) return 'N8';
  if ((target === 'scratchFh' || target === 'roFh') && method === 'write' && index === 0 && name === 'dataViewDetached' && isOpen('N9')) return 'N9';
  if ((target === 'scratchFh' || target === 'roFh') && (method === 'truncate' || method === 'stat') && name === 'function' && isOpen('N1')) return 'N1';
  return 0;
}

function hostileNames() {
  return HOSTILE.filter((n) => !(n in HOSTILE_FINDING && isOpen(HOSTILE_FINDING[n])));
}

function transferred(ab) {
  structuredClone(ab, { transfer: [ab] }); // detaches ab: every view over it has length 0
  return ab;
}

function make(name, env) {
  switch (name) {
    case 'undefined': return undefined;
    case 'null': return null;
    case 'true': return true;
    case 'emptyString': return '';
    case 'string': return 'abc';
    case '-0': return -0;
    case 'NaN': return NaN;
    case 'Infinity': return Infinity;
    case '-Infinity': return -Infinity;
    case '2**53': return 2 ** 53;
    case '-2**53': return -(2 ** 53);
    case '2**31': return 2 ** 31;
    case '2**32': return 2 ** 32;
    case '2**64': return 2 ** 64;
    case '-1': return -1;
    case '-2': return -2;
    case '1.5': return 1.5;
    case '1e300': return 1e300;
    case '0n': return 0n;
    case '-1n': return -1n;
    case '2n**64n': return 2n ** 64n;
    case '2n**63n': return 2n ** 63n;
    case 'symbol': return Symbol('hostile');
    case 'emptyObject': return {};
    case 'emptyArray': return [];
    case 'nullProto': return Object.create(null);
    case 'function': return function hostile() {};
    case 'throwingProxy':
      return new Proxy({}, new Proxy({}, { get: (_, trap) => () => { throw new HostileError(`trap ${String(trap)}`); } }));
    case 'proxyOverBuffer':
      return new Proxy(Buffer.alloc(16), { get: (t, k) => { if (k === 'length' || k === 'byteLength') throw new HostileError('get length'); return Reflect.get(t, k); } });
    case 'throwingGetterObject':
      return { get flags() { throw new HostileError('flags getter'); }, get signal() { throw new HostileError('signal getter'); }, get datasync() { throw new HostileError('datasync getter'); }, get count() { throw new HostileError('count'); }, get size() { throw new HostileError('size'); } };
    case 'closingGetterObject':
      return { get flags() { env.reenter('close'); return 0; }, get datasync() { env.reenter('close'); return false; }, get signal() { env.reenter('close'); return undefined; } };
    case 'submittingGetterObject':
      return { get flags() { env.reenter('submit'); return 0; }, get datasync() { env.reenter('prep'); return false; } };
    case 'detachedBuffer': { const ab = new ArrayBuffer(64); const b = Buffer.from(ab); transferred(ab); return b; }
    case 'detachedView': { const ab = new ArrayBuffer(64); const u = new Uint8Array(ab); structuredClone(ab, { transfer: [ab] }); return u; }
    case 'resizableView': { const ab = new ArrayBuffer(64, { maxByteLength: 1 << 16 }); return new Uint8Array(ab); }
    case 'dataView': return new DataView(new ArrayBuffer(64), 8, 16);
    case 'dataViewDetached': { const ab = new ArrayBuffer(64); const d = new DataView(ab); structuredClone(ab, { transfer: [ab] }); return d; }
    case 'lyingLengthSubclass': {
      class Lying extends Uint8Array { get byteLength() { return 1 << 30; } get length() { return 1 << 30; } }
      return new Lying(16);
    }
    case 'lyingOffsetSubclass': {
      class Lying extends Uint8Array { get byteOffset() { return 1 << 30; } }
      return new Lying(16);
    }
    case 'lyingBufferSubclass': {
      const small = new ArrayBuffer(8);
      class Lying extends Uint8Array { get buffer() { return small; } }
      return new Lying(4096);
    }
    case 'ownBufferProperty': {
      const u = new Uint8Array(4096);
      Object.defineProperty(u, 'buffer', { value: new ArrayBuffer(1) });
      return u;
    }
    case 'poolViewLyingBuffer': {
      const v = env.poolView();
      if (!v) return new Uint8Array(16);
      const u = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      Object.defineProperty(u, 'buffer', { value: new ArrayBuffer(v.byteLength) });
      return u;
    }
    case 'float64': return new Float64Array(8);
    case 'bigArray': return new Array(2000).fill(Buffer.alloc(1));
    case 'sparseArray': { const a = []; a[3] = Buffer.alloc(8); return a; }
    case 'arrayOfHostile': return [Buffer.alloc(8), 'x', null];
    case 'hugeBufferLike': return { buffer: new ArrayBuffer(8), byteOffset: 0, byteLength: 2 ** 40 };
    case 'signalLike': return { signal: { aborted: false, addEventListener() {}, removeEventListener() {} } };
    case 'abortedSignal': return { signal: AbortSignal.abort() };
    case 'url': return new URL('file:///nonexistent-kaio-fuzz');
    case 'negZeroMode': return -0;
    case 'reentrantList': {
      const a = [Buffer.alloc(8), Buffer.alloc(8)];
      Object.defineProperty(a, 1, { get() { env.reenter('submit'); env.reenter('close'); return Buffer.alloc(8); } });
      return a;
    }
    case 'shrinkingList': {
      let n = 0;
      const bufs = [Buffer.alloc(4096), Buffer.alloc(4096)];
      return new Proxy(bufs, { get(t, k) { if (k === 'length') return n++ < 2 ? 2 : 1 << 20; return Reflect.get(t, k); } });
    }
    case 'growingResizable': {
      const ab = new ArrayBuffer(16, { maxByteLength: 1 << 20 });
      const u = new Uint8Array(ab);
      queueMicrotask(() => ab.resize(1 << 20));
      return u;
    }
    default: throw new Error(`unknown hostile value ${name}`);
  }
}

// ------------------------------------------------------------------ the run

/** Public methods per target and their baseline (valid) arguments on the scratch file. */
function callTable(env) {
  const buf = () => Buffer.alloc(64, 0x5a);
  const s = env.scratchFd;
  const ctxMethods = (t) => [
    ['read', [s, buf(), 0]], ['write', [s, buf(), 0]], ['readv', [s, [buf(), buf()], 0]],
    ['writev', [s, [buf(), buf()], 0]], ['fsync', [s]], ['fsync', [s, { datasync: true }]],
    ['registerBuffers', [{ count: 1, size: 4096, fallback: true }]], ['close', []],
    ['read', [s, buf(), 0, {}]], ['write', [s, buf(), 0, {}]],
  ].map(([m, a]) => [t, m, a]);
  const ring = [
    ['nop', []], ['fallocate', [s, 0, 4096]], ['openat', [env.scratchPath, 'r']], ['statx', [env.scratchPath]],
    ['supports', ['READ']], ['prepRead', [s, buf(), 0, 1]], ['prepWrite', [s, buf(), 0, 2]],
    ['prepReadv', [s, [buf()], 0, 3]], ['prepWritev', [s, [buf()], 0, 4]], ['prepFsync', [s, 5]], ['prepNop', [6]],
    ['submit', []], ['submitAndWait', [0]], ['registerFiles', [[s]]], ['updateFiles', [0, [s]]],
    ['unregisterFiles', []], ['closeFd', [-1]],
  ].map(([m, a]) => ['ring', m, a]);
  const pool = [['indexOf', [Buffer.alloc(1)]], ['release', []]].map(([m, a]) => ['pool', m, a]);
  const fh = [
    ['read', [buf(), 0, 64, 0]], ['write', [buf(), 0, 64, 0]], ['write', ['text', 0]], ['readv', [[buf()], 0]],
    ['writev', [[buf()], 0]], ['stat', []], ['sync', []], ['datasync', []], ['truncate', [128]],
    ['writeFile', ['x']], ['close', []],
  ].map(([m, a]) => ['scratchFh', m, a]);
  // readFile on a small read-only file nothing writes: on the scratch file, a concurrent
  // hostile write at a huge position would make it read GiBs of zeros (slow, not a finding).
  const roFh = [['readFile', []], ['readFile', ['utf8']], ['stat', []], ['read', [buf(), 0, 64, 0]], ['write', [buf(), 0, 64, 0]]]
    .map(([m, a]) => ['roFh', m, a]);
  const top = [
    ['createContext', [{ backend: 'threadpool', entries: 2 }]], ['open', [env.scratchPath, 'r+', 0o644, {}]],
    ['alignedBuffer', [4096, 4096]], ['dioAlignment', [env.scratchPath]], ['Ring', [{ entries: 2 }]],
    ['AioContext', [{ entries: 2 }]], ['ThreadpoolContext', [{ entries: 2 }]],
  ].map(([m, a]) => ['kaio', m, a]);
  return [...ctxMethods('ring'), ...ctxMethods('aio'), ...ctxMethods('tp'), ...ctxMethods('auto'), ...ring, ...pool, ...fh, ...roFh, ...top];
}

const VIEW_KINDS = ['buffer', 'uint8', 'dataview', 'offsetInLarger', 'pool'];
// 'fixed': the promise API on a FixedFile of the modelled file (registered file table);
// a hostile updateFiles() may swap the slot to the scratch file: the old handle must then refuse.
const VIAS = ['ring', 'aio', 'tp', 'auto', 'batch', 'fh', 'fixed'];

function arbitraries() {
  const hostileName = fc.constantFrom(...hostileNames());
  const modelOp = fc.record({
    kind: fc.constantFrom('read', 'write', 'write', 'readv', 'writev', 'fsync'),
    via: fc.constantFrom(...VIAS),
    off: fc.integer({ min: 0, max: SLOT - 1 }),
    len: fc.integer({ min: 1, max: SLOT }),
    parts: fc.integer({ min: 1, max: 3 }),
    view: fc.constantFrom(...VIEW_KINDS),
    fill: fc.integer({ min: 0, max: 255 }),
    closeAfter: fc.constantFrom(false, false, false, false, false, false, false, true),
  });
  const hostileCall = fc.record({
    callIndex: fc.nat(),
    argIndex: fc.nat({ max: 5 }),
    value: hostileName,
    second: fc.option(fc.tuple(fc.nat({ max: 5 }), hostileName), { nil: undefined }),
  });
  const step = fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('wave'), ops: fc.array(modelOp, { minLength: 1, maxLength: SLOTS / 2 }), hostile: fc.array(hostileCall, { maxLength: 3 }) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('hostile'), call: hostileCall }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('close'), which: fc.constantFrom('ring', 'aio', 'tp', 'auto', 'pool', 'fh') }) },
  );
  return fc.record({
    ringEntries: fc.constantFrom(1, 2, 4, 8),
    withPool: fc.boolean(),
    handlerReentry: fc.constantFrom('none', 'none', 'submit', 'prep', 'close', 'submitAndWait', 'throw'),
    steps: fc.array(step, { minLength: 1, maxLength: 12 }),
  });
}

let runNo = 0;
let sharedAio;

async function oneRun(plan, log) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fuzz-'));
  const modelPath = path.join(dir, 'model');
  const scratchPath = path.join(dir, 'scratch');
  const model = Buffer.alloc(FILE_SIZE);
  for (let i = 0; i < FILE_SIZE; i++) model[i] = (i * 131 + runNo) & 0xff;
  fs.writeFileSync(modelPath, model);
  fs.writeFileSync(scratchPath, Buffer.alloc(8192));
  const modelFd = fs.openSync(modelPath, 'r+');
  const scratchFd = fs.openSync(scratchPath, 'r+');
  const ctx = {};
  const closing = [];
  let pool;
  let fixed;
  let fh;
  let scratchFh;
  let roFh;
  const roPath = path.join(dir, 'readonly');
  const tagsOut = new Map(); // tag -> { resolve, settled }
  let nextTag = 1000; // modelled batch tags: 1000 .. 2**31 - 1; others are hostile or re-entrant ones
  let reentryTag = 0;
  const settleCounts = new Map();
  const errors = [];
  const env = {
    scratchFd,
    scratchPath,
    poolView: () => (pool && !pool.releasing && !pool.released ? pool.buffers[0].subarray(0, 4096) : undefined),
    reenter(what) {
      try {
        if (what === 'close') closing.push(Promise.resolve(ctx.ring.close()).catch((e) => judgeError(e, 'reentrant close')));
        else if (what === 'submit') ctx.ring.submit();
        else if (what === 'prep') { ctx.ring.onCompletion(batchHandler); ctx.ring.prepNop(0xfffffff0); if (isOpen('N2')) ctx.ring.submit(); }
      } catch (e) {
        judgeError(e, `reentrant ${what}`);
      }
    },
  };

  function batchHandler(tag, res) {
    const entry = tagsOut.get(tag);
    if (entry) {
      tagsOut.delete(tag);
      if (entry.snap) entry.snap(); // copy read bytes now: a pool release may detach the view after the handler
      entry.resolve(res);
    } else if (tag >= 1000 && tag < 2 ** 31) {
      errors.push(new Finding(`batch completion for unknown or already completed tag ${tag} (res ${res})`));
    }
    switch (plan.handlerReentry) {
      case 'submit': try { ctx.ring.submit(); } catch (e) { judgeError(e, 'submit in handler'); } break;
      case 'prep': if (!entry) break; // only for modelled completions: a handler that preps on every completion never ends
        try { const t = 0xff000000 + (reentryTag++ & 0xffff); ctx.ring.prepNop(t); if (isOpen('N2')) ctx.ring.submit(); } catch (e) { judgeError(e, 'prep in handler'); } break;
      case 'close': if (Math.random() < 0.05) env.reenter('close'); break;
      case 'submitAndWait':
        try { ctx.ring.submitAndWait(0); errors.push(new Finding('submitAndWait inside the handler did not throw')); } catch (e) { judgeError(e, 'submitAndWait in handler'); if (e.code !== 'ERR_KAIO_REENTRANT' && e.code !== 'ERR_KAIO_CLOSED') errors.push(new Finding(`submitAndWait in handler: ${e.code}`)); }
        break;
      case 'throw': if (Math.random() < 0.1) throw new HostileError('completion handler'); break;
      default: break;
    }
  }

  try {
    ctx.ring = new kaio.Ring({ entries: plan.ringEntries });
    try {
      // One AioContext for many runs (a new one only after a run closed it): on the
      // 6.18 guest this was built on, io_destroy stalls the thread for seconds to
      // minutes when contexts are set up and torn down at a high rate (see the report).
      if (!sharedAio || sharedAio.closed) sharedAio = new kaio.AioContext({ entries: 4 });
      ctx.aio = sharedAio;
    } catch (e) {
      // fs.aio-nr is system-wide: other processes can fill it. Not a finding of this run.
      if (e.code !== 'EAGAIN') throw e;
      log(`AioContext: EAGAIN (fs.aio-nr full system-wide); this run uses the thread pool in its place`);
      ctx.aio = new kaio.ThreadpoolContext({ entries: 4 });
    }
    ctx.tp = new kaio.ThreadpoolContext({ entries: 2 });
    ctx.auto = kaio.createContext({ entries: 3 });
    ctx.ring.onCompletion(batchHandler);
    statsNow = () => JSON.stringify(Object.fromEntries(Object.entries(ctx).map(([k, c]) => [k, { closed: c.closed, ...c.stats }])));
    try { fixed = ctx.ring.registerFiles([modelFd], { size: 2 })[0]; } catch (e) { judgeError(e, 'registerFiles'); }
    if (plan.withPool) pool = ctx.ring.registerBuffers({ count: SLOTS, size: SLOT, fallback: true });
    fh = await kaio.open(modelPath, 'r+', 0o644, { context: ctx.auto });
    scratchFh = await kaio.open(scratchPath, 'r+');
    fs.writeFileSync(roPath, Buffer.alloc(4096, 0x72));
    roFh = await kaio.open(roPath, 'r');
    const table = callTable(env);

    // ---- a hostile call: a public method, one or two arguments replaced.
    const hostile = (call) => {
      const [target, method, base] = table[call.callIndex % table.length];
      const known = knownCombo(target, method, Math.min(call.argIndex, base.length), call.value) ||
        (call.second && knownCombo(target, method, Math.min(call.second[0], base.length), call.second[1]));
      if (known) { log(`skipped ${target}.${method}: ${String(known).startsWith('harness') ? known : `known finding ${known}`}`); return Promise.resolve(); }
      // Harness limit, not a finding: a hostile position can make the (unmodelled) scratch
      // file GiBs long and sparse; a later readFile() would then read GiBs of zeros.
      // Same for truncate() to GiBs.
      if (target === 'scratchFh' && method === 'truncate') { log('skipped scratchFh.truncate (hostile sizes make readFile slow)'); return Promise.resolve(); }
      const args = base.slice();
      const put = (i, name) => { args[Math.min(i, args.length)] = make(name, env); };
      put(call.argIndex, call.value);
      if (call.second) put(call.second[0], call.second[1]);
      const where = `${target}.${method}(${args.map((_, i) => (i === Math.min(call.argIndex, base.length) ? call.value : i === (call.second && Math.min(call.second[0], base.length)) ? call.second[1] : 'ok')).join(', ')})`;
      log(`hostile ${where}`);
      let r;
      try {
        if (target === 'kaio') {
          if (/^[A-Z]/.test(method)) { const o = new kaio[method](...args); if (o && typeof o.close === 'function') closing.push(Promise.resolve(o.close()).catch((e) => judgeError(e, `${where} close`))); r = undefined; }
          else r = kaio[method](...args);
        } else {
          const obj = target === 'pool' ? pool : target === 'scratchFh' ? scratchFh : target === 'roFh' ? roFh : ctx[target];
          if (!obj) return Promise.resolve();
          r = obj[method](...args);
          // Known finding N2: batch ops prepared and never submitted starve the promise API.
          if (method.startsWith('prep') && target === 'ring' && isOpen('N2')) { try { ctx.ring.submit(); } catch (e) { judgeError(e, 'submit after prep'); } }
          if (method === 'registerBuffers' && r && typeof r.release === 'function') closing.push(r.release().catch((e) => judgeError(e, `${where} release`)));
        }
      } catch (e) {
        judgeError(e, where);
        return Promise.resolve();
      }
      if (r && typeof r.then === 'function') {
        return withTimeout(r, WAVE_TIMEOUT_MS, where).then(
          (v) => {
            if (method === 'createContext' && v == null) return;
            if (v && typeof v.close === 'function') closing.push(Promise.resolve(v.close()).catch((e) => judgeError(e, `${where} close`)));
            if (method === 'openat' && typeof v === 'number') fs.closeSync(v);
          },
          (e) => { if (e instanceof Finding) throw e; judgeError(e, where); },
        );
      }
      if (r && typeof r.close === 'function' && method === 'createContext') closing.push(Promise.resolve(r.close()).catch((e) => judgeError(e, `${where} close`)));
      return Promise.resolve();
    };

    // ---- a modelled op on slot `slot`; resolves once it settled and was checked.
    const modelled = (op, slot, index) => {
      const pos = slot * SLOT + Math.min(op.off, SLOT - 1);
      const len = Math.min(op.len, SLOT - (pos - slot * SLOT));
      let view;
      const viewKind = op.view === 'pool' && !(pool && !pool.releasing && !pool.released) ? 'buffer' : op.view;
      if (viewKind === 'pool') view = pool.buffers[index].subarray(0, len);
      else if (viewKind === 'uint8') view = new Uint8Array(len);
      else if (viewKind === 'dataview') view = new DataView(new ArrayBuffer(len + 8), 8, len);
      else if (viewKind === 'offsetInLarger') view = Buffer.alloc(len + 100).subarray(37, 37 + len);
      else view = Buffer.alloc(len);
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      const isWrite = op.kind === 'write' || op.kind === 'writev';
      if (isWrite) for (let i = 0; i < bytes.length; i++) bytes[i] = (op.fill + i * 7) & 0xff;
      else bytes.fill(0xee);
      const expectedWrite = Buffer.from(bytes); // copy: what we asked to write
      const parts = [];
      if (op.kind === 'readv' || op.kind === 'writev') {
        const n = Math.min(op.parts, len);
        let at = 0;
        for (let i = 0; i < n; i++) {
          const l = i === n - 1 ? len - at : Math.floor(len / n);
          parts.push(new Uint8Array(bytes.buffer, bytes.byteOffset + at, l));
          at += l;
        }
      }
      let via = op.via;
      if (via === 'aio' && false) via = 'aio';
      const what = `${op.kind} via ${via} slot ${slot} pos ${pos} len ${len} view ${viewKind}`;
      log(`op ${what}`);
      const key = `${index}:${what}`;
      settleCounts.set(key, 0);
      let p;
      let snapshot;
      try {
        if (via === 'batch') {
          const tag = nextTag++;
          const m = { read: 'prepRead', write: 'prepWrite', readv: 'prepReadv', writev: 'prepWritev' }[op.kind];
          const ok = op.kind === 'fsync' ? ctx.ring.prepFsync(modelFd, tag) : ctx.ring[m](modelFd, parts.length ? parts : view, pos, tag);
          if (!ok) p = Promise.resolve(null);
          else p = new Promise((resolve) => tagsOut.set(tag, { resolve, snap: () => { snapshot = Buffer.from(bytes); } })).then((res) => (res < 0 ? Promise.reject(Object.assign(new Error(`batch res ${res}`), { code: `ERRNO${res}` })) : res));
        } else if (via === 'fh') {
          if (op.kind === 'fsync') p = fh.sync();
          else if (op.kind === 'read') p = fh.read(view, 0, len, pos).then((r) => r.bytesRead);
          else if (op.kind === 'write') p = fh.write(view, 0, len, pos).then((r) => r.bytesWritten);
          else if (op.kind === 'readv') p = fh.readv(parts, pos).then((r) => r.bytesRead);
          else p = fh.writev(parts, pos).then((r) => r.bytesWritten);
        } else {
          const c = ctx[via === 'fixed' ? 'ring' : via];
          const target = via === 'fixed' && fixed ? fixed : modelFd;
          if (op.kind === 'fsync') p = c.fsync(target);
          else if (op.kind === 'read' || op.kind === 'write') p = c[op.kind](target, view, pos);
          else p = c[op.kind](target, parts, pos);
        }
      } catch (e) {
        judgeError(e, what);
        return Promise.resolve();
      }
      if (op.closeAfter) env.reenter('close');
      const count = () => {
        const n = settleCounts.get(key) + 1;
        settleCounts.set(key, n);
        if (n !== 1) errors.push(new Finding(`${what} settled ${n} times`));
      };
      // The check is chained to the op's own promise (no extra ticks): an op
      // settles before a pool release that waited for it detaches the views.
      const checked = p.then(
        (n) => {
          count();
          if (n === null || op.kind === 'fsync') return;
          if (typeof n !== 'number' || n < 0 || n > len) throw new Finding(`${what}: resolved to ${n}`);
          if (isWrite) {
            expectedWrite.copy(model, pos, 0, n);
          } else if (bytes.byteLength === 0 && ((via !== 'ring' && via !== 'batch' && isOpen('N3')) || (via === 'fh' && isOpen('N10')))) {
            log(`  (view detached before the continuation: finding ${via === 'fh' ? 'N10' : 'N3'})`);
          } else {
            if (process.env.KAIO_FUZZ_DEBUG) log(`DEBUG ${what} n=${n} bl=${bytes.byteLength} bo=${bytes.byteOffset} abl=${bytes.buffer.byteLength} released=${pool && pool.released}`);
            const got = snapshot ? snapshot.subarray(0, n) : Buffer.from(bytes.buffer, bytes.byteOffset, n);
            const want = model.subarray(pos, pos + n);
            if (n !== len) throw new Finding(`${what}: short read ${n} of ${len} inside the file`);
            if (!got.equals(want)) {
              const i = got.findIndex((b, k) => b !== want[k]);
              throw new Finding(`${what}: read bytes differ from the model at +${i} (got ${got[i]}, model ${want[i]})`);
            }
          }
        },
        (e) => {
          if (e instanceof Finding) throw e;
          count();
          if (String(e.code).startsWith('ERRNO')) return; // batch -errno: no bytes written
          judgeError(e, what);
        },
      );
      return withTimeout(checked, WAVE_TIMEOUT_MS, what);
    };

    for (const step of plan.steps) {
      if (step.t === 'hostile') {
        await hostile(step.call);
      } else if (step.t === 'close') {
        log(`close ${step.which}`);
        if (step.which === 'pool') { if (pool) closing.push(pool.release().catch((e) => judgeError(e, 'pool.release'))); }
        else if (step.which === 'fh') closing.push(fh.close().catch((e) => judgeError(e, 'fh.close')));
        else closing.push(Promise.resolve(ctx[step.which].close()).catch((e) => judgeError(e, `${step.which}.close`)));
      } else {
        const ps = step.ops.map((op, i) => modelled(op, (i * 5 + runNo) % SLOTS, i));
        let batchUsed = step.ops.some((o) => o.via === 'batch');
        const hs = step.hostile.map((h) => hostile(h));
        if (batchUsed) { try { ctx.ring.submit(); } catch (e) { judgeError(e, 'submit'); } }
        const settled = await Promise.allSettled([...ps, ...hs]);
        for (const s of settled) if (s.status === 'rejected') throw s.reason;
      }
      if (errors.length) throw errors[0];
    }
  } finally {
    // Close everything, wait for every op, then compare the file with the model.
    const closes = [];
    for (const k of ['ring', 'aio', 'tp', 'auto'])
      if (ctx[k] && ctx[k] !== sharedAio) closes.push(Promise.resolve(ctx[k].close()).catch((e) => judgeError(e, `final ${k}.close`)));
    if (fh) closes.push(fh.close().catch((e) => judgeError(e, 'final fh.close')));
    if (scratchFh) closes.push(scratchFh.close().catch((e) => judgeError(e, 'final scratch close')));
    if (roFh) closes.push(roFh.close().catch((e) => judgeError(e, 'final readonly close')));
    await withTimeout(Promise.all([...closing, ...closes]), WAVE_TIMEOUT_MS, 'closing every context');
    fs.closeSync(modelFd);
    fs.closeSync(scratchFd);
    const onDisk = fs.readFileSync(modelPath);
    fs.rmSync(dir, { recursive: true, force: true });
    if (!errors.length && onDisk.length !== FILE_SIZE) errors.push(new Finding(`modelled file is ${onDisk.length} bytes, expected ${FILE_SIZE}`));
    if (!errors.length && !onDisk.equals(model)) {
      const i = onDisk.findIndex((b, k) => b !== model[k]);
      errors.push(new Finding(`file differs from the byte model at ${i} (disk ${onDisk[i]}, model ${model[i]})`));
    }
    for (const [tag] of tagsOut) errors.push(new Finding(`batch op tag ${tag} never completed`));
    runNo++;
  }
  if (errors.length) throw errors[0];
}

/** Runs the property; resolves to fast-check's run details. */
async function fuzz({ seed, numRuns, onRun }) {
  const logLines = [];
  const log = (line) => { logLines.push(line); if (onRun) onRun(line); };
  const prop = fc.asyncProperty(arbitraries(), async (plan) => {
    logLines.length = 0;
    if (onRun) onRun(`--- run ${runNo}: ${JSON.stringify({ ringEntries: plan.ringEntries, withPool: plan.withPool, handlerReentry: plan.handlerReentry })}`);
    await oneRun(plan, log);
  });
  const replay = process.env.KAIO_FUZZ_PATH ? { path: process.env.KAIO_FUZZ_PATH } : {};
  const done = () => (sharedAio && !sharedAio.closed ? sharedAio.close() : undefined);
  const details = await fc.check(prop, { seed, numRuns, endOnFailure: true, ...replay, interruptAfterTimeLimit: Number(process.env.KAIO_FUZZ_TIME_LIMIT_MS || 0) || undefined });
  await done();
  return details;
}

module.exports = { fuzz, knownCombo, judgeError, HOSTILE, HOSTILE_FINDING, hostileNames, make, Finding, HostileError };
