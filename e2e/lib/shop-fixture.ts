// The sample "shop" database and the policy files the sidecar e2e suites and the demo use: customers with card
// numbers and e-mail addresses (classified), orders (writes need approval), a vault schema agents must not read.
import type { PgServer } from './postgres.ts';

export const agentRole = { user: 'shop_agent', password: 'real-credential-the-agent-never-sees' };

export const shopSchemaSql = `
CREATE ROLE ${agentRole.user} LOGIN PASSWORD '${agentRole.password}';
CREATE DATABASE shop OWNER ${agentRole.user};
`;

export const shopDataSql = `
CREATE SCHEMA vault;
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, card_number text, phone text, notes text);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(10,2), status text NOT NULL DEFAULT 'open');
CREATE TABLE vault.keys (id int, secret text);
CREATE TABLE notes (id serial PRIMARY KEY, body text);
CREATE VIEW customer_cards AS SELECT id, name, card_number FROM customers;
INSERT INTO customers VALUES
  (1, 'Ada Lovelace', 'ada@example.com', '4111 1111 1111 1111', '+44 20 7946 0958', 'prefers email'),
  (2, 'Alan Turing', 'alan@example.org', '5500-0000-0000-0004', '+44 161 496 0000', 'card on file 4012888888881881'),
  (3, 'Grace Hopper', 'grace@example.net', '378282246310005', NULL, NULL);
INSERT INTO orders (customer_id, total, status) SELECT (i % 3) + 1, i * 10.5, CASE WHEN i % 2 = 0 THEN 'open' ELSE 'shipped' END FROM generate_series(1, 20) i;
INSERT INTO vault.keys VALUES (1, 'do-not-read');
`;

/** Creates the shop database on `pg`, owned by the agent role. */
export function createShop(pg: PgServer): void {
  for (const stmt of shopSchemaSql.split(';').filter((s) => s.trim())) pg.psql(stmt);
  pg.psql(shopDataSql, { database: 'shop', user: agentRole.user, password: agentRole.password });
}

export interface ShopPolicyOptions {
  readonly port: number;
  readonly pg: { host: string; port: number };
  readonly approvalTimeout?: string;
  readonly grantWindow?: string;
  readonly tls?: string;
  readonly extraRules?: string;
}

export function shopManifests(o: ShopPolicyOptions): Record<string, string> {
  return {
    'shop-db.yaml': `apiVersion: v1
kind: Secret
metadata: {name: shop-db-agent, namespace: agents}
stringData:
  username: ${agentRole.user}
  password: ${agentRole.password}
  database: shop
---
apiVersion: portcullis.dev/v1alpha1
kind: ProtectedResource
metadata: {name: shop-db, namespace: agents}
spec:
  protocol: postgres
  endpoint:
    host: ${o.pg.host}
    port: ${o.pg.port}
    tls: ${o.tls ?? '{mode: disable}'}
  credentials:
    secretRef: {name: shop-db-agent}
  expose:
    port: ${o.port}
    env: {PGHOST: 127.0.0.1, PGPORT: "{{port}}"}
  classifications:
    - name: card
      columns: ["public.customers.card_number"]
      detectors: [credit-card]
    - name: contact
      columns: ["public.customers.email", "public.customers.phone"]
      detectors: [email]
`,
    'support-agent.yaml': `apiVersion: portcullis.dev/v1alpha1
kind: AgentPolicy
metadata: {name: support-agent, namespace: agents}
spec:
  agents:
    podSelector: {matchLabels: {app: support-agent}}
  resources:
    - resource: shop-db
      defaultAction: deny
      rules:
        - name: reads
          action: allow
          sql: {statements: [select, explain, transaction, show, set, prepare, execute, deallocate, copy_to, listen]}
        - name: note-writes
          action: allow
          sql: {statements: [insert, update, delete], tables: ["public.notes"]}
        - name: order-writes
          action: approve
          sql: {statements: [insert, update, delete], tables: ["public.orders"]}
        - name: no-unbounded-writes
          action: deny
          sql: {unboundedWrite: true}
        - name: no-vault
          action: deny
          message: "the vault schema is off limits"
          sql: {tables: ["vault.*"]}
        - name: no-admin-functions
          action: deny
          message: "server administration functions are not for agents"
          sql: {functions: [pg_terminate_backend, pg_cancel_backend, pg_read_file, "lo_*", "dblink*"]}
${o.extraRules ?? ''}      masking:
        - {classification: card, strategy: last4}
        - {classification: contact, strategy: redact}
  approval:
    approvers: {groups: [sre]}
    timeout: ${o.approvalTimeout ?? '10s'}
    grantWindow: ${o.grantWindow ?? '0s'}
`,
  };
}
