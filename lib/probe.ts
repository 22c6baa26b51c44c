// probe(): what this kernel and process allow, without changing anything.
// The top of the house: it reports on every layer and nothing imports it.
import { binding } from './binding';
import { bitNames, FEATURE_NAMES, OP_NAMES, SETUP_FLAG_NAMES } from './abi';
import { aioLimits, hugePageInfo, lockedBytes, vmBytes } from './procfs';
import { chooseBackend } from './context';
import type { Backend } from './types';

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

