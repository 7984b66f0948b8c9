// The record of an allowed command, serialised for the write-ahead file without serialising the whole event each
// time: statements of one shape share their decision object, so everything after the statement text is built once
// per decision. The result is the same JSON value JSON.stringify makes of the event, with non-ASCII characters of the
// shared part escaped (reasons contain "→"), which keeps the line a one-byte string — cheaper to write out.
import type { Decision } from '../../../core/policy/engine.ts';

const tails = new WeakMap<Decision, string>();

/** `{"type":"command","command":<text>,"action":…,"rule":…,"policy":…,"reasons":[…],"forwarded":true}` */
export function allowedCommandRecord(text: string, d: Decision): string {
  let tail = tails.get(d);
  if (tail === undefined) {
    const json = JSON.stringify({ action: d.action, ...(d.rule ? { rule: d.rule } : {}), ...(d.policy ? { policy: d.policy } : {}), reasons: d.reasons, forwarded: true });
    tail = json.slice(1).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    tails.set(d, tail);
  }
  return `{"type":"command","command":${JSON.stringify(text)},${tail}`;
}
