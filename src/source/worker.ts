// Parses files for the indexer in a worker thread: reads, hashes, skips unchanged content, extracts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { extractFile } from './extract.ts';
import type { WorkItem, WorkResult } from './indexer.ts';

export function processItem(item: WorkItem): WorkResult {
  let text: string;
  try {
    text = readFileSync(item.abs, 'utf8');
  } catch (err) {
    return {
      id: item.id,
      rel: item.rel,
      error: `cannot read: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const hash = createHash('sha1').update(text).digest('hex');
  if (item.oldHash === hash) return { id: item.id, rel: item.rel, hash, unchanged: true };
  const t0 = performance.now();
  try {
    const facts = extractFile(text);
    return { id: item.id, rel: item.rel, hash, facts, ms: performance.now() - t0 };
  } catch (err) {
    return {
      id: item.id,
      rel: item.rel,
      hash,
      error: `extraction failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (batch: WorkItem[]) => {
    // One batch per message: returning to the event loop between batches lets N-API finalizers
    // free the trees (the memory trap in source-index-facts.md 3.1).
    port.postMessage(batch.map(processItem));
  });
}
