// Every message builder of the codec in one place: backend messages the proxy sends to the agent, frontend
// messages it sends to the server, and the DataRow rewrite used for masking.

export * from './build-backend.ts';
export * from './build-frontend.ts';
export { rewriteDataRow } from './datarow.ts';
