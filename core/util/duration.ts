// Durations as the API writes them (`300ms`, `10s`, `5m`, `1h30m`, `720h`): Go's time.Duration syntax, which is what
// Kubernetes users already know, restricted to the units a policy needs. Parsed to whole milliseconds.

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

// One `<number><unit>` term; `ms` is listed before `m` so the alternation never stops at the `m` of `ms`.
const TERM = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

// Long inputs can only be mistakes; bounding the length keeps the parse cheap whatever a CR contains.
const MAX_LENGTH = 64;

export class DurationError extends Error {
  override name = 'DurationError';
}

/**
 * Parses a duration such as `1h30m` into milliseconds. `0` alone is accepted (Go accepts it too).
 * Throws DurationError on anything else: empty, negative, unknown unit (`d` is not a unit — write `24h`), overflow.
 */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new DurationError('a duration must be a string such as "5m"');
  if (text.length === 0 || text.length > MAX_LENGTH) {
    throw new DurationError(`invalid duration ${JSON.stringify(text.slice(0, MAX_LENGTH))}: expected e.g. "300ms", "10s", "5m", "1h30m"`);
  }
  if (text === '0') return 0;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < text.length) {
    const match = TERM.exec(text);
    if (match === null) {
      throw new DurationError(`invalid duration ${JSON.stringify(text)}: expected number+unit terms with units ms, s, m, h (e.g. "1h30m")`);
    }
    const value = Number(match[1]);
    const unit = UNIT_MS[match[2] as string] as number;
    total += value * unit;
  }
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new DurationError(`duration ${JSON.stringify(text)} is too large`);
  return ms;
}

/** true when `text` is a valid duration; for validators that report their own message. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

/** Formats milliseconds the way parseDuration reads them back (`90000` → `1m30s`); for messages and CLIs. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new DurationError(`cannot format ${ms} as a duration`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
