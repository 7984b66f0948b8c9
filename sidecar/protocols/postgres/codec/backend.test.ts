// Malformed backend messages: each must be a ProtocolError that says what is wrong.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBackendMessage, readyStatus } from './backend.ts';
import { ProtocolError } from './errors.ts';

const z = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
const i16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const field = (name: string, format: number): Buffer => cat(z(name), i32(1), i16(1), i32(23), i16(4), i32(-1), i16(format));

const cases: { name: string; type: string; body: Buffer; error: RegExp }[] = [
  { name: 'ReadyForQuery with an unknown status', type: 'Z', body: Buffer.from('X'), error: /invalid transaction status 0x58/ },
  { name: 'ReadyForQuery without a status', type: 'Z', body: Buffer.alloc(0), error: /body of 0 bytes/ },
  { name: 'Authentication with an unknown code', type: 'R', body: i32(99), error: /unknown request code 99/ },
  { name: 'Authentication without a code', type: 'R', body: Buffer.from([0, 0]), error: /request code runs past/ },
  { name: 'AuthenticationMD5Password with a short salt', type: 'R', body: cat(i32(5), Buffer.from([1, 2])), error: /salt runs past/ },
  { name: 'AuthenticationOk with trailing bytes', type: 'R', body: cat(i32(0), Buffer.from([1])), error: /1 unexpected trailing bytes/ },
  { name: 'AuthenticationSASL without the final empty name', type: 'R', body: cat(i32(10), z('SCRAM-SHA-256')), error: /mechanism is not NUL-terminated/ },
  { name: 'BackendKeyData with a 2-byte key', type: 'K', body: cat(i32(1), Buffer.alloc(2)), error: /secret key of 2 bytes/ },
  { name: 'BackendKeyData with a 300-byte key', type: 'K', body: cat(i32(1), Buffer.alloc(300)), error: /secret key of 300 bytes/ },
  { name: 'ParameterStatus without a value', type: 'S', body: z('TimeZone'), error: /value is not NUL-terminated/ },
  { name: 'RowDescription with a missing field', type: 'T', body: cat(i16(2), field('a', 0)), error: /field name is not NUL-terminated/ },
  { name: 'RowDescription with a truncated field', type: 'T', body: cat(i16(1), z('a'), i32(1)), error: /column number runs past/ },
  { name: 'RowDescription with format 3', type: 'T', body: cat(i16(1), field('a', 3)), error: /invalid format code 3/ },
  { name: 'DataRow with a column length of -5', type: 'D', body: cat(i16(1), i32(-5)), error: /invalid length -5/ },
  { name: 'DataRow with a value running past the end', type: 'D', body: cat(i16(1), i32(9), Buffer.from('abc')), error: /column value runs past/ },
  { name: 'DataRow with trailing bytes', type: 'D', body: cat(i16(1), i32(-1), Buffer.from([0])), error: /1 unexpected trailing bytes/ },
  { name: 'CommandComplete without terminator', type: 'C', body: Buffer.from('SELECT 1'), error: /command tag is not NUL-terminated/ },
  { name: 'ErrorResponse without the final zero', type: 'E', body: cat(Buffer.from('S'), z('ERROR')), error: /field type runs past/ },
  { name: 'NoticeResponse with a value without terminator', type: 'N', body: cat(Buffer.from('M'), Buffer.from('x')), error: /field value is not NUL-terminated/ },
  { name: 'CopyOutResponse with overall format 2', type: 'H', body: cat(Buffer.from([2]), i16(0)), error: /invalid overall format 2/ },
  { name: 'CopyInResponse with a missing column format', type: 'G', body: cat(Buffer.from([0]), i16(1)), error: /column format runs past/ },
  { name: 'ParameterDescription with a missing OID', type: 't', body: cat(i16(1)), error: /parameter type runs past/ },
  { name: 'NegotiateProtocolVersion with a negative count', type: 'v', body: cat(i32(0), i32(-1)), error: /negative option count/ },
  { name: 'NegotiateProtocolVersion with a missing option', type: 'v', body: cat(i32(0), i32(2), z('_pq_.a')), error: /option name is not NUL-terminated/ },
  { name: 'NotificationResponse without payload', type: 'A', body: cat(i32(1), z('ch')), error: /payload is not NUL-terminated/ },
  { name: 'FunctionCallResponse with a bad length', type: 'V', body: i32(-3), error: /invalid length -3/ },
  { name: 'ParseComplete with a body', type: '1', body: Buffer.from([0]), error: /ParseComplete: 1 unexpected trailing bytes/ },
  { name: 'a message type the protocol does not have', type: 'Q', body: Buffer.alloc(0), error: /unexpected backend message type 0x51/ },
];

describe('backend: malformed messages', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(() => parseBackendMessage(c.type.charCodeAt(0), c.body),
        (e: unknown) => e instanceof ProtocolError && c.error.test(e.message));
    });
  }
});

describe('backend: ReadyForQuery status', () => {
  for (const s of ['I', 'T', 'E'] as const) {
    it(`reads ${s}`, () => assert.equal(readyStatus(Buffer.from(s)), s));
  }
});

describe('backend: unsupported authentication methods are reported, not guessed', () => {
  for (const code of [2, 7, 9]) {
    it(`code ${code}`, () => {
      assert.deepEqual(parseBackendMessage(0x52, i32(code)), { kind: 'AuthenticationUnsupported', code, data: Buffer.alloc(0) });
    });
  }
  it('GSSContinue keeps its data', () => {
    const m = parseBackendMessage(0x52, cat(i32(8), Buffer.from('tok')));
    assert.deepEqual(m, { kind: 'AuthenticationUnsupported', code: 8, data: Buffer.from('tok') });
  });
});
