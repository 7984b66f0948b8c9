// One agent connection through the PostgreSQL adapter: startup and JWT login, the sidecar's own login upstream,
// then the query phase — every statement decided before any byte of it reaches the server, denials answered the
// way PostgreSQL would answer an error (including the transaction state), held statements waiting for a person,
// result rows masked on their way back, every command recorded before it is forwarded.
import { createHash, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  BackendReader,
  BackendType,
  FrontendReader,
  FrontendType,
  NO_MESSAGE,
  ProtocolError,
  UNTYPED,
  buildAuthenticationCleartextPassword,
  buildAuthenticationOk,
  buildBackendKeyData,
  buildDescribe,
  buildErrorResponse,
  buildNoticeResponse,
  buildNegotiateProtocolVersion,
  buildParse,
  buildQuery,
  buildReadyForQuery,
  buildSync,
  parseBindTarget,
  parseClose,
  parseCopyResponse,
  parseDescribe,
  parseErrorFields,
  parseNotificationResponse,
  buildNotificationResponse,
  parseExecute,
  parseParameterStatus,
  parseParse,
  parsePasswordMessage,
  parseQuery,
  parseRowDescription,
  parseStartupPhase,
  readyStatusIn,
  type StringMemo,
  type TransactionStatus,
} from './codec/index.ts';
import { MessagePump } from './message-pump.ts';
import { GrantWindow } from '../../approvals/grants.ts';
import { CoalescingWriter } from './coalescing-writer.ts';
import { allowedCommandRecord, recordBytes } from './command-record.ts';
import { MapJournal } from './map-journal.ts';
import { connectUpstream, UpstreamError, type UpstreamConnection } from './upstream.ts';
import { ExpectationQueue, expectBind, expectClose, expectDescribeStatement, expectParse, expectSync, type Expectation } from './expectations.ts';
import { newCommandContext, type CommandContext } from './command-context.ts';
import { passThrough, type RowMasker } from './result-masking.ts';
import type { PgResourceState, PgRuntime } from './runtime.ts';
import { parseSearchPathText } from '../../../core/analysis/postgres/search-path.ts';
import type { PgTrackedState } from '../../../core/analysis/postgres/analyse.ts';
import type { PgAnalysis } from '../../../core/analysis/postgres/types.ts';
import type { Decision } from '../../../core/policy/engine.ts';
import { redactSecrets } from '../../../core/analysis/postgres/redact.ts';
import type { EventInput, SessionCounts } from '../../../core/audit/events.ts';
import { isAuthError, type Identity } from '../../auth/jwt-verifier.ts';
import { sessionEndsAt } from '../../auth/session-expiry.ts';
import { parseDuration } from '../../../core/util/duration.ts';
import type { EventBody, EventParts, SessionRecorder } from '../../recorder/wal.ts';

const startupTimeoutMs = 15_000;
/** Startup parameters passed to the server; everything else is dropped, and `options`/`replication` refused. */
const forwardedParameters = new Set(['application_name', 'DateStyle', 'TimeZone', 'IntervalStyle', 'extra_float_digits']);
const refusedParameters = new Set(['options', 'replication']);
/** A statement that fails in every state: forwarded in place of a denied command so the server's transaction ends
 * up exactly where PostgreSQL would put it after an error. */
const poisonSql = 'PORTCULLIS_STATEMENT_DENIED';
const poisonStatementName = 'portcullis_denied';
/** Bounds of an extended-protocol batch held until its Sync/Flush (decided whole, so held whole). */
const maxBatchMessages = 10_000;
const maxBatchBytes = 64 * 1024 * 1024;

type ClientSocket = Socket | TLSSocket;

interface NamedStatement {
  readonly text: string;
  /** The session state at Parse: PostgreSQL resolves (and re-plans) a prepared statement with the search_path it
   * was prepared under, so re-decisions use it too. */
  readonly state: PgTrackedState;
}
interface Portal {
  readonly statement: string;
  readonly text: string;
  readonly state: PgTrackedState;
  masker?: RowMasker;
}

interface BatchMessage {
  readonly type: number;
  /** The message's bytes: `start`..`end` of `buffer` (the reader never reuses a chunk, so this stays valid). */
  readonly buffer: Buffer;
  readonly start: number;
  readonly end: number;
  /** Filled when the batch is decided, so forwarding does not parse the message again: Describe's target and name,
   * Execute's portal. */
  target?: 'S' | 'P';
  name?: string;
}

interface Verdict {
  readonly decision: Decision;
  readonly analysis: PgAnalysis;
  readonly text: string;
  /** The cached decision entry, which also caches the redacted text (redaction parses the statement again). */
  readonly cached?: { redacted?: string; shape?: string; redactsNothing?: boolean; recordedAllow?: EventParts; recordedAllowBytes?: Buffer };
}

export class PgSession {
  readonly id = randomUUID();
  readonly #rt: PgRuntime;
  readonly #client: ClientSocket;
  readonly #creader = new FrontendReader();
  #upstream: UpstreamConnection | undefined;
  #ureader: BackendReader | undefined;
  #rec: SessionRecorder | undefined;
  #identity: Identity | undefined;
  #state: PgTrackedState = { searchPath: ['$user', 'public'], prepared: new Map() };
  #tx: TransactionStatus = 'I';
  #statements = new Map<string, NamedStatement>();
  #portals = new Map<string, Portal>();
  #batch: BatchMessage[] = [];
  readonly #journal = new MapJournal();
  /** The last statement text a Parse carried: a client repeating it is not decoded again (see cstringMemo). */
  readonly #queryMemo: StringMemo = { bytes: undefined, text: '' };
  #batchBytes = 0;
  readonly #expect = new ExpectationQueue();
  /** The server skips everything until Sync after an error in the extended protocol. */
  #serverSkipping = false;
  #clientBusy = false;
  #serverBusy = false;
  #upstreamBackpressure = false;
  #clientBackpressure = false;
  #closed = false;
  #cancelPid = 0;
  #expiryTimer: NodeJS.Timeout | undefined;
  #drainWaiters: Array<() => void> = [];
  readonly #counts: SessionCounts = { commands: 0, allowed: 0, denied: 0, approved: 0, masked: 0 };

  readonly #decideTimer: { observe(v: number): void };

  constructor(rt: PgRuntime, client: ClientSocket) {
    this.#rt = rt;
    // Bound once: labelling a histogram per observation costs more than the decision itself on a cache hit.
    this.#decideTimer = rt.metrics.decideSeconds.labels({ resource: rt.resourceName });
    this.#client = client;
    client.setNoDelay(true);
  }

