// Typed parsers of crash 8.0.2 command output. Pure functions: text in, data out.
export * from './bt.ts';
export * from './common.ts';
export * from './dis.ts';
export * from './kmem.ts';
export * from './memory.ts';
export * from './misc.ts';
export * from './mod.ts';
export * from './struct.ts';
export * from './transcript.ts';
export * from './types.ts';
