// kaio 0.1's engine module, kept for the scripts in bench/: the job runner
// itself is job.ts (one job instance, in a worker) and run.ts (the groups).
export { BenchError, prepareFile } from './target';
export { runJobInstance } from './job';
