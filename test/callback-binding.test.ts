// The callback key of decisions.md #1: base64url(HMAC-SHA256(secret, workflowId)), 43 characters,
// signed with the first secret and accepted under any. The HTTP side (404, nothing signalled) is in
// test/webhook.test.ts and test/hostile-input.test.ts.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callbackKeyFor, callbackUriFor, isCallbackKeyValid } from '../src/webhook/callback-binding.js';

const secret = 'callback-binding-test-secret-0123456789';
const workflowId = 'transfer-57DAB8B1-894C-409A-B240-BD8BEAE78376';

describe('callback keys', () => {
  it('are the HMAC-SHA256 of the workflow id, base64url, 43 characters', () => {
    const expected = createHmac('sha256', secret).update(workflowId).digest('base64url');
    expect(callbackKeyFor(secret, workflowId)).toBe(expected);
    expect(expected).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('make the callback URL, signed with the first secret', () => {
    const uri = callbackUriFor(
      {
        publicBaseUrl: 'https://bot.contoso.com/',
        callbackSecrets: [secret, 'an-older-secret-still-accepted-0000'],
      },
      workflowId,
    );
    expect(uri).toBe(`https://bot.contoso.com/api/calls/${workflowId}/${callbackKeyFor(secret, workflowId)}`);
    expect(() =>
      callbackUriFor({ publicBaseUrl: 'https://bot.contoso.com', callbackSecrets: [] }, workflowId),
    ).toThrow(/HANDOFF_CALLBACK_SECRET/);
  });

  it('are accepted under any configured secret, and under no other', () => {
    const older = 'an-older-secret-still-accepted-0000';
    const secrets = [secret, older];
    expect(isCallbackKeyValid(secrets, workflowId, callbackKeyFor(secret, workflowId))).toBe(true);
    expect(isCallbackKeyValid(secrets, workflowId, callbackKeyFor(older, workflowId))).toBe(true);
    expect(isCallbackKeyValid([secret], workflowId, callbackKeyFor(older, workflowId))).toBe(false);
    const key = callbackKeyFor(secret, workflowId);
    for (const wrong of ['', key.slice(1), `${key}A`, key.toUpperCase(), `${key.slice(0, 42)}%`]) {
      expect(isCallbackKeyValid(secrets, workflowId, wrong), wrong).toBe(false);
    }
  });

  it("never let one workflow's key open another workflow's path", () => {
    const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,60}$/);
    fc.assert(
      fc.property(id, id, (own, other) => {
        fc.pre(own !== other);
        expect(isCallbackKeyValid([secret], other, callbackKeyFor(secret, own))).toBe(false);
        expect(isCallbackKeyValid([secret], own, callbackKeyFor(secret, own))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
