// Malformed frontend messages: each must be a ProtocolError that says what is wrong.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from './errors.ts';
import { parseBindTarget, parseFrontendMessage, parseParse, parseStartupPhase } from './frontend.ts';
import type { AuthResponseKind } from './frontend.ts';
import { StartupCode } from './types.ts';

const z = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
const i16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

const typed: { name: string; type: string; body: Buffer; auth?: AuthResponseKind; error: RegExp }[] = [
  { name: 'Query without terminator', type: 'Q', body: Buffer.from('SELECT 1'), error: /Query: query string is not NUL-terminated/ },
  { name: 'Query with bytes after the terminator', type: 'Q', body: Buffer.from('SELECT 1\0; DROP'), error: /Query: 6 unexpected trailing bytes/ },
  { name: 'Query with invalid UTF-8', type: 'Q', body: Buffer.from([0x53, 0xc3, 0x28, 0]), error: /query string is not valid UTF-8/ },
  { name: 'Parse with a missing query', type: 'P', body: z('s1'), error: /Parse: query string is not NUL-terminated/ },
  { name: 'Parse with fewer type OIDs than counted', type: 'P', body: cat(z(''), z('SELECT $1'), i16(2), i32(23)), error: /Parse: parameter type runs past/ },
  { name: 'Bind with format code 2', type: 'B', body: cat(z(''), z(''), i16(1), i16(2), i16(0), i16(0)), error: /Bind: invalid parameter format code 2/ },
  {
    name: 'Bind with 2 formats for 3 parameters', type: 'B',
    body: cat(z(''), z(''), i16(2), i16(0), i16(0), i16(3)), error: /Bind: 2 parameter formats for 3 parameters/,
  },
  { name: 'Bind with a parameter length of -2', type: 'B', body: cat(z(''), z(''), i16(0), i16(1), i32(-2), i16(0)), error: /invalid length -2/ },
  {
    name: 'Bind with a parameter running past the end', type: 'B',
    body: cat(z(''), z(''), i16(0), i16(1), i32(100), Buffer.from('abc')), error: /Bind: parameter value runs past/,
  },
  { name: 'Bind without result formats', type: 'B', body: cat(z(''), z(''), i16(0), i16(0)), error: /Bind: result format count runs past/ },
  { name: 'Describe of an unknown target', type: 'D', body: cat(Buffer.from('X'), z('s')), error: /Describe: invalid target 0x58/ },
  { name: 'Close without a name', type: 'C', body: Buffer.from('S'), error: /Close: name is not NUL-terminated/ },
  { name: 'Execute without a row limit', type: 'E', body: z('p'), error: /Execute: row limit runs past/ },
  { name: 'Sync with a body', type: 'S', body: Buffer.from([0]), error: /Sync: 1 unexpected trailing bytes/ },
  { name: 'Terminate with a body', type: 'X', body: Buffer.from([0]), error: /Terminate: 1 unexpected trailing bytes/ },
  { name: 'CopyFail without terminator', type: 'f', body: Buffer.from('x'), error: /CopyFail: message is not NUL-terminated/ },
  {
    name: 'FunctionCall with result format 5', type: 'F', body: cat(i32(1), i16(0), i16(0), i16(5)),
    error: /FunctionCall: invalid result format code 5/,
  },
  { name: 'password message outside authentication', type: 'p', body: z('secret'), error: /outside of authentication/ },
  { name: 'password without terminator', type: 'p', auth: 'password', body: Buffer.from('secret'), error: /password is not NUL-terminated/ },
  {
    name: 'SASLInitialResponse with a short response', type: 'p', auth: 'sasl-initial', body: cat(z('SCRAM-SHA-256'), i32(10), Buffer.from('ab')),
    error: /SASLInitialResponse: initial response runs past/,
  },
  { name: 'a message type the protocol does not have', type: 'Z', body: Buffer.alloc(0), error: /unexpected frontend message type 0x5a/ },
];

describe('frontend: malformed typed messages', () => {
  for (const c of typed) {
    it(c.name, () => {
      assert.throws(() => parseFrontendMessage(c.type.charCodeAt(0), c.body, c.auth),
        (e: unknown) => e instanceof ProtocolError && e.sqlState === '08P01' && c.error.test(e.message));
    });
  }
});

