// probe(): what this kernel and process allow, without changing anything.
import { readFileSync } from 'node:fs';
import { binding } from './binding';
import { bitNames, FEATURE_NAMES, OP_NAMES, SETUP_FLAG_NAMES } from './opcodes';
import { aioLimits } from './aio';
import { chooseBackend, type Backend } from './context';

export interface ProbeResult {
  /** uname -r */
  kernel: string;
  ioUring: {
    /** A ring could be set up by this process. */
    available: boolean;
    /** Why not, when it could not (e.g. code 'EPERM' from io_uring_setup). */
    error?: { code: string; errno: number; syscall: string; message: string };
    /** Opcodes the kernel supports, by IORING_OP_ name without the prefix. */
    ops: string[];
    /** IORING_FEAT_* names. */
    features: string[];
    /** IORING_SETUP_* flags a default Ring gets here. */
    setupFlags: string[];
  };
  memlock: {
    /** RLIMIT_MEMLOCK soft limit in bytes (Infinity when unlimited). */
    soft: number;
    hard: number;
    /** Bytes locked or pinned by this process now (VmLck + VmPin of /proc/self/status). */
    lockedBytes: number;
    /** Of which pinned by io_uring buffer registration (VmPin). */
    pinnedBytes: number;
    /** Of which mlock(2)ed (VmLck), e.g. BufferPools of the AIO backend. */
    mlockedBytes: number;
  };
  /** Huge pages for BufferPool's `hugePages` option (from /proc/meminfo). */
  hugePages: { pageSize: number; total: number; free: number };
  /** The process holds CAP_IPC_LOCK (pinning is then not limited by RLIMIT_MEMLOCK). */
  capIpcLock: boolean;
  /** Linux native AIO. */
  aio: {
    /** io_setup works for this process. */
    available: boolean;
    /** Why not (e.g. code 'EPERM' from io_setup under a seccomp filter). */
    error?: { code: string; errno: number; syscall: string; message: string };
    /** fs.aio-max-nr: events all AIO contexts of the system may reserve. */
    maxNr?: number;
    /** fs.aio-nr: events reserved now. */
    nr?: number;
  };
  /** The backend createContext() picks here, and why (e.g. 'io_uring_setup: EPERM'). */
  backend: { backend: Backend; reason: string };
}

export function probeAio(): ProbeResult['aio'] {
  const raw = binding.aioProbe();
  const out: ProbeResult['aio'] = { available: raw === 0, ...aioLimits() };
  if (raw !== 0) {
    const { code, errno, syscall, message } = raw;
    out.error = { code, errno, syscall, message };
  }
  return out;
}

/** One Vm* field of /proc/self/status in bytes (VmPin: io_uring/RDMA pins, VmLck: mlock). */
export function vmBytes(key: 'VmPin' | 'VmLck'): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Bytes this process has locked/pinned now, from /proc/self/status. */
export function lockedBytes(): number {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    let total = 0;
    for (const key of ['VmLck', 'VmPin']) {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      if (m) total += Number(m[1]) * 1024;
    }
    return total;
  } catch {
    return 0;
  }
}

export function probeIoUring(raw = binding.probe().ioUring): ProbeResult['ioUring'] & { opcodes: Set<number> } {
  const opcodes = new Set(raw.ops ?? []);
  const result: ProbeResult['ioUring'] & { opcodes: Set<number> } = {
    available: raw.available,
    ops: [...opcodes].map((op) => OP_NAMES[op] ?? `OP_${op}`),
    features: bitNames(raw.features ?? 0, FEATURE_NAMES),
    setupFlags: bitNames(raw.setupFlags ?? 0, SETUP_FLAG_NAMES),
    opcodes,
  };
  if (raw.error) {
    const { code, errno, syscall, message } = raw.error;
    result.error = { code, errno, syscall, message };
  }
  return result;
}

export function probe(): ProbeResult {
  const raw = binding.probe();
  const { opcodes: _opcodes, ...ioUring } = probeIoUring(raw.ioUring);
  return {
    kernel: raw.kernel ?? 'unknown',
    ioUring,
    memlock: {
      soft: raw.memlock.soft ?? Infinity,
      hard: raw.memlock.hard ?? Infinity,
      lockedBytes: lockedBytes(),
      pinnedBytes: vmBytes('VmPin'),
      mlockedBytes: vmBytes('VmLck'),
    },
    hugePages: hugePageInfo(),
    capIpcLock: raw.capIpcLock,
    aio: probeAio(),
    backend: chooseBackend(ioUring),
  };
}

function hugePageInfo(): ProbeResult['hugePages'] {
  const out = { pageSize: 0, total: 0, free: 0 };
  try {
    const info = readFileSync('/proc/meminfo', 'latin1');
    const num = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    out.pageSize = num('Hugepagesize') * 1024;
    out.total = num('HugePages_Total');
    out.free = num('HugePages_Free');
  } catch {
    // no /proc: nothing to report
  }
  return out;
}
