import type { AddressInfo } from 'node:net';
import type { IdentitySet } from '../graph/index.js';
import type { SimulatorControl } from './admin-routes.js';
import { createCalling } from './calling.js';
import { authorityFor, describeConnection, type SimulatorIdentity } from './connection.js';
import { createFaultInjector, type ScriptedFault } from './faults.js';
import {
  defaultFlowSettings,
  type FlowSettings,
  mergeFlowSettings,
  type SimulatorSettings,
} from './flow-settings.js';
import { createMeetingRegistry, type MeetingRegistration, type RegisteredMeeting } from './meetings.js';
import { createNotifier, type DeliveryRecord, type DroppedNotification } from './notifier.js';
import { createRandom } from './random.js';
import {
  type AnsweredCallOptions,
  type GroupCallOptions,
  type IncomingCallOptions,
  type PlacedGroupCall,
  placeAnsweredCall,
  placeGroupCall,
  placeIncomingCall,
} from './scenarios.js';
import { buildSimulatorServer, type RequestRecord } from './server.js';
import {
  defaultFaultSettings,
  defaultNotificationSettings,
  type FaultSettings,
  mergeSettings,
  type NotificationSettings,
  type Settings,
  SimulatorConfigError,
} from './settings.js';
import { createCallStore, type SimulatedCall } from './state.js';
import { createTokenService } from './tokens.js';

export { SIMULATOR_AUTHORITY_HOST, type SimulatorConnection } from './connection.js';
export type { ScriptedFault } from './faults.js';
export {
  defaultFlowSettings,
  type FlowSettings,
  type RosterMode,
  rosterModes,
  type SimulatorSettings,
} from './flow-settings.js';
export {
  defaultMeetings,
  type MeetingRegistration,
  type RegisteredMeeting,
  seedAttendee,
  seedOrganizer,
} from './meetings.js';
export type { DeliveryRecord, DroppedNotification } from './notifier.js';
export { type CommsNotifications, REMOVED_FROM_ROSTER } from './resources.js';
export {
  type AnsweredCallOptions,
  defaultCaller,
  type GroupCallOptions,
  type IncomingCallOptions,
  OTHER_APPLICATION_ID,
  type PlacedGroupCall,
} from './scenarios.js';
export { buildSimulatorServer, type RequestRecord, type SimulatorServerDeps } from './server.js';
export {
  type FaultSettings,
  type NotificationKind,
  type NotificationSettings,
  notificationKinds,
  type Settings,
  SimulatorConfigError,
} from './settings.js';
export type { CallFlow, SimulatedCall, SimulatedOperation } from './state.js';

export const DEFAULT_TENANT_ID = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
export const DEFAULT_CLIENT_ID = '2b7e151a-8c3d-4e2f-9a1b-5c6d7e8f9a0b';
export const DEFAULT_CLIENT_SECRET = 'simulator-secret';
export const DEFAULT_NOTIFICATION_ISSUER = 'https://api.botframework.com';

export interface SimulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /**
   * Default 127.0.0.1, and keep it so on a shared machine: the admin routes need no token.
   * docker-compose sets 0.0.0.0 (SIMULATOR_HOST) so that other containers reach it.
   */
  host?: string;
  tenantId?: string;
  /** The bot's app id, the only client that gets tokens. */
  clientId?: string;
  clientSecret?: string;
  /** Audience of notification JWTs; default = clientId. */
  botAppId?: string;
  /** Seeds the random choices of the knobs, for reproducible runs. */
  seed?: number;
  faults?: Partial<FaultSettings>;
  notifications?: Partial<NotificationSettings>;
  /** How the simulated parties behave: rosterMode, lobbyAdmitAfterMs, decliningIdentityIds, ringingIdentityIds. */
  flows?: Partial<FlowSettings>;
  /** Meetings known besides `defaultMeetings` (1234567 + psw123, 7654321), for joinMeetingId joins. */
  meetings?: MeetingRegistration[];
  /** fastify logger option; default false. */
  logger?: boolean | object;
  /** `iss` of notification JWTs; default https://api.botframework.com. */
  notificationIssuer?: string;
  /** `expires_in` of access tokens; default 3599 as Entra ID. */
  accessTokenLifetimeSeconds?: number;
}

