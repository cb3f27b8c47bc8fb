import type { CallRequest } from '../bot-call/types.js';
import type { TransferTarget } from './types.js';

/**
 * The group call a transfer creates or joins, as a create/join request (join.ts). Without media:
 * a bot that joins only to facilitate the transfer should avoid media negotiation (seed 000,
 * "Join Channel Meeting without media"; seed 001, step 2).
 */
export function callRequestForTarget(target: TransferTarget): CallRequest {
  const media = { kind: 'none' } as const;
  switch (target.kind) {
    case 'meeting':
      return {
        kind: 'meeting',
        chatInfo: target.chatInfo,
        organizer: target.organizer,
        media,
        ...(target.subject ? { subject: target.subject } : {}),
        ...(target.guest ? { guest: target.guest } : {}),
      };
    case 'joinMeetingId':
      return {
        kind: 'joinMeetingId',
        joinMeetingId: target.joinMeetingId,
        media,
        ...(target.passcode ? { passcode: target.passcode } : {}),
        ...(target.subject ? { subject: target.subject } : {}),
      };
    case 'groupCall':
      return {
        kind: 'groupCall',
        targets: target.targets,
        media,
        ...(target.subject ? { subject: target.subject } : {}),
      };
  }
}
