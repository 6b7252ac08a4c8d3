// Classifies `search` hits: inside a known slab object (which field), on the crashing task's
// stack (which frame), the same stack seen through the direct map, a page-cache index node, or
// elsewhere. Each classification says how sure it is and which command would confirm it.
import { type KernelVersion, pageCacheIndex, stackBase, X86_64_THREAD_SIZE } from '../knowledge/index.ts';
import type { KmemAddress } from '../vmcore/parse/index.ts';
import type { SearchHitReport } from './model.ts';

export interface KnownRegion {
  address: bigint;
  size: number;
  label: string;
  type: string;
  /** Field at an offset (from struct -o or the knowledge pack), if known. */
  fieldAt?: (offset: number) => string | null;
  /** Fields whose printed value equals a value (fallback when offsets are unknown). */
  fieldsWithValue?: (value: bigint) => string[];
}

export interface StackFrameSpan {
  /** Lowest address of the frame's own words (exclusive lower bound is the callee's return slot). */
  func: string;
  level: number | null;
  /** The slot holding the return address into this function (callers), or the exception RSP (frame 0). */
  sp: bigint;
}

export interface ClassifyInput {
  value: bigint;
  hits: bigint[];
  regions: KnownRegion[];
  /** Frames of the crashing task, innermost first. */
  frames: StackFrameSpan[];
  /** The backtrace had elided frames above the last listed one. */
  framesElided: boolean;
  stackBase: bigint | null;
  threadSize?: bigint;
  /** The value is a struct page of a page-cache page. */
  valueIsPageCachePage: boolean;
  version: KernelVersion | null;
  /** `kmem HIT` answers, when the playbook has them. */
  kmem: (addr: bigint) => KmemAddress | null;
}

const hx = (v: bigint) => v.toString(16);

