// Entry of a job instance's worker thread: runs the job, posts the outcome
// (or its error as one line). Every ring and context is closed before the
// thread ends, whatever happens.
import { parentPort, workerData } from 'node:worker_threads';
import { runJobInstance, type JobSetup } from './job';

const setup = workerData as JobSetup;
// Structured clone turns the Buffers into Uint8Arrays.
setup.job.verifyPattern = Buffer.from(setup.job.verifyPattern);
setup.job.bufferPattern = Buffer.from(setup.job.bufferPattern);
runJobInstance(setup).then(
  (outcome) => parentPort!.postMessage({ outcome }),
  (e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    const message = err instanceof Error ? err.message.replace(/\s*\n\s*/g, ' ') : String(e);
    parentPort!.postMessage({ error: { message, code: err?.code } });
  },
);
