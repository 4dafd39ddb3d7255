/**
 * What the heap gained between two snapshots of one process: the nodes of `after` whose ids
 * `before` lacks, by kind, largest first. A closure is named by its function and source line;
 * any other node by its type and name and by what holds it (DEPTH retainers up, 1 by default:
 * each the first one found, and the edge's name). `npx tsx bench/heap-diff.ts
 * before.heapsnapshot after.heapsnapshot [per]`, where `per` divides the figures (e.g. the
 * number of sessions); TOP=n rows. Snapshots come from the memory scenario with
 * BENCH_MEMORY_SNAPSHOTS=dir (best with the built gateway, whose closures have their lines).
 */
import { readFileSync } from 'node:fs';

interface Raw {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
      location_fields: string[];
    };
  };
  nodes: number[];
  edges: number[];
  locations: number[];
  strings: string[];
}

/** An element known to exist (the snapshot's arrays are read by computed offsets). */
const at = (array: ArrayLike<number>, i: number): number => array[i]!;

class Heap {
  readonly nodeCount: number;
  private readonly nf: number;
  private readonly ef: number;
  private readonly firstEdge: Uint32Array;
  private readonly retainer: Int32Array;
  private readonly retainerEdge: Int32Array;
  private readonly lines = new Map<number, number>();

  constructor(private readonly raw: Raw) {
    const meta = raw.snapshot.meta;
    this.nf = meta.node_fields.length;
    this.ef = meta.edge_fields.length;
    this.nodeCount = raw.nodes.length / this.nf;
    this.firstEdge = new Uint32Array(this.nodeCount + 1);
    const edgeCountAt = meta.node_fields.indexOf('edge_count');
    for (let n = 0, e = 0; n < this.nodeCount; n++) {
      this.firstEdge[n] = e;
      e += at(raw.nodes, n * this.nf + edgeCountAt) * this.ef;
      this.firstEdge[n + 1] = e;
    }
    this.retainer = new Int32Array(this.nodeCount).fill(-1);
    this.retainerEdge = new Int32Array(this.nodeCount).fill(-1);
    this.findRetainers();
    const lf = meta.location_fields.length;
    for (let i = 0; i < raw.locations.length; i += lf) {
      this.lines.set(at(raw.locations, i) / this.nf, at(raw.locations, i + 2) + 1);
    }
  }

  private edgesOf(n: number): number[] {
    const out: number[] = [];
    for (let e = at(this.firstEdge, n); e < at(this.firstEdge, n + 1); e += this.ef) out.push(e);
    return out;
  }

  private target(e: number): number {
    return at(this.raw.edges, e + 2) / this.nf;
  }

  private findRetainers(): void {
    const weak = this.raw.snapshot.meta.edge_types[0].indexOf('weak');
    for (let n = 0; n < this.nodeCount; n++) {
      for (const e of this.edgesOf(n)) {
        const to = this.target(e);
        if (at(this.raw.edges, e) === weak || at(this.retainer, to) !== -1) continue;
        this.retainer[to] = n;
        this.retainerEdge[to] = e;
      }
    }
  }

  private field(n: number, offset: number): number {
    return at(this.raw.nodes, n * this.nf + offset);
  }
  type(n: number): string {
    return this.raw.snapshot.meta.node_types[0][this.field(n, 0)] ?? '?';
  }
  name(n: number): string {
    return (this.raw.strings[this.field(n, 1)] ?? '').slice(-50);
  }
  id(n: number): number {
    return this.field(n, 2);
  }
  size(n: number): number {
    return this.field(n, 3);
  }

  private edgeName(e: number): string {
    const type = this.raw.snapshot.meta.edge_types[0][at(this.raw.edges, e)];
    const nameOrIndex = at(this.raw.edges, e + 1);
    return type === 'element' || type === 'hidden'
      ? `[${type}]`
      : (this.raw.strings[nameOrIndex] ?? '');
  }

  private edgeTo(n: number, name: string): number {
    const e = this.edgesOf(n).find((edge) => this.edgeName(edge) === name);
    return e === undefined ? -1 : this.target(e);
  }

  /** A closure's source file (last two path parts) and line. */
  private where(n: number): string {
    const shared = this.edgeTo(n, 'shared');
    const script = shared < 0 ? -1 : this.edgeTo(shared, 'script_or_debug_info');
    const file = script < 0 ? '?' : this.name(script).split('/').slice(-2).join('/');
    return `${file}:${this.lines.get(n) ?? '?'}`;
  }

  private short(n: number): string {
    const type = this.type(n);
    if (type === 'closure') return `closure ${this.name(n) || '(anon)'} @${this.where(n)}`;
    const name = type === 'string' || type === 'concatenated string' ? '' : this.name(n);
    return `${type} ${name}`.trim();
  }

  /** A node's kind: closures by source line, the rest by type, name and `depth` retainers. */
  key(n: number, depth: number): string {
    let key = this.short(n);
    for (let i = 0, node = n; i < depth && this.type(node) !== 'closure'; i++) {
      const r = at(this.retainer, node);
      if (r < 0) return `${key}  <- (root)`;
      key += `  <-.${this.edgeName(at(this.retainerEdge, node))}- ${this.short(r)}`;
      node = r;
    }
    return key;
  }
}

const load = (path: string) => new Heap(JSON.parse(readFileSync(path, 'utf8')) as Raw);

function main(): void {
  const [beforePath, afterPath, perArg] = process.argv.slice(2);
  if (!beforePath || !afterPath) throw new Error('usage: heap-diff before after [per]');
  const per = Number(perArg ?? 1);
  const depth = Number(process.env.DEPTH ?? 1);
  const before = load(beforePath);
  const old = new Set<number>();
  for (let n = 0; n < before.nodeCount; n++) old.add(before.id(n));
  const after = load(afterPath);
  const rows = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let n = 0; n < after.nodeCount; n++) {
    if (old.has(after.id(n))) continue;
    const key = after.key(n, depth);
    const row = rows.get(key) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += after.size(n);
    total += after.size(n);
    rows.set(key, row);
  }
  const sorted = [...rows].sort((a, b) => b[1].bytes - a[1].bytes);
  console.log(`new nodes' self size: ${(total / per / 1024).toFixed(2)} KiB per ${per}`);
  for (const [key, r] of sorted.slice(0, Number(process.env.TOP ?? 80))) {
    const bytes = (r.bytes / per).toFixed(0).padStart(6);
    const count = (r.count / per).toFixed(2).padStart(6);
    console.log(`${bytes} B ${count}  ${key}`);
  }
}

main();
