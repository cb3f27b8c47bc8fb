import type {
  AnswerCallRequest,
  CallState,
  CreateCallRequest,
  GraphClient,
  InviteParticipantsRequest,
  OperationStatus,
  RedirectCallRequest,
  RejectCallRequest,
  ResultInfo,
  TransferCallRequest,
} from '../graph/index.js';
import { GraphRequestError } from '../graph/index.js';
import { graphRequest, toActivityFailure } from './failures.js';

/** What a workflow needs to know of a call it created: small, so histories stay small. */
export interface CreatedCall {
  callId: string;
  state?: CallState;
}

export interface StartedOperation {
  operationId?: string;
  status: OperationStatus;
  clientContext?: string;
}

/** A read of a call, used to reconcile when a notification did not come (design.md, "Routing"). */
export type CallRead =
  | { gone: true }
  | {
      gone: false;
      state?: CallState;
      terminationReason?: string;
      resultInfo?: ResultInfo;
      /**
       * Where Graph sends the call's notifications: tells a workflow whether the call is its own
       * before it adopts or hangs up a call it did not create (decisions.md #4).
       */
      callbackUri?: string;
    };

export type OperationRead =
  | { gone: true }
  | { gone: false; status: OperationStatus; resultInfo?: ResultInfo };

function isNotFound(error: unknown): boolean {
  return error instanceof GraphRequestError && error.status === 404;
}

/**
 * The Graph activities, built from a Graph client (style.md: activities-dependency-injection).
 * Thin on purpose: no signal or workflow logic here, only requests and their classification.
 */
export function createGraphActivities(graph: GraphClient) {
  return {
    async answerCall(callId: string, request: AnswerCallRequest): Promise<void> {
      await graphRequest(() => graph.answerCall(callId, request));
    },

    async createCall(request: CreateCallRequest): Promise<CreatedCall> {
      const call = await graphRequest(() => graph.createCall(request));
      if (!call.id) throw new Error('Graph created a call but its response carries no id');
      return { callId: call.id, ...(call.state ? { state: call.state } : {}) };
    },

    async inviteParticipants(callId: string, request: InviteParticipantsRequest): Promise<StartedOperation> {
      const { operationId, operation } = await graphRequest(() => graph.inviteParticipants(callId, request));
      const clientContext = operation?.clientContext ?? request.clientContext;
      return {
        ...(operationId ? { operationId } : {}),
        status: operation?.status ?? 'running',
        ...(clientContext ? { clientContext } : {}),
      };
    },

    /** Hangs up (DELETE). A call Graph no longer knows is already hung up: 404 counts as done. */
    async hangUp(callId: string): Promise<void> {
      try {
        await graph.hangUp(callId);
      } catch (error) {
        if (isNotFound(error)) return;
        throw toActivityFailure(error);
      }
    },

    async getCall(callId: string): Promise<CallRead> {
      try {
        const call = await graph.getCall(callId);
        return {
          gone: false,
          ...(call.state ? { state: call.state } : {}),
          ...(call.terminationReason ? { terminationReason: call.terminationReason } : {}),
          ...(call.resultInfo ? { resultInfo: call.resultInfo } : {}),
          ...(call.callbackUri ? { callbackUri: call.callbackUri } : {}),
        };
      } catch (error) {
        if (isNotFound(error)) return { gone: true };
        throw toActivityFailure(error);
      }
    },

    async getOperation(callId: string, operationId: string): Promise<OperationRead> {
      try {
        const operation = await graph.getOperation(callId, operationId);
        return {
          gone: false,
          status: operation.status,
          ...(operation.resultInfo ? { resultInfo: operation.resultInfo } : {}),
        };
      } catch (error) {
        if (isNotFound(error)) return { gone: true };
        throw toActivityFailure(error);
      }
    },

    /** Redirects an incoming call without answering it; sent once (sendOnce), never retried blindly. */
    async redirectCall(callId: string, request: RedirectCallRequest): Promise<void> {
      await graphRequest(() => graph.redirectCall(callId, request));
    },

    /** Rejects an incoming call without answering it; sent once (sendOnce), never retried blindly. */
    async rejectCall(callId: string, request: RejectCallRequest): Promise<void> {
      await graphRequest(() => graph.rejectCall(callId, request));
    },

    /** Blind transfer of a call the bot holds ("call: transfer"); not idempotent: sent once. */
    async transferCall(callId: string, request: TransferCallRequest): Promise<void> {
      await graphRequest(() => graph.transferCall(callId, request));
    },

    /** Tells Graph the bot still holds the call. A call Graph no longer knows is reported gone. */
    async keepAlive(callId: string): Promise<{ gone: boolean }> {
      try {
        await graph.keepAlive(callId);
        return { gone: false };
      } catch (error) {
        if (isNotFound(error)) return { gone: true };
        throw toActivityFailure(error);
      }
    },
  };
}

export type GraphActivities = ReturnType<typeof createGraphActivities>;
