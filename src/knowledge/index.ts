// The knowledge pack: per-subsystem facts, looked up by type, field, function and kernel version.
import { INODE_INVARIANTS, inodeStateFlags } from './fs.ts';
import { pageFlags } from './mm.ts';
import {
  type Invariant,
  type KnownLayout,
  NFS_PAGE_INVARIANTS,
  NFS_PAGE_LAYOUTS,
  NFS_PROTOTYPES,
  nfsOpenContextFlags,
  nfsPageFlags,
  type Prototype,
} from './nfs.ts';
import { TASK_INVARIANTS, taskStateField, taskStateFlags } from './sched.ts';
import { type FlagLayout, inRange, type KernelVersion } from './version.ts';

export * from './fs.ts';
export * from './mm.ts';
export * from './nfs.ts';
export * from './sched.ts';
export * from './slab.ts';
export * from './version.ts';

/** The flag layout the knowledge pack has for `type.field` at a version (`nfs_page`, `wb_flags`). */
export function flagLayoutFor(type: string, field: string, v: KernelVersion | null): FlagLayout | null {
  const t = type.replace(/^(struct|union)\s+/, '');
  if (t === 'nfs_page' && field === 'wb_flags') return nfsPageFlags(v);
  if (t === 'nfs_open_context' && field === 'flags') return nfsOpenContextFlags(v);
  if (t === 'page' && field === 'flags') return pageFlags(v);
  if (t === 'inode' && field === 'i_state') return inodeStateFlags(v);
  if (t === 'task_struct' && field === taskStateField(v)) return taskStateFlags(v);
  return null;
}

/** Fields whose value is a flag word, by type (so the playbook knows what to decode). */
export const FLAG_FIELDS: Record<string, string[]> = {
  nfs_page: ['wb_flags'],
  nfs_open_context: ['flags'],
  page: ['flags'],
  inode: ['i_state'],
  task_struct: ['state', '__state'],
};

/** The enum name in the dump's debuginfo that defines a flag field, for `ptype` lookups (`enum pageflags`). */
export const FLAG_ENUMS: Record<string, string> = {
  'page.flags': 'enum pageflags',
};

/** A function's prototype from the knowledge pack, if known for the version. */
export function prototypeFor(fn: string, v: KernelVersion | null): Prototype | null {
  const base = fn.replace(/\.(isra|constprop|part|cold)(\.\d+)?$/g, '');
  return NFS_PROTOTYPES.find((p) => p.name === base && (v === null || inRange(v, p.range))) ?? null;
}

/** Invariants for objects of a type at a version. */
export function invariantsFor(type: string, v: KernelVersion | null): Invariant[] {
  const t = type.replace(/^(struct|union)\s+/, '');
  return [...NFS_PAGE_INVARIANTS, ...INODE_INVARIANTS, ...TASK_INVARIANTS].filter(
    (i) => i.type === t && (v === null || inRange(v, i.range)),
  );
}

/** Whether a function on the backtrace is one of an invariant's code points (`*_evict_inode` matches by suffix). */
export function atFunction(pattern: string, func: string): boolean {
  const f = func.replace(/\.(isra|constprop|part|cold)(\.\d+)?$/g, '');
  return pattern.startsWith('*') ? f.endsWith(pattern.slice(1)) : f === pattern;
}

/** A struct's member layout from the knowledge pack for a version (used when the dump's `struct -o` is not available). */
export function knownLayout(type: string, v: KernelVersion | null): KnownLayout | null {
  const t = type.replace(/^(struct|union)\s+/, '');
  if (!v) return null;
  return NFS_PAGE_LAYOUTS.find((l) => l.type === t && inRange(v, l.range)) ?? null;
}