export interface GraphSimulator {
  /** http://127.0.0.1:<port> */
  url: string;
  /** `${url}/v1.0`: what the Graph client uses as base URL. */
  graphBaseUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  botAppId: string;
  /**
   * For @azure/msal-node ConfidentialClientApplication `auth`: an https authority whose host is
   * in knownAuthorities, plus authorityMetadata whose token_endpoint is the simulator's http
   * URL, so MSAL makes no discovery request.
   */
  msal: { authority: string; knownAuthorities: string[]; authorityMetadata: string };
  /** How a webhook verifies the simulator's notification JWTs. */
  notificationAuth: { jwksUrl: string; openIdConfigurationUrl: string; issuer: string; audience: string };
  /** Changes knobs for the rest of the run; throws SimulatorConfigError (changing nothing) on bad values. */
  configure(settings: {
    faults?: Partial<FaultSettings>;
    notifications?: Partial<NotificationSettings>;
    flows?: Partial<FlowSettings>;
  }): void;
  /** The knobs in force. */
  settings(): SimulatorSettings;
  /**
   * Scripted faults, applied before random ones: the next `times` requests matching method +
   * path regex get `status` (+ Retry-After, + Graph error body with `code`). Without `path` a
   * fault matches Graph API requests only; give a path to fault the token endpoint. With
   * `delayMs` and no `status`, matching requests are served but answered `delayMs` late (their
   * notifications are not held back); they appear in `requests` before the answer is sent.
   */
  injectFault(fault: ScriptedFault): void;
  clearFaults(): void;
  /**
   * Creates an incoming P2P call (seed 000/001 shapes) ringing the bot and queues the
   * `created`/`incoming` notification to botUrl. Resolves once queued; use whenIdle() to wait
   * for delivery.
   */
  placeIncomingCall(options: IncomingCallOptions): Promise<{ callId: string }>;
  /**
   * A P2P call another system answered and holds (its notifications go to `callbackUri`), ready to
   * be replaced by an invite with replacesCallId. Nothing is posted.
   */
  placeAnsweredCall(options: AnsweredCallOptions): { callId: string };
  /**
   * An established group call with these participants, held by another application unless
   * `appId` is the bot's (moving a participant out of it then fails). Nothing is posted.
   */
  placeGroupCall(options: GroupCallOptions): PlacedGroupCall;
  /** The other party hangs up: the call is terminated and deleted, with notifications to its callback. */
  endByRemoteParty(callId: string, terminationReason?: string): void;
  /**
   * Lets a bot that joined a meeting as a guest in from the lobby: established, then a roster with
   * the bot no longer isInLobby and the meeting's participants. Throws if nobody waits there.
   */
  admitFromLobby(callId: string): void;
  /** Adds (or replaces, by joinMeetingId) a meeting the bot can join by joinMeetingId (+ passcode). */
  registerMeeting(meeting: MeetingRegistration): RegisteredMeeting;
  meetings(): RegisteredMeeting[];
  /** These identity ids (user, application, phone, …) never join from now on: adds to flows.decliningIdentityIds. */
  declineInvitees(identityIds: string[]): void;
  /** Snapshots of every call, including terminated/deleted ones with their final state. */
  calls(): SimulatedCall[];
  getCall(callId: string): SimulatedCall | undefined;
  /** Every Graph API request: { method, path, status, body, response, at }. */
  requests: RequestRecord[];
  /** Every notification POST attempt: { url, body, status or error, kind, callId, at, attempt, … }. */
  deliveries: DeliveryRecord[];
  /** Notifications the knobs dropped (never posted). */
  dropped: DroppedNotification[];
  /** Count of access tokens issued by the token endpoint. */
  readonly tokensIssued: number;
  /** Resolves when no notification is pending delivery. */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

const pathSafeId = /^[\w.-]+$/;

function checkOptions(options: SimulatorOptions): void {
  const problems: string[] = [];
  const { port, seed, accessTokenLifetimeSeconds } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    problems.push(`port must be an integer 0..65535, got ${String(port)}`);
  }
  for (const field of ['tenantId', 'clientId', 'botAppId'] as const) {
    const value = options[field];
    if (value !== undefined && !pathSafeId.test(value)) {
      problems.push(`${field} must be a non-empty id of letters, digits, '.', '_' or '-', got "${value}"`);
    }
  }
  if (options.host !== undefined && !/^[\w.:-]+$/.test(options.host)) {
    problems.push(`host must be an address or host name such as 127.0.0.1, got "${options.host}"`);
  }
  if (options.clientSecret !== undefined && options.clientSecret.length === 0) {
    problems.push('clientSecret must not be empty');
  }
  if (seed !== undefined && !Number.isFinite(seed))
    problems.push(`seed must be a finite number, got ${seed}`);
  if (
    accessTokenLifetimeSeconds !== undefined &&
    (!Number.isInteger(accessTokenLifetimeSeconds) || accessTokenLifetimeSeconds < 1)
  ) {
    problems.push(`accessTokenLifetimeSeconds must be a positive integer, got ${accessTokenLifetimeSeconds}`);
  }
  if (problems.length > 0)
    throw new SimulatorConfigError(`invalid simulator options: ${problems.join('; ')}`);
}

/**
 * Validates a patch of every knob (`faults` and `notifications`: settings.ts; `flows`:
 * flow-settings.ts) and returns the merged result, or throws naming every bad field of either,
 * so that a bad patch changes nothing.
 */
function mergeAllSettings(
  current: { settings: Settings; flows: FlowSettings },
  patch: unknown,
): { settings: Settings; flows: FlowSettings } {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new SimulatorConfigError(
      'invalid simulator settings: expected an object such as { "flows": { … } }',
    );
  }
  const { flows: flowsPatch, ...rest } = patch as Record<string, unknown>;
  const problems: string[] = [];
  let settings = current.settings;
  let flows = current.flows;
  try {
    settings = mergeSettings(current.settings, rest);
  } catch (error) {
    if (!(error instanceof SimulatorConfigError)) throw error;
    problems.push(error.message);
  }
  try {
    if (flowsPatch !== undefined) flows = mergeFlowSettings(current.flows, flowsPatch);
  } catch (error) {
    if (!(error instanceof SimulatorConfigError)) throw error;
    problems.push(error.message);
  }
  if (problems.length > 0) throw new SimulatorConfigError(problems.join('\n'));
  return { settings, flows };
}

