// Worker-thread entry: registers tsx's loader (workers do not inherit the main thread's hooks),
// then runs the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
