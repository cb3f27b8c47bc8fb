import { z } from 'zod';
import { type IdentitySet, identitySetSchema } from './identity.js';
import { odataTypeName } from './odata.js';

/** microsoft.graph.chatInfo: the meeting chat a group call hangs off. Needed to invite (seed 003, example 2). */
export const chatInfoSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  threadId: z.string().min(1),
  messageId: z.string().nullish(),
  replyChainMessageId: z.string().nullish(),
});
export type ChatInfo = z.infer<typeof chatInfoSchema>;

export interface OrganizerMeetingInfo {
  '@odata.type': '#microsoft.graph.organizerMeetingInfo';
  organizer: IdentitySet;
  allowConversationWithoutHost?: boolean;
}

export interface JoinMeetingIdMeetingInfo {
  '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo';
  joinMeetingId: string;
  passcode?: string | null;
}

export type MeetingInfo = OrganizerMeetingInfo | JoinMeetingIdMeetingInfo;

/**
 * meetingInfo comes typed (`#microsoft.graph.organizerMeetingInfo`,
 * `#microsoft.graph.joinMeetingIdMeetingInfo`) or untyped (create-call page, seed 004,
 * example 5): then an `organizer` or a `joinMeetingId` says which it is.
 */
export const meetingInfoSchema = z
  .looseObject({
    '@odata.type': z.string().optional(),
    organizer: identitySetSchema.nullish(),
    allowConversationWithoutHost: z.boolean().nullish(),
    joinMeetingId: z.string().nullish(),
    passcode: z.string().nullish(),
  })
  .transform((info, ctx): MeetingInfo => {
    const declared = info['@odata.type'] ? odataTypeName(info['@odata.type']).toLowerCase() : undefined;
    const isJoinById =
      declared === 'joinmeetingidmeetinginfo' || (declared === undefined && info.joinMeetingId != null);
    if (isJoinById) {
      if (!info.joinMeetingId) {
        ctx.addIssue({
          code: 'custom',
          message: 'joinMeetingIdMeetingInfo needs a joinMeetingId',
          path: ['joinMeetingId'],
        });
        return z.NEVER;
      }
      return {
        '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
        joinMeetingId: info.joinMeetingId,
        ...(info.passcode !== undefined ? { passcode: info.passcode } : {}),
      };
    }
    if (declared !== undefined && declared !== 'organizermeetinginfo') {
      ctx.addIssue({
        code: 'custom',
        message: `unknown meetingInfo type ${info['@odata.type']}`,
        path: ['@odata.type'],
      });
      return z.NEVER;
    }
    if (!info.organizer) {
      ctx.addIssue({
        code: 'custom',
        message: 'organizerMeetingInfo needs an organizer',
        path: ['organizer'],
      });
      return z.NEVER;
    }
    return {
      '@odata.type': '#microsoft.graph.organizerMeetingInfo',
      organizer: info.organizer,
      ...(info.allowConversationWithoutHost != null
        ? { allowConversationWithoutHost: info.allowConversationWithoutHost }
        : {}),
    };
  });
