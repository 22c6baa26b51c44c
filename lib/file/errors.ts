// The errors a FileHandle adds to kaio's: Node's "file closed", and the
// caller's frames on a kernel error.

/** Node's error for an op on a closed FileHandle: `Error: file closed`, code EBADF, no errno. */
export function fileClosed(syscall: string): Error {
  const err = new Error('file closed') as Error & { code: string; syscall: string };
  err.code = 'EBADF';
  err.syscall = syscall;
  Error.captureStackTrace?.(err, fileClosed);
  return err;
}

/**
 * A completion's error is made where the completion is delivered, with no
 * caller on the stack. Called in the catch block of the async method that
 * awaited the op, capturing again gives `at async main (app.js:12)`: V8
 * appends the awaiting callers. Nothing is captured on the success path.
 */
export function withCallerStack(e: unknown, fn: Function = withCallerStack): unknown {
  if (e instanceof Error && !CAPTURED.has(e)) {
    CAPTURED.add(e);
    Error.captureStackTrace?.(e, fn);
  }
  return e;
}

const CAPTURED = new WeakSet<Error>();
