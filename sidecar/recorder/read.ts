// Reads a write-ahead file back, line by line, without ever throwing on its content: a bad line becomes a problem
// with its line number and reading goes on. A last line without its newline is a torn write (the sidecar was killed
// mid-append, or the disk filled up) and is reported as such. The file is streamed, so its size only costs the
// events kept, not a copy of the text.
import { createReadStream } from 'node:fs';
import type { AuditEvent } from '../../core/audit/events.ts';
import { checkEvent } from './event-shape.ts';

export type WalProblemKind = 'torn-tail' | 'invalid-json' | 'invalid-event';

export interface WalProblem {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly kind: WalProblemKind;
  readonly message: string;
}

export type WalEntry = { readonly line: number; readonly event: AuditEvent } | { readonly line: number; readonly problem: WalProblem };

const NEWLINE = 0x0a;
/** A longer line is reported, not parsed: events are small, and a runaway line must not exhaust memory. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

function entry(line: number, text: string, terminated: boolean): WalEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const kind: WalProblemKind = terminated ? 'invalid-json' : 'torn-tail';
    const message = terminated
      ? `not valid JSON (${(error as Error).message}); an earlier crash may have torn this line`
      : 'the last line is incomplete (torn write: the sidecar stopped mid-append); ignored';
    return { line, problem: { line, kind, message } };
  }
  const checked = checkEvent(value);
  if ('problem' in checked) return { line, problem: { line, kind: 'invalid-event', message: checked.problem } };
  return { line, event: checked.event };
}

/** Every line of the file as an event or a problem, in file order. Blank lines are skipped. */
export async function* readWalEntries(path: string): AsyncGenerator<WalEntry> {
  let line = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let oversized = false;
  const finish = (bytes: Buffer[], terminated: boolean): WalEntry | undefined => {
    line += 1;
    if (oversized) return { line, problem: { line, kind: 'invalid-event', message: `line longer than ${MAX_LINE_BYTES} bytes; skipped` } };
    const text = Buffer.concat(bytes).toString('utf8');
    return text.trim() === '' ? undefined : entry(line, text, terminated);
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      if (pendingBytes + piece.length > MAX_LINE_BYTES) oversized = true;
      const result = finish(pendingBytes === 0 ? [piece] : [...pending, piece], true);
      pending = [];
      pendingBytes = 0;
      oversized = false;
      start = nl + 1;
      if (result) yield result;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pendingBytes += rest.length;
      if (pendingBytes > MAX_LINE_BYTES) {
        oversized = true;
        pending = [];
      } else {
        pending.push(rest);
      }
    }
  }
  if (pendingBytes > 0) {
    const result = finish(pending, false);
    if (result) yield result;
  }
}

export interface WalContents {
  readonly events: AuditEvent[];
  readonly problems: WalProblem[];
}

/** The whole file: events in file order and the problems found. Throws only if the file cannot be read. */
export async function readWal(path: string): Promise<WalContents> {
  const events: AuditEvent[] = [];
  const problems: WalProblem[] = [];
  for await (const e of readWalEntries(path)) {
    if ('event' in e) events.push(e.event);
    else problems.push(e.problem);
  }
  return { events, problems };
}
