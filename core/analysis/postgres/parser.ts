// The libpg-query WASM module is loaded once per process; the synchronous API is usable only after that.
import { loadModule } from 'libpg-query';

let ready = false;
let loading: Promise<void> | undefined;

/** Loads the parser's WASM module; call once (later calls share the first) before analysePostgres or redactSecrets. */
export async function initPostgresParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    ready = true;
  });
  await loading;
}

export function parserReady(): boolean {
  return ready;
}
