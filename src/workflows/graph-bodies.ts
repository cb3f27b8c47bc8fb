/**
 * Request bodies the workflows send to Graph, built from workflow inputs. Pure functions over
 * Graph types only (design.md: workflows import only types from src/graph).
 */
import type {
  AnswerCallRequest,
  CreateCallRequest,
  MediaInfo,
  MeetingInfo,
  Modality,
} from '../graph/index.js';
import type { TransferTarget } from './types.js';

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

/**
 * Joins the bot to the target meeting without media: a bot that joins only to facilitate a
 * transfer should avoid media negotiation, so no requestedModalities and no mediaConfig
 * (seed 000, "Join Channel Meeting without media"; seed 001, step 2).
 */
export function groupCallWithoutMediaRequest(options: {
  target: TransferTarget;
  callbackUri: string;
  botAppId: string;
  tenantId?: string;
}): CreateCallRequest {
  const { target } = options;
  const meetingInfo: MeetingInfo =
    target.kind === 'meeting'
      ? { '@odata.type': '#microsoft.graph.organizerMeetingInfo', organizer: target.organizer }
      : {
          '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
          joinMeetingId: target.joinMeetingId,
          ...(target.passcode ? { passcode: target.passcode } : {}),
        };
  return {
    '@odata.type': '#microsoft.graph.call',
    callbackUri: options.callbackUri,
    ...(target.subject ? { subject: target.subject } : {}),
    source: { identity: { application: { id: options.botAppId } } },
    requestedModalities: [],
    ...(target.kind === 'meeting' ? { chatInfo: target.chatInfo } : {}),
    meetingInfo,
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
  };
}
