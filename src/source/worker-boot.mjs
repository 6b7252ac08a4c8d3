// Worker-thread entry. In dist/ (compiled by bin/build.mjs) the worker is plain JavaScript next to
// this file; in src/ it is TypeScript, so tsx's loader is registered first (workers do not inherit
// the main thread's hooks).
import { existsSync } from 'node:fs';

if (existsSync(new URL('./worker.js', import.meta.url))) {
  await import('./worker.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
