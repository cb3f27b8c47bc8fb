/**
 * Binds a callback URL to the workflow it names (issue 9.3; decisions.md #1). Graph posts every
 * notification of a call to the `callbackUri` it was given, so that URL is a capability: it carries
 * `callbackKey = base64url(HMAC-SHA256(secret, workflowId))`, and the webhook refuses a path whose
 * key does not match. A notification token valid for the bot then cannot be replayed against
 * another workflow's path: the attacker would need that workflow's key too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What builds and checks callback URLs: the public address and HANDOFF_CALLBACK_SECRET's list. */
export interface CallbackBinding {
  /** Where Graph calls back, e.g. https://bot.contoso.com (no trailing slash needed). */
  publicBaseUrl: string;
  /** The first signs new URLs; every one is accepted (rotation). */
  callbackSecrets: readonly string[];
}

/** base64url of a SHA-256 HMAC: always 43 characters. */
const callbackKeyPattern = /^[A-Za-z0-9_-]{43}$/;

export function callbackKeyFor(secret: string, workflowId: string): string {
  return createHmac('sha256', secret).update(workflowId, 'utf8').digest('base64url');
}

/** `${publicBaseUrl}/api/calls/<workflowId>/<callbackKey>`, signed with the first secret. */
export function callbackUriFor(binding: CallbackBinding, workflowId: string): string {
  const signing = binding.callbackSecrets[0];
  if (!signing) throw new Error('HANDOFF_CALLBACK_SECRET is empty: no secret to sign callback URLs with');
  const base = binding.publicBaseUrl.replace(/\/+$/, '');
  return `${base}/api/calls/${encodeURIComponent(workflowId)}/${callbackKeyFor(signing, workflowId)}`;
}

/**
 * Whether `callbackKey` is this workflow's key under any configured secret. Compared in constant
 * time, every secret tried, so the answer's timing says nothing about which byte was wrong.
 */
export function isCallbackKeyValid(
  secrets: readonly string[],
  workflowId: string,
  callbackKey: string,
): boolean {
  if (!callbackKeyPattern.test(callbackKey)) return false;
  const given = Buffer.from(callbackKey, 'utf8');
  let valid = false;
  for (const secret of secrets) {
    const expected = Buffer.from(callbackKeyFor(secret, workflowId), 'utf8');
    if (timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}