/** Bound to every interface, the simulator is reached on this machine through loopback. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Starts a Graph calling API + token endpoint stand-in, on 127.0.0.1 unless `host` says otherwise. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<GraphSimulator> {
  checkOptions(options);
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID;
  const clientSecret = options.clientSecret ?? DEFAULT_CLIENT_SECRET;
  const botAppId = options.botAppId ?? clientId;
  const notificationIssuer = options.notificationIssuer ?? DEFAULT_NOTIFICATION_ISSUER;
  const host = options.host ?? '127.0.0.1';
  const identity: SimulatorIdentity = {
    tenantId,
    clientId,
    clientSecret,
    botAppId,
    notificationIssuer,
    accessTokenIssuer: `${authorityFor(tenantId)}/v2.0`,
  };

  let settings: Settings = mergeSettings(
    { faults: defaultFaultSettings, notifications: defaultNotificationSettings },
    {
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.notifications ? { notifications: options.notifications } : {}),
    },
  );
  let flows: FlowSettings = mergeFlowSettings(defaultFlowSettings, options.flows ?? {});
  const meetings = createMeetingRegistry();
  for (const meeting of options.meetings ?? []) meetings.register(meeting);
  const random = createRandom(options.seed);
  const tokens = await createTokenService({
    ...identity,
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3599,
  });

  const store = createCallStore();
  const requests: RequestRecord[] = [];
  const deliveries: DeliveryRecord[] = [];
  const dropped: DroppedNotification[] = [];
  const notifier = createNotifier({
    random,
    settings: () => settings.notifications,
    signToken: () => tokens.signNotificationToken(),
    deliveries,
    dropped,
  });
  const faults = createFaultInjector(random, () => settings.faults);
  const botIdentity: IdentitySet = { application: { id: botAppId, displayName: 'Handoff Bot' } };
  const callingDeps = {
    store,
    notifier,
    tenantId,
    botIdentity,
    appId: clientId,
    meetings,
    flows: () => flows,
  };
  const calling = createCalling(callingDeps);

  const control: SimulatorControl = {
    connection: (origin) => describeConnection(origin, identity),
    settings: () => clone({ ...settings, flows }),
    configure: (patch) => {
      const next = mergeAllSettings({ settings, flows }, patch);
      settings = next.settings;
      flows = next.flows;
    },
    injectFault: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    placeIncomingCall: (incoming) => placeIncomingCall(callingDeps, incoming),
    placeAnsweredCall: (answered) => placeAnsweredCall(callingDeps, answered),
    placeGroupCall: (groupCall) => placeGroupCall(callingDeps, groupCall),
    endByRemoteParty: (callId, terminationReason) => calling.endByRemoteParty(callId, terminationReason),
    admitFromLobby: (callId) => calling.admitFromLobby(callId),
    registerMeeting: (meeting) => meetings.register(meeting),
    meetings: () => meetings.all(),
    calls: () => clone(store.all()),
    deliveries,
    dropped,
  };

  const app = buildSimulatorServer({
    tokens,
    calling,
    faults,
    control,
    requests,
    logger: options.logger ?? false,
  });
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    notifier.stop();
    calling.stop();
    await app.close();
    throw new SimulatorConfigError(
      `the simulator could not listen on ${host}:${options.port ?? 0} (${(error as Error).message}); pick another port or pass 0 for a free one`,
    );
  }
  const port = (app.server.address() as AddressInfo).port;
  const connection = describeConnection(`http://${reachableHost(host)}:${port}`, identity);
  let stopping: Promise<void> | undefined;

  return {
    ...connection,
    configure: (patch) => control.configure(patch),
    settings: control.settings,
    injectFault: control.injectFault,
    clearFaults: control.clearFaults,
    placeIncomingCall: async (incoming) => control.placeIncomingCall(incoming),
    placeAnsweredCall: control.placeAnsweredCall,
    placeGroupCall: control.placeGroupCall,
    endByRemoteParty: control.endByRemoteParty,
    admitFromLobby: control.admitFromLobby,
    registerMeeting: control.registerMeeting,
    meetings: control.meetings,
    declineInvitees: (identityIds) => {
      control.configure({ flows: { decliningIdentityIds: [...flows.decliningIdentityIds, ...identityIds] } });
    },
    calls: control.calls,
    getCall: (callId) => {
      const call = store.get(callId);
      return call ? clone(call) : undefined;
    },
    requests,
    deliveries,
    dropped,
    get tokensIssued() {
      return tokens.tokensIssued;
    },
    whenIdle: () => notifier.whenIdle(),
    stop: () => {
      stopping ??= (async () => {
        notifier.stop();
        calling.stop();
        await app.close();
      })();
      return stopping;
    },
  };
}
