// Cluster mode until the operator-backed approval backend (ApprovalRequest objects) lands: a held command cannot be
// put before a person, so it is refused at once — fail closed, never run unapproved.
import type { ApprovalBackend } from './backend.ts';

export const unavailableApprovals: ApprovalBackend = {
  request(input) {
    return { id: 'unavailable', request: input, result: Promise.resolve({ outcome: 'expired' as const, reason: 'approvals are not available in cluster mode yet (the operator-backed backend is not installed)' }) };
  },
};
