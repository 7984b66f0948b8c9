// The framers: the split-read matrix (a stream of every message kind cut at every byte boundary, and byte by
// byte), zero-copy views, size limits and malformed lengths.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from './errors.ts';
import { BackendReader, FrontendReader, NO_MESSAGE, UNTYPED } from './frames.ts';
import type { MessageReader } from './frames.ts';
import { backendSamples, frontendSamples, startupSamples } from './test-messages.ts';

interface Framed { readonly type: number; readonly frame: Buffer }

// The frontend stream: negotiation requests, a CancelRequest-free startup, then every typed message.
const startupStream = [
  ...startupSamples.filter((s) => s.expected.kind !== 'Startup' && s.expected.kind !== 'CancelRequest'),
  startupSamples[0] as (typeof startupSamples)[number],
].map((s) => s.frame);
const frontendStream = Buffer.concat([...startupStream, ...frontendSamples.map((s) => s.frame)]);
const frontendExpected: Framed[] = [
  ...startupStream.map((frame) => ({ type: UNTYPED, frame })),
  ...frontendSamples.map((s) => ({ type: s.frame[0] as number, frame: s.frame })),
];
// The backend stream: the one-byte answer to SSLRequest, then every backend message.
const backendStream = Buffer.concat([Buffer.from('S'), ...backendSamples.map((s) => s.frame)]);
const backendExpected: Framed[] = backendSamples.map((s) => ({ type: s.frame[0] as number, frame: s.frame }));

/** Byte offset at which each expected message is complete. */
function ends(expected: readonly Framed[], start: number): number[] {
  let at = start;
  return expected.map((m) => (at += m.frame.length));
}

/**
 * Feeds `chunks` one at a time, draining after each, and checks that a message comes out exactly when its last
 * byte has been pushed — never from a fragment, never late.
 */
function feed(reader: MessageReader, chunks: readonly Buffer[], expected: readonly Framed[], rawByte: number | undefined): Framed[] {
  const done = ends(expected, rawByte === undefined ? 0 : 1);
  const out: Framed[] = [];
  let pushed = 0;
  let rawRead = rawByte === undefined;
  for (const chunk of chunks) {
    reader.push(chunk);
    pushed += chunk.length;
    if (!rawRead) {
      const b = reader.readRawByte();
      if (b !== -1) {
        assert.equal(b, rawByte);
        rawRead = true;
      }
    }
    if (rawRead) {
      for (let t = reader.next(); t !== NO_MESSAGE; t = reader.next()) out.push({ type: t, frame: Buffer.from(reader.frame) });
    }
    assert.equal(out.length, done.filter((e) => e <= pushed).length, `messages out after ${pushed} bytes`);
  }
  assert.equal(reader.buffered, 0);
  return out;
}

function cutAt(stream: Buffer, at: number): Buffer[] {
  // Copies, so that no test relies on two chunks sharing memory.
  return [Buffer.from(stream.subarray(0, at)), Buffer.from(stream.subarray(at))];
}

function byteByByte(stream: Buffer): Buffer[] {
  return Array.from(stream, (b) => Buffer.from([b]));
}