/** Classifies each hit of `search VALUE`. */
export function classifyHits(inp: ClassifyInput): SearchHitReport[] {
  const ts = inp.threadSize ?? X86_64_THREAD_SIZE;
  const base = inp.stackBase ?? (inp.frames[0] ? stackBase(inp.frames[0].sp, ts) : null);
  const out: SearchHitReport[] = [];
  const stackOffsets = new Set<bigint>();
  const pending: bigint[] = [];
  const sortedFrames = [...inp.frames].sort((a, b) => (a.sp < b.sp ? -1 : a.sp > b.sp ? 1 : 0));
  for (const h of inp.hits) {
    const region = inp.regions.find((r) => h >= r.address && h < r.address + BigInt(r.size));
    if (region) {
      const off = Number(h - region.address);
      const byOff = region.fieldAt?.(off) ?? null;
      const byVal = region.fieldsWithValue?.(inp.value) ?? [];
      const field = byOff ?? (byVal.length === 1 ? byVal[0]! : null);
      const how = byOff
        ? 'by member offset'
        : byVal.length === 1
          ? 'by the printed value of the field (offsets unknown)'
          : '';
      out.push({
        address: hx(h),
        class: 'slab-object',
        detail: `inside ${region.label} (${region.type}) at offset 0x${off.toString(16)}${field ? `: ${field} (${how})` : ''}`,
        confidence: byOff ? 'certain' : field ? 'high' : 'medium',
        confirm: byOff ? [] : [`struct -o ${region.type.replace(/^struct\s+/, '')}`],
      });
      continue;
    }
    if (base !== null && h >= base && h < base + ts) {
      stackOffsets.add(h - base);
      const inner = sortedFrames[0];
      let detail: string;
      let conf: SearchHitReport['confidence'] = 'high';
      if (inner && h < inner.sp) {
        detail = `on the crashing task's stack below the exception frame's RSP (the panic path: die/crash_kexec frames), 0x${(inner.sp - h).toString(16)} below`;
      } else {
        let owner: StackFrameSpan | null = null;
        let next: StackFrameSpan | null = null;
        for (let k = 0; k < sortedFrames.length; k++) {
          if (sortedFrames[k]!.sp <= h) {
            owner = sortedFrames[k]!;
            next = sortedFrames[k + 1] ?? null;
          }
        }
        if (owner && owner.sp === h && owner.level !== null) {
          detail = `on the crashing task's stack: the return-address slot of frame #${owner.level} (${owner.func})`;
        } else if (owner && next) {
          // Words above a frame's return slot, up to the caller's return slot, are that frame's own (locals, saved registers).
          detail = `on the crashing task's stack in the frame of ${owner.func}${owner.level !== null ? ` (#${owner.level})` : ''}: between ${hx(owner.sp)} and ${hx(next.sp)} (a local or saved register of ${owner.func})`;
        } else if (owner) {
          detail = `on the crashing task's stack in the frame of ${owner.func}${owner.level !== null ? ` (#${owner.level})` : ''} or above it (the last listed frame${inp.framesElided ? '; the frames above it are elided in the transcript' : ''})`;
          conf = 'medium';
        } else {
          detail = "on the crashing task's stack";
        }
      }
      out.push({
        address: hx(h),
        class: 'task-stack',
        detail,
        confidence: conf,
        confirm: inp.framesElided ? ['bt -f'] : [],
      });
      continue;
    }
    pending.push(h);
  }
  // The same stack pages seen through the direct map: same offsets within THREAD_SIZE as stack hits.
  const groups = new Map<bigint, bigint[]>();
  for (const h of pending) {
    if (stackOffsets.has(h % ts)) {
      const b = stackBase(h, ts);
      groups.set(b, [...(groups.get(b) ?? []), h]);
    }
  }
  // The kernel image mapping (__START_KERNEL_map) covers physical memory that the direct map also
  // covers: search reports such words twice, at a constant distance. Find that distance from pairs
  // (bounded: a few hundred hits on each side are plenty).
  const KIMG_LO = 0xffffffff80000000n;
  const KIMG_HI = 0xffffffffc0000000n;
  const inImage = (a: bigint) => a >= KIMG_LO && a < KIMG_HI;
  const hitSet = new Set(inp.hits.map(hx));
  const deltas = new Map<bigint, number>();
  const others = inp.hits.filter((h) => !inImage(h)).slice(0, 400);
  for (const h of inp.hits.filter(inImage).slice(0, 400)) {
    for (const o of others) {
      const d = h - o;
      if (d % 0x200000n === 0n) deltas.set(d, (deltas.get(d) ?? 0) + 1);
    }
  }
  let delta: bigint | null = null;
  for (const [d, n] of deltas) if (n >= 2 && (delta === null || n > deltas.get(delta)!)) delta = d;
  const pci = pageCacheIndex(inp.version);
  for (const h of pending) {
    if (delta !== null && inImage(h) && hitSet.has(hx(h - delta))) {
      out.push({
        address: hx(h),
        class: 'mapping-alias',
        detail: `the same physical word as hit ${hx(h - delta)}, seen through the kernel image mapping (__START_KERNEL_map; ${hx(delta)} apart like other pairs of hits)`,
        confidence: 'medium',
        confirm: [`vtop ${hx(h)}`, `vtop ${hx(h - delta)}`],
      });
      continue;
    }
    const b = stackBase(h, ts);
    const g = groups.get(b);
    if (g && g.length >= 2 && g.includes(h)) {
      out.push({
        address: hx(h),
        class: 'stack-alias',
        detail: `same offset within THREAD_SIZE (0x${(h % ts).toString(16)}) as a hit on the crashing task's stack, like ${g.length - 1} other hit(s) in the same ${ts / 1024n} KiB block: the crashing task's stack pages seen through the kernel direct map (a vmapped stack's physical pages are also mapped there)`,
        confidence: 'medium',
        confirm: base !== null ? [`vtop ${hx(base + (h % ts))}`, `kmem ${hx(h)}`] : [`kmem ${hx(h)}`],
      });
      continue;
    }
    const k = inp.kmem(h);
    if (k?.cache) {
      const objAddr = k.object ? BigInt(`0x${k.object.address}`) : null;
      const off = objAddr !== null ? h - objAddr : null;
      const isIndex = k.cache.name === pci.cache;
      out.push({
        address: hx(h),
        class: isIndex ? 'page-cache-index' : 'slab-object',
        detail: isIndex
          ? `in a ${pci.nodeType} (cache ${k.cache.name}${off !== null ? `, object ${k.object!.address} + 0x${off.toString(16)}` : ''}): a slot of the page cache index, ${pci.structure}`
          : `inside a ${k.object?.allocated === false ? 'FREE' : 'allocated'} object of cache ${k.cache.name}${off !== null ? ` at offset 0x${off.toString(16)}` : ''}`,
        confidence: 'certain',
        confirm: [],
      });
      continue;
    }
    if (inp.valueIsPageCachePage) {
      out.push({
        address: hx(h),
        class: 'page-cache-index',
        detail: `probably a slot of the page cache index (${pci.structure}: a ${pci.nodeType} from cache ${pci.cache}) that maps the page at its index; not confirmed`,
        confidence: 'low',
        confirm: [`kmem ${hx(h)}`],
      });
      continue;
    }
    const what = k?.page
      ? `not in a slab: page ${k.page.page}${k.page.flagNames.length ? ` (${k.page.flagNames.join(',')})` : ''}`
      : k?.other[0]
        ? `not in a slab: ${k.other[0]}`
        : 'not in a known object or stack';
    out.push({
      address: hx(h),
      class: 'elsewhere',
      detail: what,
      confidence: 'low',
      confirm: k ? [] : [`kmem ${hx(h)}`],
    });
  }
  const order = new Map(inp.hits.map((h, i) => [hx(h), i]));
  return out.sort((a, b) => order.get(a.address)! - order.get(b.address)!);
}