describe('frontend: parseBindTarget checks a Bind exactly as parseBind does', () => {
  for (const c of typed.filter((t) => t.type === 'B')) {
    it(c.name, () => {
      assert.throws(() => parseBindTarget(c.body), (e: unknown) => e instanceof ProtocolError && c.error.test(e.message));
    });
  }
  it('returns the portal and statement names of a well-formed Bind', () => {
    const body = cat(z('p1'), z('s1'), i16(1), i16(0), i16(2), i32(3), Buffer.from('abc'), i32(-1), i16(1), i16(1));
    assert.deepEqual(parseBindTarget(body), { portal: 'p1', statement: 's1' });
    assert.deepEqual(parseBindTarget(cat(z(''), z(''), i16(0), i16(0), i16(0))), { portal: '', statement: '' });
    assert.throws(() => parseBindTarget(cat(body, Buffer.from([0]))), /1 unexpected trailing bytes/);
  });
});

describe('frontend: a repeated Parse reuses the decoded statement', () => {
  it('the same bytes give the very same string; other bytes are decoded; invalid UTF-8 is still refused', () => {
    const memo = { bytes: undefined as Buffer | undefined, text: '' };
    const parse = (q: Buffer) => parseParse(cat(z(''), q, Buffer.from([0]), i16(0)), memo);
    const a = parse(Buffer.from('SELECT $1 -- é'));
    const again = parse(Buffer.from('SELECT $1 -- é'));
    assert.equal(again.query, 'SELECT $1 -- é');
    assert.equal(again.query, a.query);
    assert.equal(parse(Buffer.from('SELECT $2 -- é')).query, 'SELECT $2 -- é');
    assert.equal(parse(Buffer.from('SELECT $1 -- é')).query, 'SELECT $1 -- é');
    assert.throws(() => parse(Buffer.from([0x53, 0xc3, 0x28])), /query string is not valid UTF-8/);
    assert.equal(parse(Buffer.from('SELECT $1 -- é')).query, 'SELECT $1 -- é');
  });
});

const startup: { name: string; body: Buffer; error: RegExp }[] = [
  { name: 'protocol 2.0', body: cat(i32(0x20000), z('user'), z('u'), Buffer.from([0])), error: /unsupported frontend protocol 2\.0/ },
  { name: 'an unknown request code', body: i32(1234), error: /unsupported frontend protocol 0\.1234/ },
  {
    name: 'a duplicate parameter', body: cat(i32(StartupCode.Protocol30), z('user'), z('a'), z('user'), z('b'), Buffer.from([0])),
    error: /parameter "user" sent twice/,
  },
  { name: 'no final terminator', body: cat(i32(StartupCode.Protocol30), z('user'), z('a')), error: /parameter name is not NUL-terminated/ },
  { name: 'a value without terminator', body: cat(i32(StartupCode.Protocol30), z('user'), Buffer.from('a')), error: /value of parameter "user" is not NUL-terminated/ },
  { name: 'bytes after the terminator', body: cat(i32(StartupCode.Protocol30), z('user'), z('a'), Buffer.from([0, 1])), error: /1 unexpected trailing bytes/ },
  { name: 'invalid UTF-8 in a value', body: cat(i32(StartupCode.Protocol30), z('user'), Buffer.from([0xff, 0, 0])), error: /not valid UTF-8/ },
  { name: 'an SSLRequest with a body', body: cat(i32(StartupCode.SSLRequest), Buffer.from([0])), error: /1 unexpected trailing bytes/ },
  { name: 'a GSSENCRequest with a body', body: cat(i32(StartupCode.GSSENCRequest), Buffer.from([0])), error: /1 unexpected trailing bytes/ },
  { name: 'a CancelRequest with a 3-byte key', body: cat(i32(StartupCode.CancelRequest), i32(1), Buffer.alloc(3)), error: /secret key of 3 bytes/ },
  { name: 'a CancelRequest with a 257-byte key', body: cat(i32(StartupCode.CancelRequest), i32(1), Buffer.alloc(257)), error: /secret key of 257 bytes/ },
  { name: 'a CancelRequest without a process id', body: i32(StartupCode.CancelRequest), error: /process id runs past/ },
];

describe('frontend: malformed startup-phase packets', () => {
  for (const c of startup) {
    it(c.name, () => {
      assert.throws(() => parseStartupPhase(c.body), (e: unknown) => e instanceof ProtocolError && c.error.test(e.message));
    });
  }
});

describe('frontend: views', () => {
  it('Bind parameters and CopyData are views into the body, not copies', () => {
    const body = cat(z(''), z(''), i16(0), i16(1), i32(3), Buffer.from('abc'), i16(0));
    const m = parseFrontendMessage(0x42, body);
    assert.equal(m.kind, 'Bind');
    if (m.kind === 'Bind') assert.equal(m.params[0]?.buffer, body.buffer);
    const copy = parseFrontendMessage(0x64, body);
    if (copy.kind === 'CopyData') assert.equal(copy.data, body);
  });
});