describe('split-read matrix', () => {
  it('frontend stream in two chunks at every byte boundary', () => {
    for (let at = 0; at <= frontendStream.length; at++) {
      const got = feed(new FrontendReader(), cutAt(frontendStream, at), frontendExpected, undefined);
      assert.deepEqual(got, frontendExpected, `cut at ${at}`);
    }
  });

  it('frontend stream byte by byte', () => {
    assert.deepEqual(feed(new FrontendReader(), byteByByte(frontendStream), frontendExpected, undefined), frontendExpected);
  });

  it('backend stream (after the SSL answer byte) in two chunks at every byte boundary', () => {
    for (let at = 0; at <= backendStream.length; at++) {
      const got = feed(new BackendReader(), cutAt(backendStream, at), backendExpected, 0x53);
      assert.deepEqual(got, backendExpected, `cut at ${at}`);
    }
  });

  it('backend stream byte by byte', () => {
    assert.deepEqual(feed(new BackendReader(), byteByByte(backendStream), backendExpected, 0x53), backendExpected);
  });

  it('several chunks pushed before draining', () => {
    const r = new BackendReader();
    const body = backendStream.subarray(1);
    for (let at = 0; at < body.length; at += 7) r.push(Buffer.from(body.subarray(at, at + 7)));
    const got: Framed[] = [];
    for (let t = r.next(); t !== NO_MESSAGE; t = r.next()) got.push({ type: t, frame: Buffer.from(r.frame) });
    assert.deepEqual(got, backendExpected);
  });
});

describe('zero copy', () => {
  it('messages inside one chunk are views of it; a spanning message is copied once, exactly sized', () => {
    const rows = backendSamples.filter((s) => s.expected.kind === 'DataRow').map((s) => s.frame);
    const stream = Buffer.concat([...rows, ...rows]);
    const cut = (rows[0] as Buffer).length + 3; // inside the second message
    const [a, c] = cutAt(stream, cut) as [Buffer, Buffer];
    const r = new BackendReader();
    r.push(a);
    assert.equal(r.next(), 0x44);
    assert.equal(r.buffer, a);
    assert.equal(r.frameStart, 0);
    assert.equal(r.body.buffer, a.buffer, 'body is a view of the chunk');
    assert.equal(r.next(), NO_MESSAGE);
    r.push(c);
    assert.equal(r.next(), 0x44);
    assert.notEqual(r.buffer, c);
    assert.equal(r.buffer.length, (rows[1] as Buffer).length);
    assert.equal(r.next(), 0x44);
    assert.equal(r.buffer, c);
    assert.equal(r.bodyLength, (rows[0] as Buffer).length - 5);
  });
});

function header(type: string, length: number): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeInt32BE(length | 0, 1);
  return h;
}

function untyped(length: number, code: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeInt32BE(length, 0);
  h.writeInt32BE(code, 4);
  return h;
}

describe('limits and malformed lengths', () => {
  const cases: { name: string; reader: () => MessageReader; input: Buffer; error: RegExp }[] = [
    { name: 'backend length below 4', reader: () => new BackendReader(), input: header('D', 3), error: /invalid length 3/ },
    { name: 'backend negative length', reader: () => new BackendReader(), input: header('D', 0xffffffff), error: /invalid length -1/ },
    {
      name: 'backend message over the configured limit, rejected from its header alone',
      reader: () => new BackendReader({ maxMessageSize: 100 }), input: header('D', 101), error: /exceeds the limit of 100/,
    },
    {
      name: 'backend 1 GiB default limit', reader: () => new BackendReader(),
      input: header('D', 1024 * 1024 * 1024 + 1), error: /exceeds the limit/,
    },
    {
      name: 'frontend default 64 MiB limit', reader: () => new FrontendReader({ startup: false }),
      input: header('Q', 64 * 1024 * 1024 + 1), error: /exceeds the limit of 67108864/,
    },
    {
      name: 'frontend Sync with a large length', reader: () => new FrontendReader({ startup: false }),
      input: header('S', 10_001), error: /exceeds the limit of 10000/,
    },
    {
      name: 'frontend password message over 64 KiB', reader: () => new FrontendReader({ startup: false }),
      input: header('p', 65_536), error: /exceeds the limit of 65535/,
    },
    {
      name: 'frontend type the protocol does not have', reader: () => new FrontendReader({ startup: false }),
      input: header('Z', 4), error: /unexpected message type "Z"/,
    },
    { name: 'backend type the protocol does not have', reader: () => new BackendReader(), input: header('Q', 4), error: /unexpected message type "Q"/ },
    {
      name: 'startup packet over 10000 bytes', reader: () => new FrontendReader(),
      input: untyped(10_001, 196608), error: /exceeds the limit of 10000/,
    },
    { name: 'startup packet shorter than a code', reader: () => new FrontendReader(), input: untyped(7, 0), error: /invalid startup packet length 7/ },
    { name: 'startup packet with a negative length', reader: () => new FrontendReader(), input: untyped(-8, 0), error: /invalid startup packet length/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = c.reader();
      r.push(c.input);
      assert.throws(() => r.next(), (e: unknown) => e instanceof ProtocolError && c.error.test(e.message));
      // A failed reader stays failed: the connection must be closed, not resynchronised.
      r.push(Buffer.from(backendSamples[0]?.frame ?? []));
      assert.throws(() => r.next(), ProtocolError);
    });
  }

  it('a configured frontend limit also caps the small types', () => {
    const r = new FrontendReader({ startup: false, maxMessageSize: 50 });
    r.push(header('Q', 51));
    assert.throws(() => r.next(), /exceeds the limit of 50/);
  });

  it('refuses nonsensical limit options', () => {
    assert.throws(() => new BackendReader({ maxMessageSize: 3 }), RangeError);
    assert.throws(() => new FrontendReader({ maxStartupMessageSize: 1.5 }), RangeError);
  });
});

