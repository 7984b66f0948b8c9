// Recorded text shown to people (replay transcripts, approval listings). Commands come from the agent, so they may
// carry terminal escape sequences or bidirectional-override characters that would rewrite what the reviewer sees;
// every such character is shown escaped instead.

// C0/C1 controls and DEL (\p{Cc}), plus the bidi embedding/override/isolate controls (the "Trojan Source" set).
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const UNSAFE_KEEP_NEWLINES = /(?![\n])[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

function escape(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  const code = ch.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of safe text: controls escaped (newlines too). */
export function printable(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** Safe text that keeps its line breaks (for a statement shown in full). */
export function printableLines(text: string): string[] {
  return text.replace(UNSAFE_KEEP_NEWLINES, escape).split('\n');
}

/** One line, at most `max` characters (an ellipsis marks the cut). */
export function clip(text: string, max: number): string {
  const line = printable(text.replace(/\s+/g, ' ').trim());
  return line.length <= max ? line : `${line.slice(0, Math.max(0, max - 1))}…`;
}

/** A short, rounded duration for tables: 850ms, 42s, 5m12s, 3h4m, 2d3h. */
export function shortDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