  async run(): Promise<void> {
    const client = this.#client;
    client.on('error', () => this.#close('client connection error'));
    client.on('close', () => this.#close('client disconnected'));
    const pump = new MessagePump(client, this.#creader);
    let started: { params: Map<string, string>; token: string } | undefined;
    try {
      started = await this.#startup(pump);
    } catch (e) {
      pump.detach();
      this.#fatal(e instanceof ProtocolError ? '08P01' : '08006', `portcullis: ${(e as Error).message}`);
      return;
    }
    pump.detach();
    if (!started) return;
    await this.#login(started.params, started.token);
  }

  // ---- startup and login -------------------------------------------------------------------------------------

  async #startup(pump: MessagePump): Promise<{ params: Map<string, string>; token: string } | undefined> {
    for (;;) {
      const type = await pump.next(startupTimeoutMs);
      if (type !== UNTYPED) throw new ProtocolError('expected a startup packet');
      const msg = parseStartupPhase(this.#creader.body);
      if (msg.kind === 'SSLRequest' || msg.kind === 'GSSENCRequest') {
        // The agent talks to the sidecar over the pod's loopback: no TLS or GSS encryption on this leg.
        this.#client.write('N');
        continue;
      }
      if (msg.kind === 'CancelRequest') {
        await this.#rt.cancels.cancel(msg.processId, msg.secretKey);
        this.#client.end();
        this.#closed = true;
        return undefined;
      }
      for (const name of msg.parameters.keys()) {
        if (refusedParameters.has(name)) throw new ProtocolError(`startup parameter "${name}" is not allowed through portcullis`);
      }
      if (!msg.parameters.get('user')) throw new ProtocolError('no PostgreSQL user name specified in startup packet');
      // Protocol 3.x newer than 3.0, or protocol options (_pq_.*): answer as a 3.0 server that knows none of them,
      // so the client falls back instead of assuming features the session does not offer.
      const options = [...msg.parameters.keys()].filter((k) => k.startsWith('_pq_.'));
      if (msg.minor > 0 || options.length > 0) {
        this.#client.write(buildNegotiateProtocolVersion(0, options));
        for (const o of options) msg.parameters.delete(o);
      }
      const enc = msg.parameters.get('client_encoding');
      if (enc !== undefined && !/^(utf-?8|unicode|auto)$/i.test(enc)) {
        throw new ProtocolError(`client_encoding ${enc} is not supported: portcullis sessions use UTF8`);
      }
      this.#client.write(buildAuthenticationCleartextPassword());
      const t = await pump.next(startupTimeoutMs);
      if (t !== FrontendType.AuthResponse) throw new ProtocolError('expected a password message carrying the agent token');
      const { password } = parsePasswordMessage(this.#creader.body);
      return { params: msg.parameters, token: password };
    }
  }

  async #login(params: Map<string, string>, token: string): Promise<void> {
    const rt = this.#rt;
    const st = rt.current();
    if (!st) {
      this.#fatal('57P03', 'portcullis: no valid policy bundle is loaded; refusing connections');
      return;
    }
    try {
      this.#identity = await st.verifier.verify(token);
    } catch (e) {
      rt.metrics.sessionsTotal.inc({ resource: rt.resourceName, result: 'unauthenticated' });
      const reason = isAuthError(e) ? e.reason : 'token verification failed';
      rt.log.info({ session: this.id, reason }, 'agent authentication failed');
      this.#fatal('28P01', `portcullis: authentication failed: ${reason}`);
      return;
    }
    const identity = this.#identity;
    const clientInfo: Record<string, string> = {};
    for (const k of ['user', 'database', 'application_name']) {
      const v = params.get(k);
      if (v !== undefined) clientInfo[k] = v;
    }
    try {
      this.#rec = rt.recorder.session(this.id);
      this.#rec.record({
        type: 'session.start',
        resource: rt.resourceName,
        protocol: 'postgres',
        subject: identity.subject,
        issuer: identity.issuer,
        groups: identity.groups,
        ...(rt.pod ? { pod: rt.pod.name, namespace: rt.pod.namespace } : {}),
        client: clientInfo,
        bundle: st.bundle.hash,
      });
    } catch (e) {
      this.#fatal('53400', `portcullis: ${(e as Error).message}`);
      return;
    }
    const upstreamParams = new Map<string, string>();
    for (const [k, v] of params) if (forwardedParameters.has(k)) upstreamParams.set(k, v);
    if (params.has('database')) upstreamParams.set('database', params.get('database')!);
    upstreamParams.set('client_encoding', 'UTF8');
    upstreamParams.set('standard_conforming_strings', 'on');
    let up: UpstreamConnection;
    try {
      up = await connectUpstream(st.target, st.credentials, upstreamParams);
    } catch (e) {
      const code = e instanceof UpstreamError ? e.code : '08006';
      rt.log.warn({ session: this.id, err: (e as Error).message }, 'upstream connection failed');
      this.#fatal(code, `portcullis: ${(e as Error).message}`);
      this.#end('upstream connection failed');
      return;
    }
    if (this.#closed) {
      up.socket.destroy();
      this.#end('client disconnected during login');
      return;
    }
    const enc = up.parameters.get('client_encoding');
    const scs = up.parameters.get('standard_conforming_strings');
    if (enc !== 'UTF8' || scs !== 'on') {
      up.socket.destroy();
      this.#fatal('08006', `portcullis: the server did not accept client_encoding UTF8 / standard_conforming_strings on`);
      this.#end('server settings');
      return;
    }
    this.#upstream = up;
    this.#ureader = up.reader;
    this.#tx = up.status;
    const user = st.credentials.username;
    this.#state = { searchPath: ['$user', 'public'], prepared: new Map(), user };
    const key = rt.cancels.register(st.target, up.processId, up.secretKey);
    this.#cancelPid = key.pid;
    rt.metrics.sessions.inc({ resource: rt.resourceName });
    rt.metrics.sessionsTotal.inc({ resource: rt.resourceName, result: 'authenticated' });
    const ends = sessionEndsAt(identity, st.sessionGrace);
    const remaining = ends.getTime() - Date.now();
    this.#expiryTimer = setTimeout(() => {
      this.#fatal('57P01', 'portcullis: the agent token has expired; reconnect with a fresh token');
      this.#close('token expired');
    }, Math.max(0, Math.min(remaining, 2 ** 31 - 1)));
    this.#expiryTimer.unref();

    const c = this.#client;
    c.cork();
    c.write(buildAuthenticationOk());
    for (const f of up.parameterFrames) c.write(f);
    c.write(buildBackendKeyData(key.pid, key.key));
    c.write(buildReadyForQuery(up.status));
    c.uncork();

    // Learn the real search_path before the first statement is decided.
    this.#refreshSearchPath();

    const s = up.socket;
    s.on('data', (chunk: Buffer) => {
      this.#ureader!.push(chunk);
      this.#pumpServer();
    });
    s.on('error', (e) => {
      rt.log.warn({ session: this.id, err: e.message }, 'upstream error');
      this.#close('server connection error');
    });
    s.on('close', () => this.#close('server closed the connection'));
    s.on('drain', () => {
      this.#upstreamBackpressure = false;
      this.#flow();
    });
    c.on('drain', () => {
      this.#clientBackpressure = false;
      this.#flow();
    });
    c.on('data', (chunk: Buffer) => {
      this.#creader.push(chunk);
      this.#pumpClient();
    });
    // Anything the agent pipelined behind its password is already buffered.
    this.#pumpClient();
    this.#pumpServer();
  }

  // ---- flow control ------------------------------------------------------------------------------------------

  #flow(): void {
    const up = this.#upstream?.socket;
    if (this.#clientBusy || this.#upstreamBackpressure) this.#client.pause();
    else this.#client.resume();
    if (up) {
      if (this.#serverBusy || this.#clientBackpressure) up.pause();
      else up.resume();
    }
    if (!this.#clientBusy) this.#pumpClient();
    if (!this.#serverBusy) this.#pumpServer();
  }

  #toServer(buf: Buffer): void {
    this.#serverOut.add(buf);
  }

  #toClient(buf: Buffer): void {
    this.#clientOut.add(buf);
  }

  /** Forwards the server's current message unchanged (a range of its socket chunk, no view made). */
  #passToClient(): void {
    const r = this.#ureader!;
    this.#clientOut.addRange(r.buffer, r.frameStart, r.end);
  }

