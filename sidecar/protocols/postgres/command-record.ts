// The record of an allowed command, serialised for the write-ahead file without serialising the whole event each
// time: statements of one shape share their decision object, so everything after the statement text is built (and
// encoded) once per decision, and only the text is serialised per command. The parts make the same JSON value
// JSON.stringify makes of the event; non-ASCII characters of the shared part are escaped (reasons contain "→").
import type { Decision } from '../../../core/policy/engine.ts';
import type { EventParts } from '../../recorder/wal.ts';

const HEAD = Buffer.from('{"type":"command","command":');
const tails = new WeakMap<Decision, Buffer>();

/** `{"type":"command","command":<text>,"action":…,"rule":…,"policy":…,"reasons":[…],"forwarded":true}` in parts. */
export function allowedCommandRecord(text: string, d: Decision): EventParts {
  let tail = tails.get(d);
  if (tail === undefined) {
    const json = JSON.stringify({ action: d.action, ...(d.rule ? { rule: d.rule } : {}), ...(d.policy ? { policy: d.policy } : {}), reasons: d.reasons, forwarded: true });
    const ascii = json.slice(1).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    tail = Buffer.from(`,${ascii}`, 'latin1');
    tails.set(d, tail);
  }
  return { head: HEAD, json: JSON.stringify(text), tail };
}

/** The parts as one UTF-8 buffer (kept for a statement that repeats). */
export function recordBytes(p: EventParts): Buffer {
  const json = Buffer.from(p.json);
  return Buffer.concat([p.head, json, p.tail], p.head.length + json.length + p.tail.length);
}
