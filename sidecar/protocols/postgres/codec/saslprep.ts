// SASLprep (RFC 4013) of a SCRAM password, as libpq applies it (pg_saslprep): ASCII passwords are used as they
// are; otherwise map non-ASCII spaces to SPACE, drop "commonly mapped to nothing" characters, normalise NFKC,
// and if the result contains a prohibited or unassigned character or breaks the bidi rule, fall back to the
// password exactly as given — PostgreSQL does the same, so client and server agree either way.
//
// Approximations (only for non-ASCII passwords): "unassigned" uses the Unicode version of the JavaScript
// engine instead of Unicode 3.2, and the bidi rule classifies characters by script (Hebrew, Arabic, … as
// right-to-left) because JavaScript regular expressions do not expose the Bidi_Class property.

const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
const PROHIBITED = new RegExp(
  '[' +
  '\\u0000-\\u001F\\u007F-\\u009F' + // ASCII and non-ASCII control characters (C.2.1, C.2.2)
  '\\u0340\\u0341\\u06DD\\u070F\\u180E\\u200C-\\u200F\\u2028-\\u202E\\u2060-\\u2063\\u206A-\\u206F' +
  '\\u2FF0-\\u2FFB\\uD800-\\uDFFF\\uE000-\\uF8FF\\uFDD0-\\uFDEF\\uFEFF\\uFFF9-\\uFFFF' +
  '\\u{1D173}-\\u{1D17A}\\u{E0001}\\u{E0020}-\\u{E007F}\\u{F0000}-\\u{10FFFF}' +
  ']|[\\u{1FFFE}\\u{1FFFF}\\u{2FFFE}\\u{2FFFF}\\u{3FFFE}\\u{3FFFF}\\u{4FFFE}\\u{4FFFF}\\u{5FFFE}\\u{5FFFF}' +
  '\\u{6FFFE}\\u{6FFFF}\\u{7FFFE}\\u{7FFFF}\\u{8FFFE}\\u{8FFFF}\\u{9FFFE}\\u{9FFFF}\\u{AFFFE}\\u{AFFFF}' +
  '\\u{BFFFE}\\u{BFFFF}\\u{CFFFE}\\u{CFFFF}\\u{DFFFE}\\u{DFFFF}\\u{EFFFE}\\u{EFFFF}]' +
  '|\\p{Cn}',
  'u',
);
const RIGHT_TO_LEFT = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}]/u;
const RTL_LETTERS = /^[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}]$/u;
const LEFT_TO_RIGHT = /(?![\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}])\p{L}/u;
const ASCII = /^[\x00-\x7f]*$/;

export function saslprep(password: string): string {
  if (ASCII.test(password)) return password;
  const mapped = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  if (PROHIBITED.test(mapped)) return password;
  if (RIGHT_TO_LEFT.test(mapped)) {
    const chars = [...mapped];
    if (LEFT_TO_RIGHT.test(mapped) || !RTL_LETTERS.test(chars[0] ?? '') || !RTL_LETTERS.test(chars.at(-1) ?? '')) {
      return password;
    }
  }
  return mapped;
}