  readonly #serverOut = new CoalescingWriter((buf) => {
    if (this.#closed || !this.#upstream) return;
    if (!this.#upstream.socket.write(buf)) {
      this.#upstreamBackpressure = true;
      this.#client.pause();
    }
  });

  readonly #clientOut = new CoalescingWriter((buf) => {
    if (this.#client.destroyed) return;
    if (!this.#client.write(buf)) {
      this.#clientBackpressure = true;
      this.#upstream?.socket.pause();
    }
  });

  // ---- agent → server ----------------------------------------------------------------------------------------

  #pumpClient(): void {
    if (this.#closed || !this.#upstream) return;
    const r = this.#creader;
    // Everything this read produces leaves as one write when the loop ends.
    this.#serverOut.hold();
    try {
      while (!this.#clientBusy && !this.#closed) {
        const type = r.next();
        if (type === NO_MESSAGE) break;
        this.#onClientMessage(type);
      }
    } catch (e) {
      this.#protocolFailure(e);
    } finally {
      this.#serverOut.release();
    }
  }

  #onClientMessage(type: number): void {
    const r = this.#creader;
    switch (type) {
      case FrontendType.Query:
        this.#flushPendingBatch();
        this.#onQuery(parseQuery(r.body).query, r.frame);
        return;
      case FrontendType.Parse:
      case FrontendType.Bind:
      case FrontendType.Describe:
      case FrontendType.Execute:
      case FrontendType.Close:
        // The reader never reuses a chunk, so a frame view stays valid while the batch waits for its Sync. A batch is
        // held whole until it is decided, so it is bounded: no client pipelines this much without a Sync or Flush.
        this.#batchBytes += r.end - r.frameStart;
        if (this.#batch.length >= maxBatchMessages || this.#batchBytes > maxBatchBytes) {
          throw new ProtocolError(`more than ${maxBatchMessages} messages or ${maxBatchBytes >> 20} MiB without Sync or Flush`);
        }
        this.#batch.push({ type, buffer: r.buffer, start: r.frameStart, end: r.end });
        return;
      case FrontendType.Sync:
        this.#batch.push({ type, buffer: r.buffer, start: r.frameStart, end: r.end });
        this.#onBatch(true);
        return;
      case FrontendType.Flush:
        this.#batch.push({ type, buffer: r.buffer, start: r.frameStart, end: r.end });
        this.#onBatch(false);
        return;
      case FrontendType.CopyData:
      case FrontendType.CopyDone:
      case FrontendType.CopyFail:
        // COPY … FROM STDIN data: the statement was decided; the server ignores these outside COPY.
        this.#serverOut.addRange(r.buffer, r.frameStart, r.end);
        return;
      case FrontendType.FunctionCall:
        this.#flushPendingBatch();
        this.#deny('FunctionCall', undefined, { action: 'deny', reasons: ['the FunctionCall protocol message is not allowed through portcullis'] }, 'query');
        return;
      case FrontendType.Terminate:
        this.#toServer(r.frame);
        this.#close('client terminated');
        return;
      default:
        throw new ProtocolError(`unexpected message type ${String.fromCharCode(type)} from the client`);
    }
  }

  #decide(text: string, st: PgResourceState, state: PgTrackedState = this.#state): Verdict {
    const t0 = performance.now();
    const cached = st.decider.decide(text, state);
    this.#decideTimer.observe((performance.now() - t0) / 1000);
    return { decision: cached.decision, analysis: cached.analysis as PgAnalysis, text, cached };
  }

  /**
   * #decide for the messages of one batch: Parse, Bind and Execute of a statement ask about the same text in the
   * same state, and the answer cannot change within the batch (it is decided synchronously, under one bundle).
   */
  #decideInBatch(text: string, st: PgResourceState, state: PgTrackedState): Verdict {
    if (text === this.#memoText && state === this.#memoState && this.#memoVerdict !== undefined) return this.#memoVerdict;
    const v = this.#decide(text, st, state);
    this.#memoText = text;
    this.#memoState = state;
    this.#memoVerdict = v;
    return v;
  }

  #memoText: string | undefined;
  #memoState: PgTrackedState | undefined;
  #memoVerdict: Verdict | undefined;

  #onQuery(text: string, frame: Buffer): void {
    const st = this.#rt.current();
    if (!st) return this.#deny(text, undefined, { action: 'deny', reasons: ['no valid policy bundle is loaded'] }, 'query');
    const v = this.#decide(text, st);
    if (v.analysis.statementCount === 0 && !v.analysis.error) {
      // An empty query: nothing runs; the server answers EmptyQueryResponse.
      const cmd = this.#recordCommand(v, true);
      if (!cmd) return;
      this.#expect.push({ k: 'query', command: cmd });
      this.#toServer(frame);
      return;
    }
    const strict = this.#strictViolation(st, v);
    const decision = strict ? { action: 'deny' as const, reasons: [...v.decision.reasons, strict] } : v.decision;
    if (decision.action === 'deny') return this.#deny(text, v.analysis, decision, 'query');
    if (decision.action === 'approve') {
      this.#hold(st, { ...v, decision }, () => this.#forwardQuery(v, frame, true), (d, approval) => this.#deny(text, v.analysis, d, 'query', approval));
      return;
    }
    this.#forwardQuery(v, frame, false);
  }

  #strictViolation(st: PgResourceState, v: Verdict, stateBefore: PgTrackedState = this.#state): string | undefined {
    if (!st.planner.strictViolation) return undefined;
    return st.planner.strictViolation({ command: newCommandContext(0, v.text, v.analysis), stateBefore });
  }

  #forwardQuery(v: Verdict, frame: Buffer, approved: boolean): void {
    const cmd = this.#recordCommand(v, true, approved, this.#pendingApproval);
    if (!cmd) return;
    this.#rt.current()?.planner.forwarded?.(this, cmd, this.#state);
    this.#expect.push({ k: 'query', command: cmd });
    this.#toServer(frame);
    // On record: sent now unless more from the agent waits in this read (see #forwardBatch).
    if (this.#creader.buffered === 0) this.#serverOut.flush();
    this.#afterForward(v.analysis);
  }

  /** Applies what the forwarded command does to the session state; re-reads search_path when it may drift. */
  #afterForward(analysis: PgAnalysis, decidedIn: PgTrackedState = this.#state): void {
    // Only a statement that changed the state moves it (a prepared statement was decided in its Parse-time state,
    // which must not overwrite what happened since).
    if (analysis.stateAfter !== decidedIn) this.#state = analysis.stateAfter as PgTrackedState;
    const effects = forwardEffects(analysis.parts);
    const refresh = (effects & mayChangeSearchPath) !== 0;
    if ((effects & changesSchema) !== 0) {
      const st = this.#rt.current();
      st?.planner.invalidate();
      st?.decider.clear();
    }
    if (refresh) this.#refreshSearchPath();
  }

  /**
   * Asks the server for its search_path after anything that may have changed it (SET, RESET, DO, CALL, role changes,
   * transaction ends that undo SET LOCAL, errors), and holds the agent's next statement until the answer is in:
   * names are then resolved exactly as the server will resolve them.
   */
  #refreshSearchPath(): void {
    const cmd = this.#internalCommand('SHOW search_path');
    cmd.onRow = (body) => {
      const value = firstColumnText(body);
      const path = value === undefined ? undefined : parseSearchPathText(value);
      const { searchPathUnknown: _u, ...rest } = this.#state;
      this.#state = path
        ? { ...rest, searchPath: path, resetSearchPath: this.#state.resetSearchPath ?? path }
        : { ...rest, searchPathUnknown: `the server reported a search_path portcullis cannot read: ${value}` };
    };
    // Inside an aborted transaction the server answers every query with an error: the path is then unknown (names
    // that need it are unanalysable) until the transaction ends, which triggers another re-read.
    cmd.onError = () => {
      this.#state = { ...this.#state, searchPathUnknown: 'the search_path could not be read back from the server' };
    };
    this.#expect.push({ k: 'query', command: cmd });
    this.#toServer(buildQuery('SHOW search_path'));
    this.#setClientBusy(true);
    void this.#drained().then(() => this.#setClientBusy(false));
  }

  #internalCommand(text: string): CommandContext {
    const c = newCommandContext(-1, text, { parts: [], statementCount: 1, stateAfter: this.#state });
    return c;
  }

  #setClientBusy(busy: boolean): void {
    this.#clientBusy = busy;
    this.#flow();
  }

  /** Resolves once every expected server answer has arrived. */
  #drained(): Promise<void> {
    if (this.#expect.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Records the command before anything is forwarded; a full audit buffer refuses it instead (fail closed). */
  #recordCommand(
    v: Verdict,
    forwarded: boolean,
    approved = false,
    approval?: { id: string; outcome: 'approved' | 'denied' | 'expired'; by?: string; reason?: string },
    mode: 'query' | 'sync' | 'flush' = 'query',
  ): CommandContext | undefined {
    let seq: number;
    try {
      seq = this.#rec!.recordBody(this.#commandRecord(v, forwarded, approved, approval));
    } catch (e) {
      this.#rt.log.error({ session: this.id, err: (e as Error).message }, 'cannot record command');
      if (forwarded) {
        this.#denyUnrecorded((e as Error).message, mode);
        return undefined;
      }
      return newCommandContext(0, v.text, v.analysis);
    }
    return this.#countCommand(v, forwarded, approved, seq);
  }

  /** The command's record: JSON text, or its UTF-8 bytes when the same record was made before. */
  #commandRecord(v: Verdict, forwarded: boolean, approved: boolean, approval?: { id: string; outcome: 'approved' | 'denied' | 'expired'; by?: string; reason?: string }): EventBody {
    const d = v.decision;
    const c = v.cached;
    if (forwarded && !approved && approval === undefined && d.action === 'allow') {
      const known = c?.recordedAllow;
      if (known !== undefined && c !== undefined) {
        // A statement seen before under the same cache entry: its record is the same bytes every time. (Entries
        // made per statement by a shape hit never get here; only cached ones are asked twice.)
        return (c.recordedAllowBytes ??= recordBytes(known));
      }
      // Statements of one shape share their decision: everything after the text is serialised once per decision.
      const body = allowedCommandRecord(redacted(v), d);
      if (c !== undefined) c.recordedAllow = body;
      return body;
    }
    return JSON.stringify({
      type: 'command',
      command: redacted(v),
      action: approved ? 'approve' : d.action,
      ...(d.rule ? { rule: d.rule } : {}),
      ...(d.policy ? { policy: d.policy } : {}),
      reasons: d.reasons,
      ...(approval ? { approval } : {}),
      forwarded,
    } satisfies EventInput);
  }

  /** Counts a recorded command and opens its context. */
  #countCommand(v: Verdict, forwarded: boolean, approved: boolean, seq: number): CommandContext {
    this.#counts.commands++;
    if (!forwarded) this.#counts.denied++;
    else if (approved) this.#counts.approved++;
    else this.#counts.allowed++;
    this.#decisionCounter(forwarded ? (approved ? 'approve' : 'allow') : 'deny', v.decision.rule ?? '').inc();
    return newCommandContext(seq, v.text, v.analysis, v.cached?.shape);
  }

  /** The labelled counter for one action and rule, bound once per session: labelling per increment hashes the
   * label set every time. */
  #decisionCounter(action: 'allow' | 'approve' | 'deny', rule: string): { inc(): void } {
    const byRule = this.#decisionCounters[action];
    let c = byRule.get(rule);
    if (c === undefined) {
      c = this.#rt.metrics.decisionCounts.cell({ resource: this.#rt.resourceName, action, rule });
      byRule.set(rule, c);
    }
    return c;
  }

  readonly #decisionCounters = { allow: new Map<string, { inc(): void }>(), approve: new Map<string, { inc(): void }>(), deny: new Map<string, { inc(): void }>() };

  /** A command that could not be recorded is not run (failureMode closed): refused like a denial, in its protocol. */
  #denyUnrecorded(reason: string, mode: 'query' | 'sync' | 'flush'): void {
    this.#sendDenial(buildErrorResponse({ severity: 'ERROR', code: '53400', message: `portcullis: ${reason}`, detail: 'the command was not run because it could not be recorded' }), mode);
  }

  /**
   * Answers a denied command as PostgreSQL answers an error: the server gets a statement that is guaranteed to fail
   * (so an open transaction is aborted, exactly as the agent now believes), and its error is replaced by ours.
   */
  #deny(text: string, analysis: PgAnalysis | undefined, decision: Decision, mode: 'query' | 'sync' | 'flush', approval?: { id: string; outcome: 'denied' | 'expired'; by?: string; reason?: string }): void {
    // A held command that was refused is recorded as a denial, with how its approval ended.
    const final: Decision = decision.action === 'deny' ? decision : { ...decision, action: 'deny' };
    const v: Verdict = { decision: final, analysis: analysis ?? { parts: [], statementCount: 0, stateAfter: this.#state }, text };
    this.#recordCommand(v, false, false, approval);
    const rule = decision.rule ? `rule "${decision.rule}"${decision.policy ? ` of ${decision.policy}` : ''}` : 'policy';
    const message = approval?.outcome === 'expired'
        ? approval.reason
          ? `portcullis: the statement needs approval, but ${approval.reason} (${rule})`
          : `portcullis: approval ${approval.id} expired without a decision (${rule})`
        : approval?.outcome === 'denied'
          ? `portcullis: approval ${approval.id} was denied${approval.by ? ` by ${approval.by}` : ''} (${rule})`
          : decision.message
            ? `portcullis: ${decision.message} (${rule})`
            : `portcullis: statement denied by ${rule}`;
    const err = buildErrorResponse({
      severity: 'ERROR',
      code: '42501',
      message,
      detail: decision.reasons.slice(0, 8).join('\n'),
      ...(decision.rule ? { hint: `denied by rule ${decision.rule}` } : {}),
    });
    this.#sendDenial(err, mode);
  }

  #sendDenial(err: Buffer, mode: 'query' | 'sync' | 'flush'): void {
    this.#expect.push({ k: 'poison', error: err });
    if (mode === 'query') {
      this.#expect.push(expectSync);
      this.#toServer(buildQuery(poisonSql));
      // A simple Query drops the unnamed statement on the server, as the agent's own query would have.
      this.#statements.delete('');
    } else {
      this.#toServer(buildParse(poisonStatementName, poisonSql));
      if (mode === 'sync') {
        this.#expect.push(expectSync);
        this.#toServer(buildSync());
      } else {
        this.#toServer(buildFlushFrame);
      }
    }
  }

  /** Holds a command for approval: waits for the server to finish what came before, asks, then runs or denies. */
  #hold(st: PgResourceState, v: Verdict, run: () => void, refuse: (d: Decision, approval: { id: string; outcome: 'denied' | 'expired'; by?: string; reason?: string }) => void): void {
    this.#setClientBusy(true);
    const policy = v.decision.policy ? st.policy(v.decision.policy) : undefined;
    const approval = policy?.approval;
    if (!approval) {
      this.#setClientBusy(false);
      refuse({ ...v.decision, action: 'deny' }, { id: '-', outcome: 'expired', reason: 'the policy names no approvers' });
      return;
    }
    const fingerprint = createHash('sha256').update(v.text).digest('hex');
    const windowMs = parseDuration(approval.grantWindow);
    const grantKey = GrantWindow.key(this.#identity!.subject, this.#rt.pod?.name ?? '', fingerprint, `${v.decision.policy}/${v.decision.rule}`);
    const grant = windowMs > 0 ? this.#rt.grants?.get(grantKey) : undefined;
    if (grant) {
      // Approved before, within the policy's grant window: the same statement from the same subject and pod runs.
      this.#clientBusy = false;
      this.#pendingApproval = { id: grant.id, outcome: 'approved', by: grant.by, reason: `within the grant window of ${grant.id}` };
      try {
        run();
      } finally {
        this.#pendingApproval = undefined;
      }
      this.#flow();
      return;
    }
    void this.#drained().then(async () => {
      const started = Date.now();
      const pending = this.#rt.approvals.request({
        policy: v.decision.policy!,
        rule: v.decision.rule ?? '',
        resource: this.#rt.resourceName,
        session: this.id,
        ...(this.#rt.pod ? { pod: this.#rt.pod.name } : {}),
        requester: this.#identity!.subject,
        command: redacted(v),
        // The request shows the redacted text; the fingerprint identifies the exact statement without carrying it.
        fingerprint,
        timeoutMs: parseDuration(approval.timeout),
        approvers: { users: approval.users, groups: approval.groups },
      });
      this.#toClient(buildNoticeResponse({
        severity: 'NOTICE',
        code: '00000',
        message: `portcullis: held for approval ${pending.id} (rule "${v.decision.rule}"): waiting for ${[...approval.users, ...approval.groups.map((g) => `group ${g}`)].join(', ')}`,
        hint: this.#rt.approvalHint?.(pending.id) ?? `approve with: kubectl portcullis approve ${pending.id}`,
      }));
      this.#heldApproval = pending.id;
      const outcome = await pending.result;
      this.#heldApproval = undefined;
      this.#rt.metrics.approvalWaitSeconds.observe({ resource: this.#rt.resourceName, outcome: outcome.outcome }, (Date.now() - started) / 1000);
      if (this.#closed) return;
      this.#clientBusy = false;
      this.#serverOut.hold();
      try {
        if (outcome.outcome === 'approved') {
          if (windowMs > 0) this.#rt.grants?.put(grantKey, { until: Date.now() + windowMs, id: pending.id, by: outcome.by });
          this.#pendingApproval = { id: pending.id, outcome: 'approved', by: outcome.by, ...(outcome.reason ? { reason: outcome.reason } : {}) };
          run();
        } else {
          refuse(v.decision, {
            id: pending.id,
            outcome: outcome.outcome,
            ...(outcome.outcome === 'denied' ? { by: outcome.by } : {}),
            ...(outcome.reason ? { reason: outcome.reason } : {}),
          });
        }
      } finally {
        this.#pendingApproval = undefined;
        this.#serverOut.release();
      }
      this.#flow();
    });
  }

  #pendingApproval: { id: string; outcome: 'approved'; by: string; reason?: string } | undefined;
  /** The approval this session is waiting for: withdrawn if the agent goes away, so nobody approves a ghost. */
  #heldApproval: string | undefined;

  // ---- extended protocol: decide the whole batch up to Sync (or Flush) before forwarding any of it -------------

  /** A simple Query or FunctionCall after unsynced extended messages: decide and forward those first. */
  #flushPendingBatch(): void {
    if (this.#batch.length > 0) this.#onBatch(false);
  }

  #onBatch(sync: boolean): void {
    const batch = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    const st = this.#rt.current();
    const mode = sync ? 'sync' : 'flush';
    if (!st) {
      this.#deny('(extended protocol batch)', undefined, { action: 'deny', reasons: ['no valid policy bundle is loaded'] }, mode);
      return;
    }
    this.#memoText = undefined;
    // The batch changes the session's statements and portals as it goes (later messages see earlier ones), through
    // the journal: undone unless the batch is forwarded.
    const statements = this.#statements;
    const portals = this.#portals;
    const journal = this.#journal;
    let state = this.#state;
    let worst: Verdict | undefined;
    const executes: Array<{ portal: string; verdict: Verdict; state: PgTrackedState }> = [];
    try {
      for (const m of batch) {
        // Sync and Flush have no body to read.
        const body = m.type === FrontendType.Sync || m.type === FrontendType.Flush ? EMPTY_BODY : m.buffer.subarray(m.start + 5, m.end);
        switch (m.type) {
          case FrontendType.Parse: {
            const p = parseParse(body, this.#queryMemo);
            const v = this.#decideInBatch(p.query, st, state);
            worst = moreRestrictive(worst, v);
            journal.set(statements, p.name, { text: p.query, state });
            break;
          }
          case FrontendType.Bind: {
            const b = parseBindTarget(body);
            const s = statements.get(b.statement);
            if (!s) {
              worst = moreRestrictive(worst, { text: `(bind of unknown statement ${JSON.stringify(b.statement)})`, analysis: unanalysed(state), decision: { action: 'deny', reasons: [`prepared statement ${JSON.stringify(b.statement)} is unknown to portcullis`] } });
              break;
            }
            // Re-decided against the current bundle: a tightened policy applies to statements prepared before it.
            const v = this.#decideInBatch(s.text, st, s.state);
            worst = moreRestrictive(worst, v);
            journal.set(portals, b.portal, { statement: b.statement, text: s.text, state: s.state });
            break;
          }
          case FrontendType.Execute: {
            const e = parseExecute(body);
            m.name = e.portal;
            const p = portals.get(e.portal);
            if (!p) {
              worst = moreRestrictive(worst, { text: `(execute of unknown portal ${JSON.stringify(e.portal)})`, analysis: unanalysed(state), decision: { action: 'deny', reasons: [`portal ${JSON.stringify(e.portal)} is unknown to portcullis`] } });
              break;
            }
            const v = this.#decideInBatch(p.text, st, p.state);
            worst = moreRestrictive(worst, v);
            executes.push({ portal: e.portal, verdict: v, state: p.state });
            // A statement that changes session state (SET, PREPARE …) changes it for what follows.
            if (v.analysis.stateAfter !== p.state) state = v.analysis.stateAfter as PgTrackedState;
            break;
          }
          case FrontendType.Close: {
            const c = parseClose(body);
            if (c.target === 'S') journal.delete(statements, c.name);
            else journal.delete(portals, c.name);
            break;
          }
          case FrontendType.Describe: {
            const d = parseDescribe(body);
            m.target = d.target;
            m.name = d.name;
            break;
          }
        }
      }
    } catch (e) {
      journal.rollback();
      this.#protocolFailure(e);
      return;
    }
    for (const x of executes) {
      const strict = this.#strictViolation(st, x.verdict, x.state);
      if (strict) worst = moreRestrictive(worst, { ...x.verdict, decision: { action: 'deny', reasons: [...x.verdict.decision.reasons, strict] } });
    }
    if (!worst || worst.decision.action === 'allow') return this.#forwardBatch(batch, executes, st);
    // Denied or held: the session's maps return to what they were. A held batch waits with them so (answers to
    // earlier commands still arrive) and makes its changes again when it runs.
    const redo = journal.rollback();
    if (worst.decision.action === 'deny') return this.#deny(worst.text, worst.analysis, worst.decision, mode);
    const text = executes.length > 0 ? executes.map((x) => x.verdict.text).join(';\n') : worst.text;
    const forward = () => {
      redo();
      this.#forwardBatch(batch, executes, st);
    };
    this.#hold(st, { ...worst, text }, forward, (d, approval) => this.#deny(text, worst!.analysis, d, mode, approval));
  }

  #forwardBatch(batch: readonly BatchMessage[], executes: Array<{ portal: string; verdict: Verdict; state: PgTrackedState }>, st: PgResourceState): void {
    // Every Execute is recorded before any byte is forwarded, all in one write: either the whole batch is on record
    // as forwarded, or none of it is and the batch is refused (fail closed) — never a record of a command that then
    // did not run.
    const mode = batch[batch.length - 1]?.type === FrontendType.Sync ? 'sync' : 'flush';
    const approved = this.#pendingApproval !== undefined;
    const contexts: CommandContext[] = [];
    if (executes.length > 0) {
      let first: number;
      try {
        const bodies = executes.map((x) => this.#commandRecord(x.verdict, true, approved, this.#pendingApproval));
        first = this.#rec!.recordAll(bodies);
      } catch (e) {
        this.#rt.log.error({ session: this.id, err: (e as Error).message }, 'cannot record command');
        // Refused because it could not be recorded: as if denied, nothing of the batch stays.
        this.#journal.rollback();
        this.#denyUnrecorded((e as Error).message, mode);
        return;
      }
      for (let i = 0; i < executes.length; i++) {
        const cmd = this.#countCommand(executes[i]!.verdict, true, approved, first + i);
        contexts.push(cmd);
        st.planner.forwarded?.(this, cmd, executes[i]!.state);
      }
    }
    this.#journal.commit();
    const portals = this.#portals;
    const needPlan = st.planner.needed;
    let exec = 0;
    let describedPortal: string | undefined;
    for (const m of batch) {
      switch (m.type) {
        case FrontendType.Parse:
          if (!this.#serverSkipping) this.#expect.push(expectParse);
          break;
        case FrontendType.Bind:
          if (!this.#serverSkipping) this.#expect.push(expectBind);
          describedPortal = undefined;
          break;
        case FrontendType.Close:
          if (!this.#serverSkipping) this.#expect.push(expectClose);
          break;
        case FrontendType.Describe: {
          const name = m.name!;
          if (!this.#serverSkipping) {
            if (m.target === 'S') this.#expect.push(expectDescribeStatement);
            else this.#expect.push({ k: 'describe-portal', portal: name, swallow: false });
          }
          if (m.target === 'P') describedPortal = name;
          break;
        }
        case FrontendType.Execute: {
          const name = m.name!;
          const cmd = contexts[exec++]!;
          const portal = portals.get(name);
          // Masking needs the portal's columns: learn them with a Describe the agent did not send (and never sees).
          if (needPlan && portal && portal.masker === undefined && describedPortal !== name) {
            if (!this.#serverSkipping) this.#expect.push({ k: 'describe-portal', portal: name, swallow: true });
            this.#toServer(buildDescribe('P', name));
            describedPortal = name;
          }
          if (!this.#serverSkipping) this.#expect.push({ k: 'execute', portal: name, command: cmd });
          break;
        }
        case FrontendType.Sync:
          this.#serverSkipping = false;
          this.#expect.push(expectSync);
          break;
      }
      this.#serverOut.addRange(m.buffer, m.start, m.end);
    }
    // The batch is on record: when nothing else from the agent is waiting in this read, send it now rather than
    // after the bookkeeping below (a pipelining client's batches still leave together at the end of the read).
    if (this.#creader.buffered === 0) this.#serverOut.flush();
    for (const x of executes) this.#afterForward(x.verdict.analysis, x.state);
  }

  // ---- server → agent ----------------------------------------------------------------------------------------

  #pumpServer(): void {
    if (this.#closed || !this.#ureader) return;
    const r = this.#ureader;
    this.#clientOut.hold();
    this.#serverPumps++;
    try {
      while (!this.#serverBusy && !this.#closed) {
        const type = r.next();
        if (type === NO_MESSAGE) break;
        this.#onServerMessage(type);
      }
    } catch (e) {
      this.#protocolFailure(e);
    } finally {
      this.#clientOut.release();
      if (--this.#serverPumps === 0 && this.#finished.length > 0) {
        for (const cmd of this.#finished) this.#recordResult(cmd);
        this.#finished.length = 0;
      }
    }
    if (this.#expect.length === 0 && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  #onServerMessage(type: number): void {
    const r = this.#ureader!;
    const head = this.#expect.head;
    switch (type) {
      case BackendType.DataRow: {
        const cmd = this.#resultCommand(head);
        if (cmd === undefined) return this.#passToClient();
        if (cmd.onRow) return cmd.onRow(r.body);
        cmd.rows++;
        cmd.bytes += r.end - r.frameStart;
        const m = cmd.masker;
        if (m === undefined || !m.active) return this.#passToClient();
        const out = m.maskRow(r.buffer, r.bodyStart, r.end);
        if (out === undefined) return this.#passToClient();
        cmd.masked += m.lastMasked;
        return this.#toClient(out);
      }
      case BackendType.CopyData: {
        const cmd = this.#resultCommand(head);
        if (cmd === undefined) return this.#passToClient();
        cmd.bytes += r.end - r.frameStart;
        const m = cmd.masker;
        if (m?.maskCopyData) {
          const out = m.maskCopyData(r.body);
          if (out !== undefined) {
            cmd.masked += m.lastMasked;
            return this.#toClient(out);
          }
        }
        return this.#passToClient();
      }
      case BackendType.RowDescription:
        return this.#onRowDescription(head);
      case BackendType.NoData:
        if (head?.k === 'describe-portal' || head?.k === 'describe-statement') {
          this.#expect.shift();
          if (head.k === 'describe-portal') {
            const p = this.#portals.get(head.portal);
            if (p) p.masker = passThrough;
            if (head.swallow) return;
          }
        }
        return this.#passToClient();
      case BackendType.ParameterDescription:
        return this.#passToClient();
      case BackendType.ParseComplete:
      case BackendType.BindComplete:
      case BackendType.CloseComplete:
        this.#expectHead(type === BackendType.ParseComplete ? 'parse' : type === BackendType.BindComplete ? 'bind' : 'close');
        return this.#passToClient();
      case BackendType.CommandComplete:
      case BackendType.EmptyQueryResponse:
      case BackendType.PortalSuspended:
        if (type === BackendType.CommandComplete && (head?.k === 'execute' || head?.k === 'query') && head.command.rows === 0) {
          // INSERT/UPDATE/DELETE/MERGE/COPY report their row count only in the tag.
          head.command.rows = affectedRows(r.buffer, r.bodyStart, r.end);
        }
        if (head?.k === 'execute') {
          this.#finishCommand(head.command);
          this.#expect.shift();
        } else if (head?.k === 'query') {
          // Each statement of a simple Query ends with one of these; the next RowDescription opens the next one's.
          head.command.statementIndex++;
          head.command.masker = undefined;
          if (head.command.seq < 0) return; // internal query: swallowed
        } else {
          throw new ProtocolError(`command completion while expecting ${head?.k ?? 'nothing'}`);
        }
        return this.#passToClient();
      case BackendType.CopyOutResponse:
      case BackendType.CopyInResponse:
      case BackendType.CopyBothResponse:
        return this.#onCopyResponse(type, head);
      case BackendType.CopyDone:
        return this.#passToClient();
      case BackendType.ErrorResponse:
        return this.#onError(head);
      case BackendType.ReadyForQuery: {
        this.#tx = readyStatusIn(r.buffer, r.bodyStart, r.end);
        if (head?.k === 'query') this.#finishCommand(head.command);
        if (head?.k === 'sync' || head?.k === 'query') this.#expect.shift();
        else throw new ProtocolError(`ReadyForQuery while expecting ${head?.k ?? 'nothing'}`);
        if (this.#resyncPending) {
          this.#resyncPending = false;
          this.#refreshSearchPath();
        }
        if (head.k === 'query' && head.command.seq < 0) return;
        return this.#passToClient();
      }
      case BackendType.ParameterStatus: {
        const p = parseParameterStatus(r.body);
        if ((p.name === 'client_encoding' && p.value !== 'UTF8') || (p.name === 'standard_conforming_strings' && p.value !== 'on')) {
          this.#fatal('08P01', `portcullis: the server reported ${p.name}=${p.value}; the session ends because the proxy must read statements as the server does`);
          this.#close('parameter changed');
          return;
        }
        return this.#passToClient();
      }
      case BackendType.NoticeResponse:
        return this.#toClient(this.#maskNotice(r.body, 'NoticeResponse', head) ?? r.frame);
      case BackendType.NotificationResponse:
        return this.#toClient(this.#maskNotification(r.body) ?? r.frame);
      default:
        throw new ProtocolError(`unexpected message type ${String.fromCharCode(type)} from the server`);
    }
  }

  /** The command whose rows are streaming: a simple Query's, or an Execute's (with its portal's masker). */
  #resultCommand(head: Expectation | undefined): CommandContext | undefined {
    if (head?.k === 'query') return head.command;
    if (head?.k !== 'execute') return undefined;
    const cmd = head.command;
    if (cmd.masker === undefined) {
      const m = this.#portals.get(head.portal)?.masker;
      if (m !== undefined) cmd.masker = m;
      else if (this.#rt.current()?.planner.needed) throw new ProtocolError('rows arrived for a portal whose columns are unknown');
    }
    return cmd;
  }

  #expectHead(k: Expectation['k']): void {
    const head = this.#expect.head;
    if (head?.k !== k) throw new ProtocolError(`server answered ${k} while expecting ${head?.k ?? 'nothing'}`);
    this.#expect.shift();
  }

  #onRowDescription(head: Expectation | undefined): void {
    const r = this.#ureader!;
    // The message as a range of its chunk (valid later too: the reader never reuses a chunk), so an unchanged
    // RowDescription extends the run of the messages around it instead of breaking it.
    const buf = r.buffer;
    const start = r.frameStart;
    const end = r.end;
    if (head?.k === 'describe-statement') {
      this.#expect.shift();
      return this.#passToClient();
    }
    const st = this.#rt.current();
    if (head?.k === 'query' && head.command.seq < 0) return; // internal query
    if (!st || !st.planner.needed) {
      if (head?.k === 'describe-portal') {
        this.#expect.shift();
        if (head.swallow) return;
      }
      return this.#passToClient();
    }
    const body = r.body;
    let source: CommandContext | undefined;
    let portal: Portal | undefined;
    if (head?.k === 'describe-portal') {
      portal = this.#portals.get(head.portal);
      const exec = this.#findExecuteFor(head.portal);
      source = exec ?? newCommandContext(0, portal?.text ?? '', this.#decide(portal?.text ?? '', st, portal?.state ?? this.#state).analysis);
    } else if (head?.k === 'query') {
      source = head.command;
    } else {
      throw new ProtocolError(`RowDescription while expecting ${head?.k ?? 'nothing'}`);
    }
    const src = { command: source, statementIndex: source.statementIndex };
    const planned = st.planner.planned?.(body, src) ?? st.planner.plan(parseRowDescription(body).fields, src, body);
    if (!(planned instanceof Promise)) return this.#applyPlan(planned, head, portal, source, buf, start, end);
    const apply = (m: RowMasker) => this.#applyPlan(m, head, portal, source, buf, start, end);
    // The plan needs the catalog: hold the server's stream (not the rows) until it is ready.
    this.#serverBusy = true;
    this.#flow();
    planned.then(
      (m) => {
        this.#clientOut.hold();
        apply(m);
        this.#clientOut.release();
        this.#serverBusy = false;
        this.#flow();
      },
      (e: unknown) => {
        this.#rt.log.error({ session: this.id, err: (e as Error).message }, 'masking plan failed');
        this.#fatal('XX000', 'portcullis: cannot determine which columns to mask; ending the session rather than risk revealing them');
        this.#close('masking plan failed');
      },
    );
  }

  /** Puts a result set's masker in place and forwards its RowDescription (unless the sidecar asked for it). */
  #applyPlan(m: RowMasker, head: Expectation, portal: Portal | undefined, source: CommandContext, buf: Buffer, start: number, end: number): void {
    if (portal) portal.masker = m;
    else source.masker = m;
    if (head.k === 'describe-portal') {
      this.#expect.shift();
      if (head.swallow) return;
    }
    this.#clientOut.addRange(buf, start, end);
  }

  #findExecuteFor(portal: string): CommandContext | undefined {
    // The describe we are answering precedes its Execute in the queue; find that Execute's command.
    return this.#expect.findExecute(portal)?.command;
  }

  #onCopyResponse(type: number, head: Expectation | undefined): void {
    const r = this.#ureader!;
    const st = this.#rt.current();
    const cmd = head?.k === 'query' || head?.k === 'execute' ? head.command : undefined;
    if (type === BackendType.CopyOutResponse && cmd && st?.planner.needed) {
      const resp = parseCopyResponse(r.body, 'CopyOutResponse');
      const planned = st.planner.planCopy({ command: cmd, statementIndex: cmd.statementIndex }, resp.columnFormats.length, resp.overallFormat === 1);
      const frame = r.frame;
      if (!(planned instanceof Promise)) {
        cmd.masker = planned;
        return this.#toClient(frame);
      }
      this.#serverBusy = true;
      this.#flow();
      planned.then(
        (m) => {
          cmd.masker = m;
          this.#toClient(frame);
          this.#serverBusy = false;
          this.#flow();
        },
        () => {
          this.#fatal('XX000', 'portcullis: cannot determine which COPY columns to mask; ending the session');
          this.#close('masking plan failed');
        },
      );
      return;
    }
    return this.#passToClient();
  }

  #onError(head: Expectation | undefined): void {
    const r = this.#ureader!;
    if (head?.k === 'poison') {
      this.#expect.shift();
      this.#dropExtendedUntilSync();
      return this.#toClient(head.error);
    }
    const e = parseErrorFields(r.body, 'ErrorResponse');
    if (e.severity === 'FATAL' || e.severity === 'PANIC') {
      this.#toClient(r.frame);
      this.#close(`server error: ${e.message}`);
      return;
    }
    const cmd = head?.k === 'query' || head?.k === 'execute' ? head.command : undefined;
    if (cmd) {
      cmd.error = `${e.code} ${e.message}`;
      // The analyser assumed the statement succeeds; a failure may leave the tracked search_path ahead of the
      // server's. Re-read it at the next ReadyForQuery.
      if (cmd.analysis.parts.some((p) => stateKinds.has(p.kind))) this.#resyncPending = true;
    }
    const out = this.#maskNotice(r.body, 'ErrorResponse', head) ?? r.frame;
    if (head?.k === 'query') {
      if (head.command.seq < 0) return head.command.onError?.();
      return this.#toClient(out);
    }
    if (head?.k === 'execute') {
      this.#finishCommand(head.command);
      this.#expect.shift();
    }
    this.#dropExtendedUntilSync();
    return this.#toClient(out);
  }

  #resyncPending = false;

  /**
   * Server errors and notices can quote values (`invalid input syntax for type integer: "4111…"`, `Key (email)=(…)
   * already exists`). With masking configured, the detectors run on every text field; for a statement that reads a
   * classified relation, quoted values in the message are redacted and the detail (which repeats row values) is cut.
   * Returns the rebuilt message, or undefined to forward the original.
   */
  #maskNotice(body: Buffer, kind: 'ErrorResponse' | 'NoticeResponse', head: Expectation | undefined): Buffer | undefined {
    const st = this.#rt.current();
    if (!st?.textMasker) return undefined;
    const e = parseErrorFields(body, kind);
    const cmd = head?.k === 'query' || head?.k === 'execute' ? head.command : undefined;
    const classified = cmd?.analysis.parts.some((p) => p.relation !== undefined && st.isClassifiedRelation(p.relation)) ?? false;
    let changed = false;
    const fields = new Map(e.fields);
    for (const [code, value] of e.fields) {
      if (code === 'S' || code === 'V' || code === 'C' || code === 'F' || code === 'L' || code === 'R' || code === 'P' || code === 'p') continue;
      if (classified && (code === 'D' || code === 'q' || code === 'W')) {
        fields.delete(code);
        changed = true;
        continue;
      }
      let v = st.textMasker.scan(value)?.text ?? value;
      if (classified && code === 'M') v = v.replace(/"(?:[^"]|"")*"/g, '"[REDACTED]"').replace(/\((?:[^()]*)\)=\((?:[^()]*)\)/g, '(…)=([REDACTED])');
      if (v !== value) {
        fields.set(code, v);
        changed = true;
      }
    }
    if (!changed) return undefined;
    return kind === 'ErrorResponse' ? buildErrorResponse(fields) : buildNoticeResponse(fields);
  }

  /** Notifications: the payload through the detectors, and this session's own backend shown under the pid the agent
   * knows (the sidecar's BackendKeyData), so clients still recognise their own notifications. */
  #maskNotification(body: Buffer): Buffer | undefined {
    const st = this.#rt.current();
    const n = parseNotificationResponse(body);
    const masked = st?.textMasker?.scan(n.payload);
    const own = n.processId === this.#upstream?.processId;
    if (!masked && !own) return undefined;
    return buildNotificationResponse(own ? this.#cancelPid : n.processId, n.channel, masked?.text ?? n.payload);
  }

  /** After an error in the extended protocol the server skips to Sync; forget what it will not answer. */
  #dropExtendedUntilSync(): void {
    const head = this.#expect.head;
    if (head?.k === 'query' || head?.k === 'sync') return;
    while (this.#expect.head && this.#expect.head.k !== 'sync') {
      const e = this.#expect.shift()!;
      if (e.k === 'execute') {
        e.command.error ??= 'skipped after an earlier error in the same batch';
        this.#finishCommand(e.command);
      }
    }
    if (!this.#expect.head) this.#serverSkipping = true;
  }

  #finishCommand(cmd: CommandContext): void {
    if (cmd.seq <= 0) return;
    cmd.durationMicros = Math.round((performance.now() - cmd.startedAt) * 1000);
    this.#counts.masked += cmd.masked;
    if (cmd.masked > 0) this.#rt.metrics.masked.inc({ resource: this.#rt.resourceName }, cmd.masked);
    // While the server's answer is being relayed, the result is recorded after the agent's bytes are written: the
    // record is not what the agent waits for.
    if (this.#serverPumps > 0) this.#finished.push(cmd);
    else this.#recordResult(cmd);
  }

  #recordResult(cmd: CommandContext): void {
    try {
      // Results may reach the file a moment later (with the next command's write): the command is what had to be
      // recorded before it ran.
      this.#rec?.recordResultLater(cmd.seq, cmd.rows, cmd.bytes, cmd.durationMicros, cmd.masked, cmd.error);
    } catch {
      // A full audit buffer refuses the next command; the result of one already run is lost only from the summary.
    }
  }

  #serverPumps = 0;
  #finished: CommandContext[] = [];


  // ---- endings -----------------------------------------------------------------------------------------------

  #protocolFailure(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.#rt.log.warn({ session: this.id, err: msg }, 'protocol error');
    this.#fatal('08P01', `portcullis: protocol violation: ${msg}`);
    this.#close(`protocol violation: ${msg}`);
  }

  /** Sends a FATAL error to the agent and closes its connection (pre-query-phase or unrecoverable). */
  #fatal(code: string, message: string): void {
    if (this.#client.destroyed) return;
    this.#clientOut.flush();
    this.#client.end(buildErrorResponse({ severity: 'FATAL', code, message }));
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#expiryTimer);
    if (this.#cancelPid) this.#rt.cancels.unregister(this.#cancelPid);
    if (this.#heldApproval) this.#rt.approvals.withdraw?.(this.#heldApproval);
    if (this.#upstream) {
      this.#rt.metrics.sessions.dec({ resource: this.#rt.resourceName });
      this.#upstream.socket.destroy();
    }
    if (!this.#client.destroyed) this.#client.end();
    this.#end(reason);
    for (const w of this.#drainWaiters) w();
    this.#drainWaiters = [];
  }

  #end(reason: string): void {
    if (!this.#rec || this.#ended) return;
    this.#ended = true;
    // Results still waiting for the end of a read go first: the session's end is its last line.
    for (const cmd of this.#finished) this.#recordResult(cmd);
    this.#finished.length = 0;
    try {
      this.#rec.record({ type: 'session.end', reason, counts: { ...this.#counts } });
      this.#rec.sync();
    } catch (e) {
      this.#rt.log.error({ session: this.id, err: (e as Error).message }, 'cannot record session end');
    }
  }

  #ended = false;
}

const buildFlushFrame = Buffer.from([0x48, 0, 0, 0, 4]);
const EMPTY_BODY = Buffer.alloc(0);
const mayChangeSearchPath = 1;
const changesSchema = 2;
/** What running these parts may change, per parts list (shared by every command of a cached decision or shape). */
const effectsOf = new WeakMap<PgAnalysis['parts'], number>();
function forwardEffects(parts: PgAnalysis['parts']): number {
  let e = effectsOf.get(parts);
  if (e === undefined) {
    e = 0;
    for (const p of parts) {
      if (p.kind === 'set' || p.kind === 'set_role' || p.kind === 'do' || p.kind === 'call' || p.kind === 'transaction' || p.kind === 'discard') e |= mayChangeSearchPath;
      if (p.kind.startsWith('create_') || p.kind.startsWith('alter_') || p.kind.startsWith('drop_') || p.kind === 'comment') e |= changesSchema;
      if (p.functions.some((f) => f.name === 'set_config')) e |= mayChangeSearchPath;
    }
    effectsOf.set(parts, e);
  }
  return e;
}

/** How restrictive an action is: a batch takes its most restrictive statement's. */
const rank = { allow: 0, approve: 1, deny: 2 } as const;

/** The more restrictive of the batch's verdict so far and `v`. An empty statement runs nothing (the server answers
 * EmptyQueryResponse): it has nothing to decide and never counts. */
function moreRestrictive(worst: Verdict | undefined, v: Verdict): Verdict | undefined {
  if (v.analysis.statementCount === 0 && v.analysis.error === undefined && v.analysis.forbidden === undefined) return worst;
  return !worst || rank[v.decision.action] > rank[worst.decision.action] ? v : worst;
}
/** Statement kinds after whose failure the tracked session state may be ahead of the server's. */
const stateKinds = new Set(['set', 'set_role', 'transaction', 'do', 'call', 'discard', 'prepare', 'deallocate']);

/** The trailing number of a CommandComplete tag ("UPDATE 3", "INSERT 0 3"), 0 when there is none. */
function affectedRows(buf: Buffer, start: number, end: number): number {
  let i = end - 1;
  if (buf[i] === 0) i--;
  let n = 0;
  let scale = 1;
  while (i >= start && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
    n += (buf[i]! - 0x30) * scale;
    scale *= 10;
    i--;
  }
  return i >= start && buf[i] === 0x20 ? n : 0;
}

function firstColumnText(body: Buffer): string | undefined {
  if (body.length < 6 || body.readInt16BE(0) < 1) return undefined;
  const len = body.readInt32BE(2);
  return len < 0 ? undefined : body.toString('utf8', 6, 6 + len);
}

/** The statement as it may be recorded, computed once per distinct statement (kept in the decision cache). */
function redacted(v: Verdict): string {
  // Redaction only replaces string literals; every literal form (', E'', U&'', $$) needs a quote or a dollar sign,
  // so text without either is recorded as it is, without parsing it a second time.
  if (!v.text.includes("'") && !v.text.includes('$')) return v.text;
  const c = v.cached;
  if (c === undefined) return redactSecrets(v.text);
  if (c.redactsNothing) return v.text;
  if (c.redacted === undefined) {
    c.redacted = redactSecrets(v.text);
    if (c.redacted === v.text) c.redactsNothing = true;
  }
  return c.redacted;
}

function unanalysed(state: PgTrackedState): PgAnalysis {
  return { parts: [], statementCount: 0, stateAfter: state, error: 'unknown statement or portal' };
}

/** The value of `SHOW search_path` as the schema list the analyser expects. */
export function searchPathFromShow(value: string): string[] | undefined {
  return parseSearchPathText(value);
}
