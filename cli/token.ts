// `kubectl-portcullis token`: development tokens for the standalone sidecar. `init` creates a signing key pair
// (the sidecar gets only the public half, as --jwks); `mint` signs a short-lived JWT an agent presents as its
// password. In a cluster, agents use projected service-account tokens instead and none of this is needed.

import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT, type JWK } from 'jose';
import { DurationError, formatDuration, parseDuration } from '../core/util/duration.ts';

export const SIGNING_KEY_FILE = 'signing-key.pem';
export const JWKS_FILE = 'jwks.json';

export type TokenKeyAlgorithm = 'ES256' | 'EdDSA';

/** Dev tokens are for sessions, not for ever: a leaked one must not outlive a working day. */
export const MAX_TTL_MS = 24 * 3_600_000;

// Claims mint sets itself; --claim may not override them.
const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'groups']);

export const tokenUsage = `Usage:
  kubectl-portcullis token init --dir DIR [--alg ES256|EdDSA] [--force]
  kubectl-portcullis token mint --dir DIR --issuer URL --sub NAME [--groups a,b] [--aud portcullis] [--ttl 10m]
                                [--claim key=value]...

init  writes DIR/${SIGNING_KEY_FILE} (private, mode 0600) and DIR/${JWKS_FILE} (public, with a kid); it refuses to
      replace an existing key unless --force. Give the sidecar: --jwks DIR/${JWKS_FILE} --issuer URL
mint  prints a JWT signed with DIR/${SIGNING_KEY_FILE}: iss=URL, sub=NAME, aud (default portcullis), groups,
      exp = now + ttl (default 10m, at most ${formatDuration(MAX_TTL_MS)}). Use it as the database password, e.g.
      PGPASSWORD=$(kubectl-portcullis token mint ...) psql -h 127.0.0.1 -p 15432
Exit status: 0 on success, 1 on errors, 2 for bad usage.`;

export class TokenUsageError extends Error {}

export interface InitKeysOptions {
  readonly alg?: TokenKeyAlgorithm;
  /** Replace an existing key (every token minted with the old key stops verifying). */
  readonly force?: boolean;
}

export interface InitKeysResult {
  readonly kid: string;
  readonly alg: TokenKeyAlgorithm;
  readonly signingKeyFile: string;
  readonly jwksFile: string;
}

/** Creates DIR/signing-key.pem and DIR/jwks.json. The kid is the key's RFC 7638 thumbprint. */
export async function initKeys(dir: string, options: InitKeysOptions = {}): Promise<InitKeysResult> {
  const alg = options.alg ?? 'ES256';
  if (alg !== 'ES256' && alg !== 'EdDSA') throw new TokenUsageError(`--alg must be ES256 or EdDSA, not ${String(alg)}`);
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const signingKeyFile = join(dir, SIGNING_KEY_FILE);
  const jwksFile = join(dir, JWKS_FILE);

  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails if the key exists: replacing a key silently would invalidate every token minted with it.
    await writeFile(signingKeyFile, await exportPKCS8(privateKey), { mode: 0o600, flag: options.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(`${signingKeyFile} already exists; use --force to replace it (tokens signed with it stop working)`);
    }
    throw error;
  }
  await chmod(signingKeyFile, 0o600); // a replaced file keeps its old mode otherwise
  const jwks = { keys: [{ ...publicJwk, kid, alg, use: 'sig' }] };
  await writeFile(jwksFile, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o644 });
  return { kid, alg, signingKeyFile, jwksFile };
}

export interface MintOptions {
  readonly dir: string;
  readonly issuer: string;
  readonly subject: string;
  readonly groups?: readonly string[];
  /** Default `portcullis`. */
  readonly audience?: string | readonly string[];
  /** Duration such as `10m` (default), at most 24h. */
  readonly ttl?: string;
  /** Extra string claims; may not override iss, sub, aud, exp, nbf, iat, jti or groups. */
  readonly claims?: Readonly<Record<string, string>>;
  /** Epoch milliseconds; default now. */
  readonly now?: number;
}

interface SigningKey {
  readonly alg: TokenKeyAlgorithm;
  readonly kid: string;
  readonly pem: string;
}

/** Loads the private key and finds its kid in jwks.json by thumbprint, so a mismatched pair is caught here. */
async function loadSigningKey(dir: string): Promise<SigningKey> {
  const pem = await readFile(join(dir, SIGNING_KEY_FILE), 'utf8');
  const privateKey = createPrivateKey(pem);
  let alg: TokenKeyAlgorithm;
  if (privateKey.asymmetricKeyType === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
  else if (privateKey.asymmetricKeyType === 'ed25519') alg = 'EdDSA';
  else throw new Error(`${join(dir, SIGNING_KEY_FILE)}: expected an EC P-256 or Ed25519 private key`);
  const thumbprint = await calculateJwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }) as JWK);
  const jwks = JSON.parse(await readFile(join(dir, JWKS_FILE), 'utf8')) as { keys?: JWK[] };
  for (const jwk of jwks.keys ?? []) {
    if (typeof jwk.kid === 'string' && (await calculateJwkThumbprint(jwk)) === thumbprint) return { alg, kid: jwk.kid, pem };
  }
  throw new Error(`${join(dir, SIGNING_KEY_FILE)} does not match any key in ${join(dir, JWKS_FILE)}`);
}

