import { z } from 'zod';
import {
  type ChatInfo,
  chatInfoSchema,
  type IdentitySet,
  identitySetSchema,
  type JoinMeetingIdMeetingInfo,
} from '../graph/index.js';
import { GraphError } from './errors.js';
import { SimulatorConfigError } from './settings.js';

/**
 * The scheduled meetings the simulated tenant knows, so that a bot can join one by
 * joinMeetingId (+ passcode) as in the create-call page (seed 004, examples 6 and 7). Graph
 * finds these through the onlineMeeting API; the simulator keeps a small registry instead.
 */

export interface MeetingRegistration {
  /** The id people dial or type, e.g. "1234567". */
  joinMeetingId: string;
  /** Required to join when set; a meeting without one accepts any passcode or none. */
  passcode?: string;
  /** The meeting chat; a generated thread when omitted. */
  chatInfo?: ChatInfo;
  /** Who scheduled it; the seeds' "Bob" when omitted. */
  organizer?: IdentitySet;
  /** People already in the meeting: they appear in the roster of a bot that joins it. */
  participants?: IdentitySet[];
}

export interface RegisteredMeeting {
  joinMeetingId: string;
  passcode?: string;
  chatInfo: ChatInfo;
  organizer: IdentitySet;
  participants: IdentitySet[];
}

/** The organizer of the create-call examples (seed 004, examples 5, 8-10). */
export const seedOrganizer: IdentitySet = {
  user: {
    id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96',
    tenantId: 'aa67bd4c-8475-432d-bd41-39f255720e0a',
    displayName: 'Bob',
  },
};

/** The attendee in seed 004 example 5's roster. */
export const seedAttendee: IdentitySet = {
  user: { id: '112f7296-5fa4-42ca-bae8-6a692b15d4b8', displayName: 'John' },
};

/**
 * Known from the start. 1234567 + psw123 is seed 004 example 6 (with its chatInfo); example 7
 * joins the same id without a passcode, which a meeting cannot both need and not need, so
 * 7654321 is the meeting without one. Register 1234567 again without a passcode to replay
 * example 7 verbatim.
 */
export const defaultMeetings: readonly MeetingRegistration[] = [
  {
    joinMeetingId: '1234567',
    passcode: 'psw123',
    chatInfo: {
      '@odata.type': '#microsoft.graph.chatInfo',
      threadId: '19:meeting_Win6Ydo4wsMijFjZS00ZGVjLTk5MGUtOTRjNNkYTFm@thread.v2',
      messageId: '0',
    },
    organizer: seedOrganizer,
    participants: [seedAttendee],
  },
  {
    joinMeetingId: '7654321',
    organizer: seedOrganizer,
    participants: [seedAttendee],
  },
];

const meetingRegistrationSchema = z.strictObject({
  joinMeetingId: z
    .string()
    .regex(/^[\w-]+$/, 'joinMeetingId must be a non-empty id of letters, digits, _ or -, such as 1234567'),
  passcode: z
    .string()
    .min(1, 'passcode must not be empty; leave it out for a meeting without one')
    .optional(),
  chatInfo: chatInfoSchema.optional(),
  organizer: identitySetSchema.optional(),
  participants: z.array(identitySetSchema).optional(),
});

export interface MeetingRegistry {
  /** Adds a meeting, or replaces the one with the same joinMeetingId. Throws SimulatorConfigError on bad input. */
  register(meeting: MeetingRegistration): RegisteredMeeting;
  all(): RegisteredMeeting[];
  /** The meeting a joinMeetingIdMeetingInfo names, or a Graph error: 404 unknown id, 403 passcode. */
  join(meetingInfo: JoinMeetingIdMeetingInfo): RegisteredMeeting;
  /** The registered meeting whose chat this is, if any (a join by organizer + chatInfo). */
  byThreadId(threadId: string): RegisteredMeeting | undefined;
}

export function createMeetingRegistry(
  initial: readonly MeetingRegistration[] = defaultMeetings,
): MeetingRegistry {
  const meetings = new Map<string, RegisteredMeeting>();

  function register(meeting: MeetingRegistration): RegisteredMeeting {
    const parsed = meetingRegistrationSchema.safeParse(meeting);
    if (!parsed.success) {
      throw new SimulatorConfigError(`invalid meeting:\n${z.prettifyError(parsed.error)}`);
    }
    const { joinMeetingId, passcode, chatInfo, organizer, participants } = parsed.data;
    const registered: RegisteredMeeting = {
      joinMeetingId,
      ...(passcode !== undefined ? { passcode } : {}),
      chatInfo: chatInfo ?? {
        '@odata.type': '#microsoft.graph.chatInfo',
        threadId: `19:meeting_simulated-${joinMeetingId}@thread.v2`,
        messageId: '0',
      },
      organizer: organizer ?? seedOrganizer,
      participants: participants ?? [],
    };
    meetings.set(joinMeetingId, registered);
    return structuredClone(registered);
  }

  for (const meeting of initial) register(meeting);

  return {
    register,
    all: () => structuredClone([...meetings.values()]),
    join(meetingInfo) {
      const meeting = meetings.get(meetingInfo.joinMeetingId.trim());
      if (!meeting) {
        throw new GraphError(
          404,
          `No meeting has joinMeetingId ${meetingInfo.joinMeetingId}. Check the id from the onlineMeeting (joinMeetingIdSettings); in the simulator, register it with registerMeeting or POST /_simulator/meetings.`,
          'itemNotFound',
        );
      }
      if (meeting.passcode !== undefined && meetingInfo.passcode !== meeting.passcode) {
        throw new GraphError(
          403,
          meetingInfo.passcode
            ? `The passcode for meeting ${meeting.joinMeetingId} is wrong. Use the passcode from the onlineMeeting's joinMeetingIdSettings.`
            : `Meeting ${meeting.joinMeetingId} needs a passcode: send meetingInfo.passcode (seed 004, example 6).`,
          'Forbidden',
        );
      }
      return meeting;
    },
    byThreadId(threadId) {
      return [...meetings.values()].find((meeting) => meeting.chatInfo.threadId === threadId);
    },
  };
}
