// Seeded fuzzing: random garbage, mutated valid streams and mutated message bodies go through the framers and
// every parser. The only acceptable failure is a ProtocolError; anything else (RangeError, TypeError, a hang)
// would crash or wedge a proxy connection on hostile input.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBackendMessage } from './backend.ts';
import { DataRowIndex, rewriteDataRow } from './datarow.ts';
import { ProtocolError } from './errors.ts';
import { BackendReader, FrontendReader, NO_MESSAGE, UNTYPED } from './frames.ts';
import type { MessageReader } from './frames.ts';
import { parseFrontendMessage, parseStartupPhase } from './frontend.ts';
import type { AuthResponseKind } from './frontend.ts';
import { backendSamples, frontendSamples, startupSamples } from './test-messages.ts';

/** mulberry32: a tiny seeded PRNG, so a failure names the seed that reproduces it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x5eed2024;
const ITERATIONS = 1000;
const AUTH_KINDS: (AuthResponseKind | undefined)[] = ['password', 'sasl-initial', 'sasl', undefined];

interface Tally { parsed: number; refused: number }

function fuzzStream(
  reader: MessageReader,
  stream: Buffer,
  rand: () => number,
  side: 'frontend' | 'backend',
  tally: Tally,
  rows: DataRowIndex,
): void {
  let at = 0;
  try {
    while (at < stream.length) {
      const n = 1 + Math.floor(rand() * 64);
      reader.push(stream.subarray(at, at + n));
      at += n;
      if (side === 'backend' && rand() < 0.05) reader.readRawByte();
      for (let t = reader.next(); t !== NO_MESSAGE; t = reader.next()) {
        try {
          if (t === UNTYPED) parseStartupPhase(reader.body);
          else if (side === 'frontend') parseFrontendMessage(t, reader.body, AUTH_KINDS[Math.floor(rand() * 4)]);
          else {
            parseBackendMessage(t, reader.body);
            if (t === 0x44) {
              const n = rows.index(reader.buffer, reader.bodyStart, reader.end);
              const replacements = Array.from({ length: n }, () => (rand() < 0.5 ? undefined : rand() < 0.5 ? null : Buffer.from('x')));
              rewriteDataRow(reader.body, replacements);
            }
          }
          tally.parsed++;
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          tally.refused++;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    tally.refused++;
  }
}

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** A valid stream of random samples with a few random bytes flipped, cut short or extended. */
function mutatedStream(rand: () => number, frames: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  const count = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < count; i++) parts.push(frames[Math.floor(rand() * frames.length)] as Buffer);
  const s = Buffer.from(Buffer.concat(parts));
  const flips = Math.floor(rand() * 4);
  for (let i = 0; i < flips && s.length > 0; i++) s[Math.floor(rand() * s.length)] = Math.floor(rand() * 256);
  if (rand() < 0.3) return s.subarray(0, Math.floor(rand() * s.length));
  return rand() < 0.3 ? Buffer.concat([s, randomBytes(rand, Math.floor(rand() * 16))]) : s;
}

describe('fuzz', () => {
  it(`${ITERATIONS} iterations of garbage and mutations raise nothing but ProtocolError (seed 0x${SEED.toString(16)})`, () => {
    const rand = prng(SEED);
    const frontend: Tally = { parsed: 0, refused: 0 };
    const backend: Tally = { parsed: 0, refused: 0 };
    const rows = new DataRowIndex();
    const startupFrames = startupSamples.map((s) => s.frame);
    const frontendFrames = [...startupFrames, ...frontendSamples.map((s) => s.frame)];
    const backendFrames = backendSamples.map((s) => s.frame);
    for (let i = 0; i < ITERATIONS; i++) {
      const garbage = randomBytes(rand, Math.floor(rand() * 300));
      const limits = rand() < 0.3 ? { maxMessageSize: 64 } : {};
      try {
        fuzzStream(new FrontendReader(limits), garbage, rand, 'frontend', frontend, rows);
        fuzzStream(new FrontendReader({ ...limits, startup: false }), garbage, rand, 'frontend', frontend, rows);
        fuzzStream(new BackendReader(limits), garbage, rand, 'backend', backend, rows);
        fuzzStream(new FrontendReader(), mutatedStream(rand, frontendFrames), rand, 'frontend', frontend, rows);
        fuzzStream(new FrontendReader({ startup: false }), mutatedStream(rand, frontendSamples.map((s) => s.frame)), rand, 'frontend', frontend, rows);
        fuzzStream(new BackendReader(), mutatedStream(rand, backendFrames), rand, 'backend', backend, rows);
      } catch (e) {
        assert.fail(`iteration ${i} (seed 0x${SEED.toString(16)}): ${String(e instanceof Error ? e.stack : e)}`);
      }
    }
    // The fuzzing must reach the parsers, both accepting and refusing, or it proves nothing.
    for (const [side, t] of [['frontend', frontend], ['backend', backend]] as const) {
      assert.ok(t.parsed > 500, `${side}: ${t.parsed} messages parsed`);
      assert.ok(t.refused > 500, `${side}: ${t.refused} refusals`);
    }
  });

  it('mutated bodies of every message kind raise nothing but ProtocolError', () => {
    const rand = prng(SEED + 1);
    let refused = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const backendSide = rand() < 0.5;
      const samples = backendSide ? backendSamples : frontendSamples;
      const frame = (samples[Math.floor(rand() * samples.length)] as (typeof samples)[number]).frame;
      const body = Buffer.from(frame.subarray(5));
      for (let f = Math.floor(rand() * 3); f >= 0 && body.length > 0; f--) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.3 ? body.subarray(0, Math.floor(rand() * (body.length + 1))) : body;
      try {
        if (backendSide) parseBackendMessage(frame[0] as number, cut);
        else parseFrontendMessage(frame[0] as number, cut, AUTH_KINDS[Math.floor(rand() * 4)]);
      } catch (e) {
        if (!(e instanceof ProtocolError)) assert.fail(`iteration ${i}: ${String(e instanceof Error ? e.stack : e)}`);
        refused++;
      }
    }
    assert.ok(refused > 100, `${refused} refusals`);
  });
});
