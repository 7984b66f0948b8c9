// What a PostgreSQL session needs from the sidecar around it. `current()` is read per command, so a bundle reload
// applies to the next statement of every open session (and named statements are re-decided at Bind).
import type { Logger } from 'pino';
import type { Bundle, BundlePolicy, BundleResource } from '../../../core/policy/bundle.ts';
import type { Masker } from '../../../core/masking/masker.ts';
import type { Engine } from '../../../core/policy/engine.ts';
import type { SqlDecider } from '../../../core/policy/sql-decider.ts';
import type { PgTrackedState } from '../../../core/analysis/postgres/analyse.ts';
import type { Verifier } from '../../auth/jwt-verifier.ts';
import type { Recorder } from '../../recorder/wal.ts';
import type { ApprovalBackend } from '../../approvals/backend.ts';
import type { Metrics } from '../../metrics.ts';
import type { CancelRegistry } from './cancel-registry.ts';
import type { GrantWindow } from '../../approvals/grants.ts';
import type { ResultPlanner } from './result-masking.ts';
import type { UpstreamCredentials, UpstreamTarget } from './upstream.ts';

export interface PgResourceState {
  readonly bundle: Bundle;
  readonly engine: Engine;
  readonly resource: BundleResource;
  readonly decider: SqlDecider<PgTrackedState>;
  readonly target: UpstreamTarget;
  readonly credentials: UpstreamCredentials;
  readonly planner: ResultPlanner;
  readonly verifier: Verifier;
  /** The policy a rule belongs to: approval settings, session grace. */
  policy(id: string): BundlePolicy | undefined;
  /** The shortest sessionGrace of the resource's policies (a session ends at most this long after its token). */
  readonly sessionGrace: string;
  /** The classifications' detectors, for text outside result rows (error messages, notices, notifications). */
  readonly textMasker?: Masker;
  /** Whether a relation (`schema.table`) holds classified columns: error details of statements reading one are cut. */
  readonly isClassifiedRelation: (relation: string) => boolean;
}

export interface PgRuntime {
  readonly resourceName: string;
  current(): PgResourceState | undefined;
  readonly recorder: Recorder;
  readonly approvals: ApprovalBackend;
  readonly metrics: Metrics;
  readonly cancels: CancelRegistry;
  readonly log: Logger;
  readonly pod?: { readonly name: string; readonly namespace: string };
  /** Approvals granted for a while (spec.approval.grantWindow), shared by the resource's sessions. */
  readonly grants?: GrantWindow;
  /** How a person decides a held command, shown to the agent (differs between standalone and cluster mode). */
  readonly approvalHint?: (id: string) => string;
}
