// `ktriage serve --demo`: on an empty database, ingest the example logs in examples/ once per
// occurrence listed in examples/manifest.json (host, kernel, time), so that a newcomer sees a real
// dashboard at once. A database that already holds logs is left alone.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IngestInput, Store } from '../../store/types.ts';

export const EXAMPLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples');

interface Occurrence {
  host: string;
  kernel: string | null;
  occurredAt: string;
}

interface Manifest {
  files: Record<string, { kind: string; origin: string; licence: string; occurrences: Occurrence[] }>;
}

export interface DemoResult {
  /** false when the database already held logs and nothing was done. */
  loaded: boolean;
  logs: number;
  crashes: number;
  buckets: number;
}

/** Reads examples/manifest.json and checks its shape; errors name the file and the entry. */
export function readManifest(dir = EXAMPLES_DIR): Manifest {
  const path = join(dir, 'manifest.json');
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (err) {
    throw new Error(`${path}: cannot read the demo manifest: ${(err as Error).message}`);
  }
  if (!m || typeof m.files !== 'object') throw new Error(`${path}: no "files" object`);
  for (const [file, entry] of Object.entries(m.files)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(file))
      throw new Error(`${path}: bad file name ${JSON.stringify(file)}`);
    if (!Array.isArray(entry.occurrences) || entry.occurrences.length === 0)
      throw new Error(`${path}: ${file} has no occurrences`);
    for (const o of entry.occurrences)
      if (typeof o.host !== 'string' || Number.isNaN(Date.parse(o.occurredAt)))
        throw new Error(`${path}: ${file}: an occurrence needs a host and an ISO occurredAt`);
  }
  return m;
}

/**
 * The ingest inputs of the demo, in a stable order (manifest order, then occurrence order). Times
 * are moved forward as a block so that the newest occurrence is an hour before `now`: the demo looks
 * current (sparklines, "last 7 days") whenever it is loaded; the spacing between crashes is kept.
 */
export function demoInputs(dir = EXAMPLES_DIR, now = Date.now()): IngestInput[] {
  const m = readManifest(dir);
  const times = Object.values(m.files).flatMap((e) => e.occurrences.map((o) => Date.parse(o.occurredAt)));
  const shift = Math.max(0, now - 3_600_000 - Math.max(...times));
  const inputs: IngestInput[] = [];
  for (const [file, entry] of Object.entries(m.files)) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const o of entry.occurrences)
      inputs.push({
        text,
        source: `examples/${file}`,
        host: o.host,
        kernel: o.kernel,
        occurredAt: new Date(Date.parse(o.occurredAt) + shift).toISOString(),
      });
  }
  return inputs;
}

/** Loads the examples into an empty store; leaves a store that already has logs untouched. */
export async function loadDemo(store: Store, dir = EXAMPLES_DIR): Promise<DemoResult> {
  const before = await store.stats();
  if (before.logs > 0 || before.crashes > 0)
    return { loaded: false, logs: before.logs, crashes: before.crashes, buckets: before.buckets };
  await store.ingestLogs(demoInputs(dir));
  const after = await store.stats();
  return { loaded: true, logs: after.logs, crashes: after.crashes, buckets: after.buckets };
}
