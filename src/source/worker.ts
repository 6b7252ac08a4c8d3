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
// garbage, so GCs are rare and trees could pile up (RSS grew to GBs on the whole tree when every
// captured node was a JS object with its own finalizer). Trees die young (one per file, dropped
// when its facts are extracted), so a minor GC every few MB of source parsed frees them, then a
// yield to the loop runs the finalizers. A forced full GC cost 10-15% of the index build (it also
// slows the code that runs after it), so it is only the safety net: when the process RSS has grown
// by FULL_GC_GROWTH since this worker's last full collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
const GC_EVERY_BYTES = 4 << 20;
const FULL_GC_GROWTH = 1 << 30;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
let rssAfterFullGc = process.memoryUsage.rss();
function collect(): void {
  if (process.memoryUsage.rss() - rssAfterFullGc > FULL_GC_GROWTH) {
    gc();
    rssAfterFullGc = process.memoryUsage.rss();
  } else gc({ type: 'minor' });
}

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
          collect();
          await tick();
        }
      }
      // One JSON string: structured-cloning millions of small arrays cost the main thread more
      // than all its SQLite inserts; JSON.parse of one string is several times cheaper.
      port.postMessage(JSON.stringify(out));
    });
  });
}
