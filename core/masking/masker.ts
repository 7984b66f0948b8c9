// The detector backstop of a resource's classifications, compiled once per policy bundle and run on every text cell
// of every result row. A cell that cannot hold a match is rejected by length, then by one pass over its bytes;
// only a cell a pre-filter lets through is decoded and scanned. Nothing is allocated for a cell without a match.

import type { Detector } from './detector.ts';
import { DETECTORS, DETECTOR_NAMES } from './detectors.ts';
import { bufferFeatures, featureDigits, featureFlags, textFeatures } from './features.ts';
import {
  checkHashKey,
  isMaskingStrategy,
  maskFragment,
  MASKING_STRATEGIES,
  type MaskingStrategy,
  stricterStrategy,
} from './strategies.ts';

/** One classification's detectors and the strategy its masking uses (the shape of a ProtectedResource's entry). */
export interface MaskingClass {
  readonly name: string;
  readonly detectors: readonly string[];
  readonly strategy: MaskingStrategy;
}

export interface ScanResult {
  /** The text with every detector hit masked. */
  readonly text: string;
  /** How many values were masked (overlapping hits count once). */
  readonly count: number;
}

export interface ScanBufferResult {
  /** The masked cell as UTF-8. */
  readonly bytes: Buffer;
  readonly count: number;
}

export interface Masker {
  /** The detectors this masker runs, in order; empty when no classification names one. */
  readonly detectors: readonly string[];
  /** undefined: nothing found, keep the original. */
  scan(text: string): ScanResult | undefined;
  /**
   * The per-cell hot path: the UTF-8 bytes [start, end) of `buf` (default: all of it), so a cell can be checked
   * where it lies in a protocol message without slicing. undefined: nothing found, keep the original bytes.
   */
  scanBuffer(buf: Uint8Array, start?: number, end?: number): ScanBufferResult | undefined;
}

interface Hit {
  readonly start: number;
  readonly end: number;
  readonly strategy: MaskingStrategy;
}

function byStartThenLongest(a: Hit, b: Hit): number {
  return a.start - b.start || b.end - a.end;
}

/** The hits merged where they overlap (the stricter strategy wins) and masked. */
function applyHits(text: string, hits: Hit[], sorted: boolean, hashKey: Buffer): ScanResult {
  if (!sorted) hits.sort(byStartThenLongest);
  let out = '';
  let pos = 0;
  let count = 0;
  let i = 0;
  while (i < hits.length) {
    const first = hits[i++]!;
    let end = first.end;
    let strategy = first.strategy;
    for (let next = hits[i]; next !== undefined && next.start < end; next = hits[++i]) {
      if (next.end > end) end = next.end;
      strategy = stricterStrategy(strategy, next.strategy);
    }
    out += text.slice(pos, first.start) + maskFragment(strategy, text.slice(first.start, end), hashKey);
    pos = end;
    count++;
  }
  return { text: out + text.slice(pos), count };
}

class CompiledMasker implements Masker {
  readonly detectors: readonly string[];
  private readonly scanners: readonly Detector[];
  private readonly strategies: readonly MaskingStrategy[];
  private readonly minLength: number;
  private readonly hashKey: Buffer;

  constructor(byDetector: ReadonlyMap<string, MaskingStrategy>, hashKey: Buffer) {
    // Registry order, so the result never depends on the order classifications were written in.
    const names = DETECTOR_NAMES.filter((name) => byDetector.has(name));
    this.detectors = names;
    this.scanners = names.map((name) => DETECTORS.get(name)!);
    this.strategies = names.map((name) => byDetector.get(name)!);
    this.minLength = Math.min(Infinity, ...this.scanners.map((d) => d.minLength));
    this.hashKey = hashKey;
  }

  scan(text: string): ScanResult | undefined {
    if (text.length < this.minLength) return undefined;
    const features = textFeatures(text);
    const flags = featureFlags(features);
    const digits = featureDigits(features);
    let candidates = 0;
    for (let k = 0; k < this.scanners.length; k++) {
      const d = this.scanners[k]!;
      if (text.length >= d.minLength && d.mayMatch(flags, digits)) candidates |= 1 << k;
    }
    return candidates === 0 ? undefined : this.scanCandidates(text, candidates);
  }

  scanBuffer(buf: Uint8Array, start = 0, end = buf.length): ScanBufferResult | undefined {
    const length = end - start;
    if (length < this.minLength) return undefined;
    const features = bufferFeatures(buf, start, end);
    const flags = featureFlags(features);
    const digits = featureDigits(features);
    let candidates = 0;
    for (let k = 0; k < this.scanners.length; k++) {
      const d = this.scanners[k]!;
      if (length < d.minLength || !d.mayMatch(flags, digits)) continue;
      if (d.mayMatchBytes !== undefined && !d.mayMatchBytes(buf, start, end)) continue;
      candidates |= 1 << k;
    }
    if (candidates === 0) return undefined;
    const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const text = bytes.toString('utf8', start, end);
    const result = this.scanCandidates(text, candidates);
    return result === undefined ? undefined : { bytes: Buffer.from(result.text, 'utf8'), count: result.count };
  }

  /** Runs the detectors whose bit is set in `candidates`. */
  private scanCandidates(text: string, candidates: number): ScanResult | undefined {
    let hits: Hit[] | undefined;
    let sources = 0;
    for (let k = 0; k < this.scanners.length; k++) {
      if ((candidates & (1 << k)) === 0) continue;
      const spans = this.scanners[k]!.find(text);
      if (spans.length === 0) continue;
      const strategy = this.strategies[k]!;
      hits ??= [];
      for (const span of spans) hits.push({ start: span.start, end: span.end, strategy });
      sources++;
    }
    // One detector's spans are already in order and apart; several detectors' need sorting and merging.
    return hits === undefined ? undefined : applyHits(text, hits, sources === 1, this.hashKey);
  }
}

/**
 * Compiles the detectors of a resource's classifications with the strategies their masking uses. A detector named
 * by several classifications uses the strictest of their strategies. Throws on an unknown detector or strategy, and
 * on a `hash` strategy without a usable key: a masker that cannot do what the policy says must not run.
 */
export function compileMasker(classes: readonly MaskingClass[], hashKey?: Buffer): Masker {
  const byDetector = new Map<string, MaskingStrategy>();
  for (const cls of classes) {
    if (!isMaskingStrategy(cls.strategy)) {
      throw new Error(`classification "${cls.name}": unknown masking strategy "${String(cls.strategy)}" ` +
        `(known: ${MASKING_STRATEGIES.join(', ')})`);
    }
    if (cls.strategy === 'hash') {
      if (hashKey === undefined) throw new Error(`classification "${cls.name}": strategy "hash" needs a hash key`);
      checkHashKey(hashKey);
    }
    for (const name of cls.detectors) {
      if (!DETECTORS.has(name)) {
        throw new Error(`classification "${cls.name}": unknown detector "${name}" (known: ${DETECTOR_NAMES.join(', ')})`);
      }
      const before = byDetector.get(name);
      byDetector.set(name, before === undefined ? cls.strategy : stricterStrategy(before, cls.strategy));
    }
  }
  return new CompiledMasker(byDetector, hashKey ?? Buffer.alloc(0));
}
