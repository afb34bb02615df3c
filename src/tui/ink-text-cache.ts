import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The part of an Ink DOM node this file touches (ink/build/dom.js). */
interface InkNode {
  nodeName: string;
  nodeValue?: string;
  childNodes?: InkNode[];
  style?: { textWrap?: string };
  yogaNode?: { setMeasureFunc(fn: (width: number) => { width: number; height: number }): void };
}

interface InkInstance {
  rootNode?: InkNode & { onComputeLayout?: () => void };
}

interface Measurers {
  squash(node: InkNode): string;
  widestLine(text: string): number;
  wrap(text: string, width: number, opts: { trim: boolean; hard: boolean }): string;
  truncate(text: string, width: number, opts: { position: 'start' | 'middle' | 'end' }): string;
}

type Dimensions = { width: number; height: number };

/** A map that forgets everything once it holds `max` entries: bounded, and cheap on a hit. */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get size(): number {
    return this.map.size;
  }
  getOr(key: string, make: () => V): V {
    let v = this.map.get(key);
    if (v === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      v = make();
      this.map.set(key, v);
    }
    return v;
  }
}

/**
 * Ink (6.8) measures every text node through module-level caches keyed by the text
 * (ink/build/measure-text.js, ink/build/wrap-text.js) that are never emptied: a console whose
 * numbers, clock and feed change every frame adds every string it ever drew, so memory grows for
 * as long as it runs and garbage collection gets slower with it. This gives each text node the
 * same measurement (Ink's own squashing, widest-line, wrap-ansi and cli-truncate, resolved from
 * Ink's folder) through bounded caches, installed before each layout. Where Ink's files cannot be
 * reached (a bundle), it does nothing.
 */
export async function bindTextMeasureCache(stdout: NodeJS.WriteStream, maxEntries = 1_000): Promise<{ installed: boolean; cacheSize: () => number }> {
  const loaded = await loadInk(stdout).catch(() => undefined);
  const root = loaded?.instance.rootNode;
  if (!loaded || !root || typeof root.onComputeLayout !== 'function') return { installed: false, cacheSize: () => 0 };
  const sizes = new BoundedCache<Dimensions>(maxEntries);
  const wrapped = new BoundedCache<string>(maxEntries);
  const measureNode = textMeasurer(loaded.measurers, sizes, wrapped);
  const patched = new WeakSet<object>();
  const install = (node: InkNode) => {
    if (node.nodeName === 'ink-text' && node.yogaNode && !patched.has(node.yogaNode)) {
      patched.add(node.yogaNode);
      node.yogaNode.setMeasureFunc((width) => measureNode(node, width));
    }
    for (const child of node.childNodes ?? []) install(child);
  };
  const layout = root.onComputeLayout.bind(root);
  root.onComputeLayout = () => {
    install(root);
    layout();
  };
  install(root);
  return { installed: true, cacheSize: () => sizes.size + wrapped.size };
}

/** Ink's measureTextNode (ink/build/dom.js), with bounded caches. */
export function textMeasurer(m: Measurers, sizes: BoundedCache<Dimensions>, wrapped: BoundedCache<string>) {
  const measure = (text: string): Dimensions => (text.length === 0 ? { width: 0, height: 0 } : sizes.getOr(text, () => ({ width: m.widestLine(text), height: text.split('\n').length })));
  return (node: InkNode, width: number): Dimensions => {
    const text = node.nodeName === '#text' ? (node.nodeValue ?? '') : m.squash(node);
    const dims = measure(text);
    if (dims.width <= width) return dims;
    if (dims.width >= 1 && width > 0 && width < 1) return dims;
    const wrapType = node.style?.textWrap ?? 'wrap';
    const key = `${width}\u0000${wrapType}\u0000${text}`;
    const out = wrapped.getOr(key, () => {
      if (wrapType === 'wrap') return m.wrap(text, width, { trim: false, hard: true });
      if (wrapType.startsWith('truncate')) return m.truncate(text, width, { position: wrapType === 'truncate-middle' ? 'middle' : wrapType === 'truncate-start' ? 'start' : 'end' });
      return text;
    });
    return measure(out);
  };
}

async function loadInk(stdout: NodeJS.WriteStream): Promise<{ instance: InkInstance; measurers: Measurers }> {
  const inkEntry = createRequire(import.meta.url).resolve('ink');
  const fromInk = createRequire(inkEntry);
  const file = (path: string) => pathToFileURL(path).href;
  const [registry, squash, widest, wrap, truncate] = await Promise.all([
    import(file(join(dirname(inkEntry), 'instances.js'))) as Promise<{ default: WeakMap<object, InkInstance> }>,
    import(file(join(dirname(inkEntry), 'squash-text-nodes.js'))) as Promise<{ default: Measurers['squash'] }>,
    import(file(fromInk.resolve('widest-line'))) as Promise<{ default: Measurers['widestLine'] }>,
    import(file(fromInk.resolve('wrap-ansi'))) as Promise<{ default: Measurers['wrap'] }>,
    import(file(fromInk.resolve('cli-truncate'))) as Promise<{ default: Measurers['truncate'] }>,
  ]);
  const instance = registry.default.get(stdout);
  if (!instance) throw new Error('no Ink instance on this stream');
  return { instance, measurers: { squash: squash.default, widestLine: widest.default, wrap: wrap.default, truncate: truncate.default } };
}
