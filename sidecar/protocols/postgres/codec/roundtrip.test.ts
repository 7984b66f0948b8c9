// Every message kind: build → frame → parse gives back what was built, and the frame is exactly the bytes built.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBackendMessage } from './backend.ts';
import { BackendReader, FrontendReader, NO_MESSAGE, UNTYPED } from './frames.ts';
import { parseFrontendMessage, parseStartupPhase } from './frontend.ts';
import { backendSamples, frontendSamples, startupSamples } from './test-messages.ts';

describe('round trip: startup phase', () => {
  for (const s of startupSamples) {
    it(s.name, () => {
      const r = new FrontendReader();
      r.push(s.frame);
      assert.equal(r.next(), UNTYPED);
      assert.deepEqual(r.frame, s.frame);
      assert.deepEqual(parseStartupPhase(r.body), s.expected);
      assert.equal(r.next(), NO_MESSAGE);
      // Only a StartupMessage ends the startup phase.
      assert.equal(r.inStartupPhase, s.expected.kind !== 'Startup');
    });
  }
});

describe('round trip: frontend messages', () => {
  for (const s of frontendSamples) {
    it(s.name, () => {
      const r = new FrontendReader({ startup: false });
      r.push(s.frame);
      const type = r.next();
      assert.equal(type, s.frame[0]);
      assert.deepEqual(r.frame, s.frame);
      assert.deepEqual(parseFrontendMessage(type, r.body, s.auth), s.expected);
      assert.equal(r.next(), NO_MESSAGE);
    });
  }
});

describe('round trip: backend messages', () => {
  for (const s of backendSamples) {
    it(s.name, () => {
      const r = new BackendReader();
      r.push(s.frame);
      const type = r.next();
      assert.equal(type, s.frame[0]);
      assert.deepEqual(r.frame, s.frame);
      assert.deepEqual(parseBackendMessage(type, r.body), s.expected);
      assert.equal(r.next(), NO_MESSAGE);
    });
  }
});
