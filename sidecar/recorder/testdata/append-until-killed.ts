// Test helper (not a test): appends command events to a Recorder as fast as it can and reports each sequence number
// to the parent over IPC once `record` has returned. The parent SIGKILLs it and checks every reported event is in
// the file. Event sizes vary (up to ~200 KiB) so the kill often lands while a write is in flight.
import { Recorder } from '../wal.ts';

const dir = process.argv[2];
if (!dir || !process.send) throw new Error('usage: fork(append-until-killed.ts, [DIR]) with an IPC channel');
const send = process.send.bind(process);
const recorder = new Recorder({ dir, syncIntervalMs: 5 });
const session = recorder.session(process.argv[3] ?? 's-child');
session.record({ type: 'session.start', resource: 'orders-db', protocol: 'postgres', subject: 'agent-1', issuer: 'https://issuer', groups: [], client: {}, bundle: 'b1' });

let n = 0;
function burst(): void {
  for (let i = 0; i < 25; i++) {
    n += 1;
    const padding = n % 7 === 0 ? 'x'.repeat(200_000) : 'y'.repeat(n % 300);
    const seq = session.record({ type: 'command', command: `select ${n} /* ${padding} */`, action: 'allow', reasons: [], forwarded: true });
    send({ seq });
  }
  setImmediate(burst);
}
burst();
