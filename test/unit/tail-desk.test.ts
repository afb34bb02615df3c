import * as grpc from '@grpc/grpc-js';
import { expect, it } from 'vitest';
import { refusal } from '../../src/app/tail-desk.js';

it("shows the server's refusal of an operator action by status name, its words and a hint", () => {
  const denied = Object.assign(new Error('7 PERMISSION_DENIED: fleet-1 may not cancel'), { code: grpc.status.PERMISSION_DENIED, details: 'fleet-1 may not cancel' });
  expect(refusal(denied)).toEqual({ ok: false, code: 'PERMISSION_DENIED', text: expect.stringMatching(/^PERMISSION_DENIED: fleet-1 may not cancel \(this token is not an operator/) });
  const unauth = Object.assign(new Error('x'), { code: grpc.status.UNAUTHENTICATED, details: 'invalid x-api-token' });
  expect(refusal(unauth)).toMatchObject({ code: 'UNAUTHENTICATED', text: expect.stringContaining('invalid x-api-token') });
  expect(refusal(new Error('boom'))).toMatchObject({ ok: false, text: 'failed: boom' });
});
