/**
 * Request bodies the workflows send to Graph, built from workflow inputs. Pure functions over
 * Graph types only (design.md: workflows import only types from src/graph).
 */
import type {
  AnswerCallRequest,
  CreateCallRequest,
  IdentitySet,
  InvitationParticipantInfo,
  InviteParticipantsRequest,
  MediaInfo,
  Modality,
} from '../graph/index.js';
import type {
  CallRequest,
  InviteRequest,
  MediaChoice,
  MoveParticipantRequest,
  TransferIntoCallRequest,
} from './bot-call/types.js';

/** Answer with service-hosted media, prefetching the bot's prompts (seed 000). */
export function answerRequest(options: {
  callbackUri: string;
  acceptedModalities?: Modality[];
  preFetchMedia?: MediaInfo[];
}): AnswerCallRequest {
  return {
    callbackUri: options.callbackUri,
    acceptedModalities: options.acceptedModalities ?? ['audio'],
    mediaConfig: {
      '@odata.type': '#microsoft.graph.serviceHostedMediaConfig',
      ...(options.preFetchMedia?.length ? { preFetchMedia: options.preFetchMedia } : {}),
    },
  };
}

const application = (botAppId: string): IdentitySet => ({ application: { id: botAppId } });

/**
 * The call's source as every create-call example that names one writes it: typed
 * `participantInfo` (seed 001 step 2; seed 004, examples 1-4, 10-12).
 */
function sourceOf(identity: IdentitySet): NonNullable<CreateCallRequest['source']> {
  return { '@odata.type': '#microsoft.graph.participantInfo', identity };
}

/**
 * A party to call or invite, typed `invitationParticipantInfo` as in the create-call targets
 * (seed 004, examples 1, 3, 11) and every invite (seed 001 step 3; seed 003, examples 1-5).
 */
function invitationOf(identity: IdentitySet): InvitationParticipantInfo {
  return { '@odata.type': '#microsoft.graph.invitationParticipantInfo', identity };
}

/**
 * What the media choice makes of a request: no media means no modalities and no mediaConfig at
 * all (seed 000, "Join Channel Meeting without media"); app-hosted media carries the bot's media
 * session blob exactly as given (seed 004, example 2).
 */
function mediaFields(
  media: MediaChoice,
  modalities: Modality[] | undefined,
): Pick<CreateCallRequest, 'requestedModalities' | 'mediaConfig'> {
  switch (media.kind) {
    case 'none':
      return { requestedModalities: [] };
    case 'serviceHosted':
      return {
        requestedModalities: modalities ?? ['audio'],
        mediaConfig: {
          '@odata.type': '#microsoft.graph.serviceHostedMediaConfig',
          ...(media.preFetchMedia?.length ? { preFetchMedia: media.preFetchMedia } : {}),
        },
      };
    case 'appHosted':
      return {
        requestedModalities: modalities ?? ['audio'],
        mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: media.blob },
      };
  }
}

/**
 * The POST /communications/calls body for a call to create or a meeting to join, in the shape of
 * the create-call examples (seed 004): P2P (1, 2), group call (3, 4), meeting by organizer +
 * chatInfo (5, 8, 9), as a guest (10), by joinMeetingId (6, 7), PSTN (11, 12).
 */
export function createCallRequestFor(
  request: CallRequest,
  options: { callbackUri: string; botAppId: string; tenantId?: string },
): CreateCallRequest {
  const common = {
    '@odata.type': '#microsoft.graph.call',
    callbackUri: options.callbackUri,
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
  };
  switch (request.kind) {
    case 'p2p':
      return {
        ...common,
        source: sourceOf(application(options.botAppId)),
        targets: [invitationOf(request.target)],
        ...mediaFields(request.media, request.modalities),
      };
    case 'pstn':
      // The source is the application instance that owns the number (examples 11, 12); its
      // tenant is needed to place the call, so it is always sent when known.
      return {
        ...common,
        source: sourceOf({
          applicationInstance: {
            id: request.applicationInstance.id,
            ...(request.applicationInstance.displayName
              ? { displayName: request.applicationInstance.displayName }
              : {}),
          },
        }),
        targets: [invitationOf({ phone: { id: request.phoneNumber } })],
        ...mediaFields(request.media, undefined),
      };
    case 'groupCall':
      return {
        ...common,
        direction: 'outgoing',
        ...(request.subject ? { subject: request.subject } : {}),
        source: sourceOf(application(options.botAppId)),
        targets: request.targets.map(invitationOf),
        ...mediaFields(request.media, undefined),
      };
    case 'meeting':
      return {
        ...common,
        ...(request.subject ? { subject: request.subject } : {}),
        // A guest join names the guest as the source (example 10); Graph may put it in the lobby.
        source: sourceOf(
          request.guest
            ? { guest: { id: request.guest.id, displayName: request.guest.displayName } }
            : application(options.botAppId),
        ),
        // The bot joining a meeting as itself, as the transfer walkthroughs do (seeds 000 and 001,
        // step 2); the guest join of example 10 sends none.
        ...(request.guest ? {} : { targetDisposition: 'default' }),
        ...mediaFields(request.media, undefined),
        chatInfo: request.chatInfo,
        meetingInfo: {
          '@odata.type': '#microsoft.graph.organizerMeetingInfo',
          organizer: request.organizer,
          allowConversationWithoutHost: request.allowConversationWithoutHost ?? true,
        },
      };
    case 'joinMeetingId':
      return {
        ...common,
        ...(request.subject ? { subject: request.subject } : {}),
        source: sourceOf(application(options.botAppId)),
        ...mediaFields(request.media, undefined),
        meetingInfo: {
          '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
          joinMeetingId: request.joinMeetingId,
          ...(request.passcode ? { passcode: request.passcode } : {}),
        },
      };
  }
}

/** POST /participants/invite for 1 to 5 parties (seed 003, examples 1, 2, 4). */
export function inviteParticipantsRequestFor(
  request: InviteRequest,
  clientContext: string,
): InviteParticipantsRequest {
  return {
    participants: request.participants.map((invitee) => ({
      ...invitationOf(invitee.identity),
      ...(invitee.endpointType ? { endpointType: invitee.endpointType } : {}),
      ...(invitee.languageId ? { languageId: invitee.languageId } : {}),
      ...(invitee.region ? { region: invitee.region } : {}),
    })),
    clientContext,
  };
}

/** POST /participants/invite replacing a P2P call: one participant only (seed 003, example 3). */
export function transferIntoCallRequestFor(
  request: TransferIntoCallRequest,
  clientContext: string,
): InviteParticipantsRequest {
  return {
    participants: [{ ...invitationOf(request.participant.identity), replacesCallId: request.replacesCallId }],
    clientContext,
  };
}

/** POST /participants/invite moving one participant from another meeting (seed 003, example 5). */
export function moveParticipantRequestFor(
  request: MoveParticipantRequest,
  clientContext: string,
): InviteParticipantsRequest {
  return {
    participants: [
      {
        ...invitationOf(request.identity),
        participantId: request.participantId,
        replacesCallId: request.replacesCallId,
      },
    ],
    clientContext,
  };
}
