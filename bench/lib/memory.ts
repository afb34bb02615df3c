// Where a process's resident memory is (Linux /proc), for bench/cli-startup.ts --footprint.
import { readdirSync, readFileSync } from 'node:fs';

const MB = 1024 * 1024;

/** Resident MB of a process and all its descendants. */
export function treeRssMb(pid: number): number {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // process gone
    }
  }
  let kb = 0;
  const walk = (p: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
    for (const c of kids.get(p) ?? []) walk(c);
  };
  walk(pid);
  return Math.round(kb / 1024);
}

export interface RssBreakdown {
  rssMb: number;
  /** Peak RSS of the process so far (VmHWM): PGlite's first start (initdb) peaks here. */
  peakMb: number;
  /** Mapped files: the node/executable binary, shared libraries. */
  filesMb: number;
  /** WebAssembly linear memory (PGlite's postgres): a read-write mapping at the start of a multi-GB reservation. */
  wasmMemoryMb: number;
  /** The C heap (brk `[heap]`): Node's and V8's native allocations, OpenSSL, zlib. */
  nativeHeapMb: number;
  /** V8's JavaScript heap (process.memoryUsage().heapTotal, from the process's /metrics), or null without it. */
  v8HeapMb: number | null;
  /** Every other anonymous mapping: V8's code space and off-heap buffers, malloc arenas, thread stacks. */
  otherAnonMb: number;
}

interface Mapping {
  perm: string;
  name: string;
  bytes: number;
  rssKb: number;
}

function mappings(pid: number): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { perm: head[3]!, name: head[4]!.trim(), bytes: parseInt(head[2]!, 16) - parseInt(head[1]!, 16), rssKb: 0 };
      out.push(cur);
    } else if (cur && line.startsWith('Rss:')) cur.rssKb = Number(line.split(/\s+/)[1]);
  }
  return out;
}

/**
 * Splits a process's RSS by kind. A wasm memory is recognised by its layout (V8 reserves up to
 * 10 GB of address space per memory and makes the used part read-write): a read-write anonymous
 * mapping followed by an inaccessible one of at least 4 GB.
 */
export function rssBreakdown(pid: number, v8HeapBytes?: number): RssBreakdown {
  const maps = mappings(pid);
  let files = 0;
  let wasm = 0;
  let heap = 0;
  let anon = 0;
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    if (m.name.startsWith('/')) files += m.rssKb;
    else if (m.name === '[heap]') heap += m.rssKb;
    else if (!m.name && m.perm.startsWith('rw') && next && !next.name && next.perm.startsWith('---') && next.bytes >= 4 * 1024 * MB) wasm += m.rssKb;
    else anon += m.rssKb;
  });
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const v8 = v8HeapBytes === undefined ? null : Math.round(v8HeapBytes / MB);
  return {
    rssMb: Math.round(kb('VmRSS') / 1024),
    peakMb: Math.round(kb('VmHWM') / 1024),
    filesMb: Math.round(files / 1024),
    wasmMemoryMb: Math.round(wasm / 1024),
    nativeHeapMb: Math.round(heap / 1024),
    v8HeapMb: v8,
    // V8's heap lives in anonymous mappings too; what is left of them is the rest.
    otherAnonMb: Math.max(0, Math.round(anon / 1024) - (v8 ?? 0)),
  };
}

/** The largest part of a breakdown, by name. */
export function dominant(b: RssBreakdown): string {
  const parts: [string, number][] = [
    ['files', b.filesMb],
    ['wasmMemory', b.wasmMemoryMb],
    ['nativeHeap', b.nativeHeapMb],
    ['v8Heap', b.v8HeapMb ?? 0],
    ['otherAnon', b.otherAnonMb],
  ];
  return parts.sort((a, c) => c[1] - a[1])[0]![0];
}
