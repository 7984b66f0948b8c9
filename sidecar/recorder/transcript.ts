// Groups a stream of audit events into per-session transcripts: the session's start and end, and each command with
// its result. Sessions interleave in the write-ahead file; within one, events are ordered by sequence number.
// Nothing here throws on odd input (a missing start, a duplicate number, a result for an unknown command): each
// oddity becomes a note on the session, because a record is evidence and must be shown as it is.
import type { AuditEvent, CommandEvent, ResultEvent, SessionCounts, SessionEndEvent, SessionStartEvent } from '../../core/audit/events.ts';

export interface CommandEntry {
  readonly event: CommandEvent;
  result?: ResultEvent;
}

export interface SessionTranscript {
  readonly id: string;
  start?: SessionStartEvent;
  end?: SessionEndEvent;
  readonly commands: CommandEntry[];
  /** The end event's counts, or counted from the commands when the session has no end record. */
  counts: SessionCounts;
  countsFrom: 'end' | 'computed';
  firstTime: string;
  lastTime: string;
  readonly notes: string[];
}

/** Counts as the sidecar keeps them: a held command counts as approved only if it was approved, else as denied. */
export function countCommands(entries: readonly CommandEntry[]): SessionCounts {
  const counts: SessionCounts = { commands: 0, allowed: 0, denied: 0, approved: 0, masked: 0 };
  for (const { event, result } of entries) {
    counts.commands += 1;
    if (event.action === 'allow') counts.allowed += 1;
    else if (event.action === 'approve' && event.approval?.outcome === 'approved') counts.approved += 1;
    else counts.denied += 1;
    counts.masked += result?.masked ?? 0;
  }
  return counts;
}

export function buildTranscripts(events: Iterable<AuditEvent>): SessionTranscript[] {
  const bySession = new Map<string, AuditEvent[]>();
  for (const event of events) {
    let list = bySession.get(event.session);
    if (!list) bySession.set(event.session, (list = []));
    list.push(event);
  }
  const transcripts: SessionTranscript[] = [];
  for (const [id, list] of bySession) {
    list.sort((a, b) => a.seq - b.seq); // stable: duplicates keep file order
    const t: SessionTranscript = {
      id,
      commands: [],
      counts: { commands: 0, allowed: 0, denied: 0, approved: 0, masked: 0 },
      countsFrom: 'computed',
      firstTime: (list[0] as AuditEvent).time,
      lastTime: (list[0] as AuditEvent).time,
      notes: [],
    };
    const bySeq = new Map<number, CommandEntry>();
    let previous = 0;
    for (const event of list) {
      if (event.seq === previous) {
        t.notes.push(`event #${event.seq} appears more than once; the first is shown`);
        continue;
      }
      if (event.seq === previous + 2) t.notes.push(`event #${previous + 1} is missing`);
      else if (event.seq > previous + 2) t.notes.push(`events #${previous + 1}–#${event.seq - 1} are missing`);
      previous = event.seq;
      if (event.time < t.firstTime) t.firstTime = event.time;
      if (event.time > t.lastTime) t.lastTime = event.time;
      switch (event.type) {
        case 'session.start':
          if (t.start) t.notes.push(`a second session.start at #${event.seq} is ignored`);
          else t.start = event;
          break;
        case 'session.end':
          if (t.end) t.notes.push(`a second session.end at #${event.seq} is ignored`);
          else t.end = event;
          break;
        case 'command': {
          const entry: CommandEntry = { event };
          bySeq.set(event.seq, entry);
          t.commands.push(entry);
          break;
        }
        case 'result': {
          const entry = bySeq.get(event.command);
          if (!entry) t.notes.push(`result #${event.seq} belongs to command #${event.command}, which is not recorded`);
          else if (entry.result) t.notes.push(`command #${event.command} has more than one result; the first is shown`);
          else entry.result = event;
          break;
        }
      }
    }
    if (!t.start) t.notes.push('no session.start record: who and what are unknown');
    if (t.end) {
      t.counts = { ...t.end.counts };
      t.countsFrom = 'end';
    } else {
      t.counts = countCommands(t.commands);
    }
    transcripts.push(t);
  }
  return transcripts;
}