/** Signs a dev token. Throws TokenUsageError for bad options. */
export async function mintToken(options: MintOptions): Promise<string> {
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) {
    throw new TokenUsageError('--issuer must be a URL (the same one given to the sidecar)');
  }
  if (typeof options.subject !== 'string' || options.subject.trim() === '') throw new TokenUsageError('--sub must name the agent');
  let ttlMs: number;
  try {
    ttlMs = parseDuration(options.ttl ?? '10m');
  } catch (error) {
    throw new TokenUsageError(`--ttl: ${(error as DurationError).message}`);
  }
  if (ttlMs < 1000 || ttlMs > MAX_TTL_MS) throw new TokenUsageError(`--ttl must be between 1s and ${formatDuration(MAX_TTL_MS)}`);
  const audience = options.audience ?? 'portcullis';
  const audiences = typeof audience === 'string' ? [audience] : [...audience];
  if (audiences.length === 0 || audiences.some((a) => a === '')) throw new TokenUsageError('--aud must not be empty');
  const extra: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (REGISTERED_CLAIMS.has(name)) throw new TokenUsageError(`--claim cannot set "${name}"; use its own flag`);
    extra[name] = value;
  }
  if (options.groups !== undefined && options.groups.length > 0) extra.groups = [...options.groups];

  const key = await loadSigningKey(options.dir);
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  return new SignJWT(extra)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setSubject(options.subject)
    .setAudience(audiences.length === 1 ? (audiences[0] as string) : audiences)
    .setIssuedAt(nowSec)
    .setNotBefore(nowSec)
    .setExpirationTime(nowSec + Math.ceil(ttlMs / 1000))
    .setJti(randomUUID())
    .sign(await importPKCS8(key.pem, key.alg));
}

export interface TokenCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parseClaims(values: readonly string[] | undefined): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const item of values ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new TokenUsageError(`--claim expects key=value, got ${JSON.stringify(item)}`);
    claims[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return claims;
}

async function run(argv: readonly string[], io: TokenCommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw new TokenUsageError('a sub-command is required: init or mint');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(`${tokenUsage}\n`);
    return 0;
  }
  if (sub === 'init') {
    const { values } = parseArgs({
      args: [...rest],
      options: { dir: { type: 'string' }, alg: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(`${tokenUsage}\n`);
      return 0;
    }
    if (!values.dir) throw new TokenUsageError('--dir is required');
    const result = await initKeys(values.dir, {
      ...(values.alg === undefined ? {} : { alg: values.alg as TokenKeyAlgorithm }),
      ...(values.force === undefined ? {} : { force: values.force }),
    });
    io.stdout.write(
      `wrote ${result.signingKeyFile} (private: keep it secret) and ${result.jwksFile} (kid ${result.kid}, ${result.alg})\n` +
        `start the sidecar with: --jwks ${result.jwksFile} --issuer URL\n`,
    );
    return 0;
  }
  if (sub === 'mint') {
    const { values } = parseArgs({
      args: [...rest],
      options: {
        dir: { type: 'string' },
        issuer: { type: 'string' },
        sub: { type: 'string' },
        groups: { type: 'string' },
        aud: { type: 'string' },
        ttl: { type: 'string' },
        claim: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(`${tokenUsage}\n`);
      return 0;
    }
    for (const flag of ['dir', 'issuer', 'sub'] as const) if (!values[flag]) throw new TokenUsageError(`--${flag} is required`);
    const token = await mintToken({
      dir: values.dir as string,
      issuer: values.issuer as string,
      subject: values.sub as string,
      groups: list(values.groups),
      ...(values.aud === undefined ? {} : { audience: list(values.aud) }),
      ...(values.ttl === undefined ? {} : { ttl: values.ttl }),
      claims: parseClaims(values.claim),
    });
    io.stdout.write(`${token}\n`);
    return 0;
  }
  throw new TokenUsageError(`unknown sub-command "${sub}"`);
}

/** `kubectl-portcullis token …`: returns the exit code. */
export async function tokenCommand(argv: readonly string[], io: TokenCommandIo = process): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    // parseArgs reports unknown or malformed flags with ERR_PARSE_ARGS_* codes: those are usage errors too.
    const code = (error as { code?: unknown }).code;
    if (error instanceof TokenUsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`kubectl-portcullis token: ${(error as Error).message}\n${tokenUsage}\n`);
      return 2;
    }
    io.stderr.write(`kubectl-portcullis token: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