describe('startup-phase helpers', () => {
  it('bytes sent after an SSLRequest stay buffered for the caller to refuse', () => {
    const startup = startupSamples[0]?.frame as Buffer;
    const ssl = startupSamples.find((s) => s.expected.kind === 'SSLRequest')?.frame as Buffer;
    const r = new FrontendReader();
    r.push(Buffer.concat([ssl, startup]));
    assert.equal(r.next(), UNTYPED);
    assert.equal(r.inStartupPhase, true);
    assert.equal(r.buffered, startup.length);
    assert.deepEqual(r.takeBuffered(), startup);
    assert.equal(r.buffered, 0);
    assert.equal(r.next(), NO_MESSAGE);
  });

  it('readRawByte returns -1 when nothing is buffered and then single bytes', () => {
    const r = new BackendReader();
    assert.equal(r.readRawByte(), -1);
    r.push(Buffer.from('NS'));
    assert.equal(r.readRawByte(), 0x4e);
    assert.equal(r.readRawByte(), 0x53);
    assert.equal(r.readRawByte(), -1);
  });

  it('takeBuffered joins bytes across chunks and partial messages', () => {
    const r = new BackendReader();
    const frame = backendSamples[0]?.frame as Buffer;
    r.push(frame.subarray(0, 2));
    r.push(frame.subarray(2));
    r.push(Buffer.from([1, 2]));
    assert.equal(r.next(), frame[0]);
    assert.deepEqual(r.takeBuffered(), Buffer.from([1, 2]));
  });
});

describe('memory', () => {
  it('keeps no consumed chunks while a partial message is always pending', () => {
    const row = backendSamples.find((s) => s.expected.kind === 'DataRow')?.frame as Buffer;
    const stream = Buffer.concat(Array.from({ length: 1000 }, () => row));
    const r = new BackendReader();
    const queue = (r as unknown as { chunks: Buffer[] }).chunks;
    let seen = 0;
    let maxQueued = 0;
    for (let at = 0; at < stream.length; at += 37) {
      r.push(stream.subarray(at, at + 37));
      maxQueued = Math.max(maxQueued, queue.filter((c) => c.length > 0).length);
      while (r.next() !== NO_MESSAGE) seen++;
    }
    assert.equal(seen, 1000);
    // A row is longer than a chunk, so at most the chunks of one row plus the new one are held.
    assert.ok(maxQueued <= Math.ceil(row.length / 37) + 1, `${maxQueued} chunks held`);
    assert.ok(queue.length <= Math.ceil(row.length / 37) + 1, `queue of ${queue.length}`);
  });
});
