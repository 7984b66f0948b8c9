import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECTOR_NAMES, DETECTORS } from './detectors.ts';
import { bufferFeatures, featureDigits, featureFlags, textFeatures } from './features.ts';
import { compileMasker, type MaskingClass } from './masker.ts';
import { maskValue, REDACTED_MARKER } from './strategies.ts';
import { seededRandom } from './testing.ts';

const key = Buffer.alloc(32, 9);
const everything: MaskingClass[] = [{ name: 'all', detectors: [...DETECTOR_NAMES], strategy: 'redact' }];

const compileErrors: Array<[string, MaskingClass[], Buffer | undefined, RegExp]> = [
  ['unknown detector', [{ name: 'card', detectors: ['credit_card'], strategy: 'redact' }], key, /classification "card": unknown detector "credit_card" \(known: credit-card, email/],
  ['unknown strategy', [{ name: 'card', detectors: ['credit-card'], strategy: 'blur' as never }], key, /unknown masking strategy "blur"/],
  ['hash without a key', [{ name: 'card', detectors: ['credit-card'], strategy: 'hash' }], undefined, /needs a hash key/],
  ['hash with a short key', [{ name: 'card', detectors: ['credit-card'], strategy: 'hash' }], Buffer.alloc(4), /at least 16 bytes/],
];

for (const [name, classes, hashKey, error] of compileErrors) {
  test(`compileMasker refuses: ${name}`, () => {
    assert.throws(() => compileMasker(classes, hashKey), error);
  });
}

test('compileMasker: no detectors named → nothing is ever masked', () => {
  const masker = compileMasker([{ name: 'cols-only', detectors: [], strategy: 'redact' }]);
  assert.deepEqual(masker.detectors, []);
  assert.equal(masker.scan('4111111111111111 a@b.co'), undefined);
  assert.equal(masker.scanBuffer(Buffer.from('4111111111111111 a@b.co')), undefined);
});

test('compileMasker: a key is needed only when some class hashes', () => {
  const masker = compileMasker([{ name: 'card', detectors: ['credit-card'], strategy: 'last4' }]);
  assert.deepEqual(masker.scan('4111111111111111'), { text: '************1111', count: 1 });
});

const scanCases: Array<[string, MaskingClass[], string, { text: string; count: number } | undefined]> = [
  ['nothing found', everything, 'a plain sentence, with 12 digits: 123456789012.', undefined],
  ['too short for any detector', everything, 'ab', undefined],
  ['card, last4', [{ name: 'card', detectors: ['credit-card'], strategy: 'last4' }], 'card 4111 1111 1111 1111!', { text: 'card ***************1111!', count: 1 }],
  ['email in JSON, redact', everything, '{"email":"a@b.co","n":1}', { text: `{"email":"${REDACTED_MARKER}","n":1}`, count: 1 }],
  ['each class its strategy', [
    { name: 'card', detectors: ['credit-card'], strategy: 'last4' },
    { name: 'contact', detectors: ['email'], strategy: 'redact' },
  ], 'x@y.io paid 5555555555554444', { text: `${REDACTED_MARKER} paid ************4444`, count: 2 }],
  ['null inside a longer text redacts the span', [{ name: 'ssn', detectors: ['us-ssn'], strategy: 'null' }], 'ssn 123-45-6789', { text: `ssn ${REDACTED_MARKER}`, count: 1 }],
  ['overlapping hits merge, the stricter strategy wins', [
    { name: 'card', detectors: ['credit-card'], strategy: 'last4' },
    { name: 'contact', detectors: ['email'], strategy: 'redact' },
  ], 'to 4111111111111111@example.com', { text: `to ${REDACTED_MARKER}`, count: 1 }],
  ['a detector in two classes takes the stricter strategy', [
    { name: 'a', detectors: ['credit-card'], strategy: 'last4' },
    { name: 'b', detectors: ['credit-card'], strategy: 'redact' },
  ], '4111111111111111', { text: REDACTED_MARKER, count: 1 }],
  ['non-ASCII around a hit survives', everything, 'José → 4111111111111111 ✓ 😀', { text: `José → ${REDACTED_MARKER} ✓ 😀`, count: 1 }],
];

for (const [name, classes, text, expected] of scanCases) {
  test(`scan: ${name}`, () => {
    const masker = compileMasker(classes, key);
    assert.deepEqual(masker.scan(text), expected);
    const viaBytes = masker.scanBuffer(Buffer.from(text, 'utf8'));
    assert.deepEqual(viaBytes && { text: viaBytes.bytes.toString('utf8'), count: viaBytes.count }, expected);
  });
}

test('scan: hash strategy is stable and keeps equal values equal across cells', () => {
  const masker = compileMasker([{ name: 'contact', detectors: ['email'], strategy: 'hash' }], key);
  const a = masker.scan('from a@b.co')!;
  const b = masker.scan('{"to":"a@b.co"}')!;
  const hashed = maskValue('hash', 'a@b.co', key)!;
  assert.equal(a.text, `from ${hashed}`);
  assert.equal(b.text, `{"to":"${hashed}"}`);
  const other = compileMasker([{ name: 'contact', detectors: ['email'], strategy: 'hash' }], Buffer.alloc(32, 3));
  assert.notEqual(other.scan('from a@b.co')!.text, a.text);
});

test('scanBuffer: reads only its range of a larger message', () => {
  const masker = compileMasker(everything, key);
  const message = Buffer.from('4111111111111111|hello there|a@b.co');
  assert.equal(masker.scanBuffer(message, 17, 28), undefined);
  const hit = masker.scanBuffer(message, 29, message.length)!;
  assert.equal(hit.bytes.toString(), REDACTED_MARKER);
  const card = masker.scanBuffer(message, 0, 16)!;
  assert.equal(card.bytes.toString(), REDACTED_MARKER);
});

test('scanBuffer: works on a plain Uint8Array', () => {
  const masker = compileMasker(everything, key);
  const bytes = new Uint8Array(Buffer.from('xx 4111111111111111'));
  assert.equal(masker.scanBuffer(bytes)!.bytes.toString(), `xx ${REDACTED_MARKER}`);
});

test('features: bytes and text give the same answer, non-ASCII counts for nothing', () => {
  const text = 'Zoë +1 a@b.c-d 4111 ٣٣٣ 😀 AKIA';
  const bytes = Buffer.from(text, 'utf8');
  assert.equal(bufferFeatures(bytes, 0, bytes.length), textFeatures(text));
  assert.equal(featureDigits(textFeatures(text)), 5); // "1" and "4111"; Arabic-Indic digits are not ASCII
  assert.equal(featureFlags(textFeatures('no digits')), 0);
});

/** Random texts built from pieces that detectors care about, so pre-filters are tried near their edges. */
function randomText(random: () => number): string {
  const pieces = [
    '4111', '1111', ' ', '-', '.', '+', '@', 'a', 'b.co', 'DE89', '3704', '0044', '0532', '0130', '00', 'GB82', 'WEST',
    '123-45-6789', '+1 (415) 555-2671', 'eyJhbGciOiJub25lIn0', 'eyJzdWIiOiIxIn0', 'AKIA', 'IOSFODNN7EXAMPLE',
    '-----BEGIN ', 'PRIVATE KEY', '-----', '-----END ', '\\n', '"', '\\', 'é', '😀', '0', '9', 'x', 'Z',
  ];
  let text = '';
  const count = 1 + Math.floor(random() * 14);
  for (let i = 0; i < count; i++) text += pieces[Math.floor(random() * pieces.length)];
  return text;
}

test('pre-filters never reject what a detector finds (fuzz), and bytes agree with text', () => {
  const random = seededRandom(42);
  const masker = compileMasker(everything, key);
  let found = 0;
  for (let n = 0; n < 20_000; n++) {
    const text = randomText(random);
    const bytes = Buffer.from(text, 'utf8');
    const features = textFeatures(text);
    for (const d of DETECTORS.values()) {
      if (d.find(text).length === 0) continue;
      found++;
      assert.ok(text.length >= d.minLength, `${d.name} minLength: ${text}`);
      assert.ok(d.mayMatch(featureFlags(features), featureDigits(features)), `${d.name} mayMatch: ${text}`);
      if (d.mayMatchBytes) assert.ok(d.mayMatchBytes(bytes, 0, bytes.length), `${d.name} mayMatchBytes: ${text}`);
    }
    const viaText = masker.scan(text);
    const viaBytes = masker.scanBuffer(bytes);
    assert.equal(viaBytes?.bytes.toString('utf8'), viaText?.text, text);
    assert.equal(viaBytes?.count, viaText?.count, text);
  }
  assert.ok(found > 1000, `the fuzz should hit detectors often, hit ${found}`);
});
