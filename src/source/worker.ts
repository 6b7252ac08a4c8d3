// Parses files for the indexer in a worker thread: reads, hashes, skips unchanged content, extracts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

// tree-sitter trees live in native memory V8 does not see, and node-tree-sitter frees them only in
// N-API finalizers, which Node 20 runs from the event loop after a GC. A worker allocates little JS
// garbage, so GCs are rare and trees pile up (RSS grew to GBs on the whole tree). So: collect
// explicitly every few MB of source parsed, then yield to the loop so the finalizers run.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const GC_EVERY_BYTES = 2 << 20;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

if (parentPort) {
  const port = parentPort;
  let sinceGc = 0;
  let chain = Promise.resolve();
  port.on('message', (batch: WorkItem[]) => {
    chain = chain.then(async () => {
      const out: WorkResult[] = [];
      for (const item of batch) {
        out.push(processItem(item));
        sinceGc += item.size;
        if (sinceGc >= GC_EVERY_BYTES) {
          sinceGc = 0;
          gc();
          await tick();
        }
      }
      // One JSON string: structured-cloning millions of small arrays cost the main thread more
      // than all its SQLite inserts; JSON.parse of one string is several times cheaper.
      port.postMessage(JSON.stringify(out));
    });
  });
}
