import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { originOf, type SimulatorConnection } from './connection.js';
import type { ScriptedFault } from './faults.js';
import type { SimulatorSettings } from './flow-settings.js';
import type { MeetingRegistration, RegisteredMeeting } from './meetings.js';
import type { DeliveryRecord, DroppedNotification } from './notifier.js';
import type {
  AnsweredCallOptions,
  GroupCallOptions,
  IncomingCallOptions,
  PlacedGroupCall,
} from './scenarios.js';
import { SimulatorConfigError } from './settings.js';
import type { SimulatedCall } from './state.js';

/** What the admin routes drive; the GraphSimulator object offers the same in-process. */
export interface SimulatorControl {
  /** What a client needs to use the simulator reached at `origin` (GET /_simulator/connection). */
  connection(origin: string): SimulatorConnection;
  settings(): SimulatorSettings;
  configure(patch: unknown): void;
  injectFault(fault: ScriptedFault): void;
  clearFaults(): void;
  placeIncomingCall(options: IncomingCallOptions): { callId: string };
  placeAnsweredCall(options: AnsweredCallOptions): { callId: string };
  placeGroupCall(options: GroupCallOptions): PlacedGroupCall;
  endByRemoteParty(callId: string, terminationReason?: string): void;
  admitFromLobby(callId: string): void;
  registerMeeting(meeting: MeetingRegistration): RegisteredMeeting;
  meetings(): RegisteredMeeting[];
  calls(): SimulatedCall[];
  deliveries: DeliveryRecord[];
  dropped: DroppedNotification[];
}

const faultBodySchema = z.strictObject({
  method: z.string().optional(),
  /** A regular expression source, tested against the request path. */
  path: z.string().optional(),
  bodyContains: z.string().min(1).optional(),
  status: z.number().int().optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  code: z.string().optional(),
  times: z.number().int().min(1).optional(),
  delayMs: z.number().int().min(0).optional(),
});

function parseOrThrow<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw new SimulatorConfigError(`invalid ${what}:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/**
 * Knobs for the process mode (`npm run simulator`), under /_simulator. No token needed: the
 * simulator only ever listens on 127.0.0.1.
 */
export async function adminRoutes(
  app: FastifyInstance,
  { control }: { control: SimulatorControl },
): Promise<void> {
  // For processes that run apart from the simulator (docker-compose's worker and webhook): the
  // URLs follow the address they used, e.g. http://simulator:4010.
  app.get('/connection', async (request) => control.connection(originOf(request)));

  app.get('/settings', async () => control.settings());

  app.put('/settings', async (request) => {
    control.configure(request.body ?? {});
    return control.settings();
  });

  app.post('/incoming-calls', async (request, reply) => {
    const result = control.placeIncomingCall((request.body ?? {}) as IncomingCallOptions);
    return reply.code(201).send(result);
  });

  app.post<{ Params: { callId: string }; Body: { terminationReason?: string } | undefined }>(
    '/calls/:callId/remote-hang-up',
    async (request, reply) => {
      control.endByRemoteParty(request.params.callId, request.body?.terminationReason);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { callId: string } }>('/calls/:callId/admit', async (request, reply) => {
    control.admitFromLobby(request.params.callId);
    return reply.code(204).send();
  });

  // Another system's calling webhook, for calls Handoff should not hear about until it is asked to
  // transfer them (`npm run demo -- place-call`): it accepts every notification and counts them.
  let otherSystemReceived = 0;
  app.post('/other-system', async (_request, reply) => {
    otherSystemReceived += 1;
    return reply.code(202).send();
  });
  app.get('/other-system', async () => ({ received: otherSystemReceived }));

  app.post('/answered-calls', async (request, reply) => {
    const result = control.placeAnsweredCall((request.body ?? {}) as AnsweredCallOptions);
    return reply.code(201).send(result);
  });

  app.post('/group-calls', async (request, reply) => {
    const result = control.placeGroupCall((request.body ?? {}) as GroupCallOptions);
    return reply.code(201).send(result);
  });

  app.get('/meetings', async () => ({ value: control.meetings() }));

  app.post('/meetings', async (request, reply) => {
    const registered = control.registerMeeting((request.body ?? {}) as MeetingRegistration);
    return reply.code(201).send(registered);
  });

  app.get('/calls', async () => ({ value: control.calls() }));

  app.post('/faults', async (request, reply) => {
    const { path, ...fault } = parseOrThrow(faultBodySchema, request.body, 'fault');
    let pattern: RegExp | undefined;
    if (path !== undefined) {
      try {
        pattern = new RegExp(path);
      } catch (error) {
        throw new SimulatorConfigError(
          `invalid fault: path is not a regular expression: ${(error as Error).message}`,
        );
      }
    }
    control.injectFault({ ...fault, ...(pattern ? { path: pattern } : {}) });
    return reply.code(201).send({ injected: true });
  });

  app.delete('/faults', async (_request, reply) => {
    control.clearFaults();
    return reply.code(204).send();
  });

  app.get('/deliveries', async () => ({ value: control.deliveries, dropped: control.dropped }));
}
