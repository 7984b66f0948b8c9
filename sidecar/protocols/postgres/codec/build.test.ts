// Builders refuse what cannot be encoded faithfully instead of producing a message the peer reads differently.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as b from './build.ts';
import { ProtocolError } from './errors.ts';
import type { TransactionStatus } from './types.ts';

const refusals: { name: string; build: () => Buffer; error: RegExp }[] = [
  { name: 'a query containing NUL', build: () => b.buildQuery('SELECT 1\0; DROP TABLE t'), error: /query: it contains a NUL/ },
  { name: 'a parameter status containing NUL', build: () => b.buildParameterStatus('a', 'b\0c'), error: /NUL/ },
  { name: 'an error message containing NUL', build: () => b.buildErrorResponse({ severity: 'ERROR', code: '42501', message: 'x\0' }), error: /NUL/ },
  { name: 'an invalid SQLSTATE', build: () => b.buildErrorResponse({ severity: 'ERROR', code: '4250', message: 'x' }), error: /SQLSTATE "4250"/ },
  { name: 'a notice field code of two letters', build: () => b.buildNoticeResponse(new Map([['SS', 'x']])), error: /field code "SS"/ },
  { name: 'a cancel key of 3 bytes', build: () => b.buildCancelRequest(1, Buffer.alloc(3)), error: /secret key of 3 bytes/ },
  { name: 'a backend key of 257 bytes', build: () => b.buildBackendKeyData(1, Buffer.alloc(257)), error: /secret key of 257 bytes/ },
  { name: 'an MD5 salt of 5 bytes', build: () => b.buildAuthenticationMD5Password(Buffer.alloc(5)), error: /salt of 5 bytes/ },
  { name: 'an empty SASL mechanism', build: () => b.buildAuthenticationSASL(['']), error: /empty mechanism/ },
  { name: '65536 parameter types', build: () => b.buildParse('', 'x', new Array<number>(65_536).fill(0)), error: /65536 exceeds 65535/ },
  { name: 'Bind with 2 formats for 1 parameter', build: () => b.buildBind({ paramFormats: [0, 1], params: ['a'] }), error: /2 parameter formats for 1/ },
  { name: 'an empty startup parameter name', build: () => b.buildStartupMessage({ '': 'x' }), error: /empty parameter name/ },
  { name: 'an invalid transaction status', build: () => b.buildReadyForQuery('X' as TransactionStatus), error: /invalid status X/ },
];

describe('builders refuse unencodable input', () => {
  for (const c of refusals) {
    it(c.name, () => {
      assert.throws(c.build, (e: unknown) => e instanceof ProtocolError && c.error.test(e.message));
    });
  }
});

describe('builders write the documented bytes', () => {
  it('SSLRequest, GSSENCRequest and Sync are the fixed 8- and 5-byte packets', () => {
    assert.deepEqual(b.buildSSLRequest(), Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
    assert.deepEqual(b.buildGSSENCRequest(), Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]));
    assert.deepEqual(b.buildSync(), Buffer.from([0x53, 0, 0, 0, 4]));
  });

  it('an ErrorResponse carries severity twice (S and V) and the field codes in order', () => {
    const m = b.buildErrorResponse({ severity: 'ERROR', code: '42501', message: 'no', detail: 'd' });
    assert.equal(m.subarray(5).toString('latin1'), 'SERROR\0VERROR\0C42501\0Mno\0Dd\0\0');
    assert.equal(m.readInt32BE(1), m.length - 1);
  });
});
