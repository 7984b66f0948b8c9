// How `kubectl-portcullis approve --local` finds a standalone sidecar: the sidecar writes two files into its records
// directory at start-up —
//   admin.json    {"url": "http://127.0.0.1:PORT", "pid": 1234, "startedAt": "…"}   (where the admin API listens)
//   admin-token   the bearer token of the admin API, mode 0600                          (who may decide approvals)
// The token is generated per start, so a stale token from an earlier run stops working. Holding the token means
// being able to approve as anyone: it is a development/standalone mechanism, protected by file permissions only.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const ADMIN_INFO_FILE = 'admin.json';
export const ADMIN_TOKEN_FILE = 'admin-token';
/** The shortest admin token the server accepts (a generated one is 43 characters). */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

export interface AdminInfo {
  readonly url: string;
  readonly token: string;
  /** Process id of the sidecar that wrote the files (helps explain a stale admin.json). */
  readonly pid?: number;
  readonly startedAt?: string;
}

/** 256 random bits, base64url: what the sidecar uses as its admin token. */
export function generateAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Write to a temporary name, then rename: a reader sees the old file or the new one, never half of one. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600); // the umask may have narrowed it further; never wider
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Called by the sidecar once its admin port listens. The token is written first so admin.json never points at a server whose token is not there yet. */
export async function writeAdminInfo(dir: string, info: { readonly url: string; readonly token: string }): Promise<void> {
  if (!URL.canParse(info.url)) throw new Error(`admin url ${JSON.stringify(info.url)} is not a URL`);
  if (info.token.length < MIN_ADMIN_TOKEN_LENGTH) throw new Error(`the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomically(join(dir, ADMIN_TOKEN_FILE), `${info.token}\n`);
  const doc = { url: info.url, pid: process.pid, startedAt: new Date().toISOString() };
  await writeAtomically(join(dir, ADMIN_INFO_FILE), `${JSON.stringify(doc, null, 2)}\n`);
}

/** Called at shutdown, so the CLI says "not running" instead of failing to connect. */
export async function removeAdminInfo(dir: string): Promise<void> {
  await rm(join(dir, ADMIN_INFO_FILE), { force: true });
  await rm(join(dir, ADMIN_TOKEN_FILE), { force: true });
}

export class AdminInfoError extends Error {}

/** Reads the admin token; refuses a token file others can read, as ssh refuses a readable private key. */
export async function readAdminToken(dir: string): Promise<string> {
  const path = join(dir, ADMIN_TOKEN_FILE);
  let mode: number;
  let text: string;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AdminInfoError(`${path} not found: is a standalone sidecar running with --records ${dir}?`);
    throw new AdminInfoError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) throw new AdminInfoError(`${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
  const token = text.trim();
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) throw new AdminInfoError(`${path} does not hold an admin token`);
  return token;
}

/** Reads admin.json and admin-token from a records directory. */
export async function readAdminInfo(dir: string): Promise<AdminInfo> {
  const path = join(dir, ADMIN_INFO_FILE);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AdminInfoError(`${path} not found: is a standalone sidecar running with --records ${dir}?`);
    throw new AdminInfoError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const { url, pid, startedAt } = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new AdminInfoError(`${path} has no http(s) "url"`);
  }
  return {
    url,
    token: await readAdminToken(dir),
    ...(typeof pid === 'number' ? { pid } : {}),
    ...(typeof startedAt === 'string' ? { startedAt } : {}),
  };
}
