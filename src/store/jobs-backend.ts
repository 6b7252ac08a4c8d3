// How the store hands jobs to whatever runs them: the in-process runner on SQLite, pg-boss on
// PostgreSQL (src/jobs/). Declared here so the store does not depend on a queue implementation.
import type { JobInput } from './types.ts';

export interface JobBackend {
  /** Records the job (state `queued`) and hands it to the queue; returns the job id. */
  enqueue(job: JobInput): Promise<number>;
  /** Tells the queue a cancelled job needs no (further) run; bossId: its pg-boss id, if any. */
  cancel(bossId: string | null): Promise<void>;
  close(): Promise<void>;
}
