/**
 * The request bodies workflows send, against the seed pages' own requests (issue 9, item 7): the
 * source typed `participantInfo`, every party to call or invite typed `invitationParticipantInfo`,
 * `targetDisposition: "default"` where the walkthroughs join a meeting as the bot, and call ids
 * given as paths made bare. The identities are the seeds' own, passed through as given.
 */
import { describe, expect, it } from 'vitest';
import type { IdentitySet } from '../src/graph/index.js';
import { callIdFrom } from '../src/graph/resource.js';
import { bareCallId } from '../src/workflows/call-id.js';
import {
  createCallRequestFor,
  inviteParticipantsRequestFor,
  transferIntoCallRequestFor,
} from '../src/workflows/graph-bodies.js';
import { seedJsonCopy } from './support/seed-notifications.js';

type Json = Record<string, unknown>;
const seed = (ref: string) => seedJsonCopy(ref) as Json;
const identityOf = (party: unknown) => (party as { identity: IdentitySet }).identity;
const targetsOf = (body: Json) => body.targets as Json[];
const callbackUri = 'https://bot.contoso.com/callback';

describe('create call bodies (seed 004)', () => {
  it('example 1, P2P: the typed source and target of the page', () => {
    const page = seed('004:65');
    const body = createCallRequestFor(
      { kind: 'p2p', target: identityOf(targetsOf(page)[0]), media: { kind: 'serviceHosted' } },
      { callbackUri, botAppId: '2891555a-92ff-42e6-80fa-6e1300c6b5c6' },
    );
    expect(body).toMatchObject({ '@odata.type': page['@odata.type'], callbackUri: page.callbackUri });
    expect(body.source).toEqual({
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: { application: { id: '2891555a-92ff-42e6-80fa-6e1300c6b5c6' } },
    });
    expect(body.targets).toEqual(targetsOf(page));
    expect(body).not.toHaveProperty('targetDisposition');
  });

  it('example 3, group call: each target typed invitationParticipantInfo', () => {
    const page = seed('004:425');
    const body = createCallRequestFor(
      {
        kind: 'groupCall',
        targets: targetsOf(page).map(identityOf),
        subject: page.subject as string,
        media: { kind: 'serviceHosted' },
      },
      { callbackUri, botAppId: 'dd3885da-f9ab-486b-bfae-85de3d445555' },
    );
    expect(body).toMatchObject({ direction: 'outgoing', subject: page.subject });
    expect(body.source?.['@odata.type']).toBe('#microsoft.graph.participantInfo');
    // The page types its second target participantInfo, a slip the reference's schema does not allow.
    expect(body.targets).toEqual(
      targetsOf(page).map((target) => ({
        ...target,
        '@odata.type': '#microsoft.graph.invitationParticipantInfo',
      })),
    );
  });

  it('example 10, guest join: the guest as typed source and no targetDisposition', () => {
    const page = seed('004:1554');
    const guest = identityOf(page.source).guest as { id: string; displayName: string };
    const meetingInfo = page.meetingInfo as { organizer: IdentitySet };
    const body = createCallRequestFor(
      {
        kind: 'meeting',
        chatInfo: page.chatInfo as never,
        organizer: meetingInfo.organizer,
        guest: { id: guest.id, displayName: guest.displayName },
        media: { kind: 'serviceHosted' },
      },
      { callbackUri, botAppId: 'bot' },
    );
    expect(body.source).toEqual({
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: { guest: { id: guest.id, displayName: guest.displayName } },
    });
    expect(body).not.toHaveProperty('targetDisposition');
  });

  it('example 11, PSTN: the application instance as typed source, the number as typed target', () => {
    const page = seed('004:1795');
    const instance = identityOf(page.source).applicationInstance as { id: string; displayName: string };
    const phone = identityOf(targetsOf(page)[0]).phone as { id: string };
    const body = createCallRequestFor(
      {
        kind: 'pstn',
        phoneNumber: phone.id,
        applicationInstance: { id: instance.id, displayName: instance.displayName },
        media: { kind: 'serviceHosted' },
      },
      { callbackUri, botAppId: 'bot', tenantId: page.tenantId as string },
    );
    expect(body).toMatchObject({ tenantId: page.tenantId, requestedModalities: page.requestedModalities });
    expect(body.source).toEqual({
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: { applicationInstance: { id: instance.id, displayName: instance.displayName } },
    });
    expect(body.targets).toEqual([
      { '@odata.type': '#microsoft.graph.invitationParticipantInfo', identity: { phone: { id: phone.id } } },
    ]);
  });
});

describe('the transfer walkthrough (seed 001, replacing an existing peer-to-peer call)', () => {
  it('step 2: joins the meeting without media exactly as the page does', () => {
    const page = seed('001:621');
    const meetingInfo = page.meetingInfo as { organizer: IdentitySet };
    const body = createCallRequestFor(
      {
        kind: 'meeting',
        chatInfo: page.chatInfo as never,
        organizer: meetingInfo.organizer,
        subject: page.subject as string,
        media: { kind: 'none' },
      },
      { callbackUri: page.callback as string, botAppId: identityOf(page.source).application!.id! },
    );
    // The page predates `callbackUri` (it writes `callback`), the call's own @odata.type and
    // allowConversationWithoutHost, which the current page (seed 004) sends.
    const { callback, ...rest } = page;
    expect(body).toEqual({
      ...rest,
      '@odata.type': '#microsoft.graph.call',
      callbackUri: callback,
      meetingInfo: { ...(rest.meetingInfo as Json), allowConversationWithoutHost: true },
    });
  });

  it('step 3: invites the caller typed invitationParticipantInfo, with the bare replacesCallId', () => {
    const page = seed('001:766');
    const [participant] = page.participants as Json[];
    const body = transferIntoCallRequestFor(
      {
        participant: { identity: identityOf(participant) },
        replacesCallId: bareCallId(participant!.replacesCallId as string),
      },
      'clientContext-value',
    );
    expect(body).toEqual({
      participants: [{ ...participant, replacesCallId: '57DAB8B1894C409AB240BD8BEAE78896' }],
      clientContext: 'clientContext-value',
    });
  });

  it('seed 003, example 3: the invite with replacesCallId, member for member', () => {
    const page = seed('003:387');
    const [participant] = page.participants as Json[];
    const body = transferIntoCallRequestFor(
      {
        participant: { identity: identityOf(participant) },
        replacesCallId: participant!.replacesCallId as string,
      },
      page.clientContext as string,
    );
    expect(body).toEqual(page);
  });

  it.each([
    ['1', '003:58'],
    ['2', '003:189'],
  ])('seed 003, example %s: a plain invite, typed, member for member', (_example, ref) => {
    const page = seed(ref);
    // The page's plain invites carry a replacesCallId too; Handoff sends that only when it
    // replaces a call (transferIntoCall), so the comparison leaves it out.
    const participants = (page.participants as Json[]).map(
      ({ replacesCallId: _, ...participant }) => participant,
    );
    const body = inviteParticipantsRequestFor(
      { participants: participants.map((participant) => ({ identity: identityOf(participant) })) },
      page.clientContext as string,
    );
    expect(body).toEqual({ ...page, participants });
  });
});

describe('call ids given as paths', () => {
  const id = '57DAB8B1894C409AB240BD8BEAE78896';
  it.each([
    id,
    `/communications/calls/${id}`,
    `/app/calls/${id}`,
    `/app/calls/${id}/`,
    `https://graph.microsoft.com/beta/communications/calls/${id}`,
    `https://graph.microsoft.com/v1.0/communications/calls/${id}`,
    `/applications/8A34A46B-3D17-4ADC-8DCE-DC4E7D572698/calls/${id}`,
    ` ${id} `,
  ])('%s names the call, as src/graph reads it', (given) => {
    expect(bareCallId(given)).toBe(id);
    expect(callIdFrom(given)).toBe(bareCallId(given));
  });

  it.each(['a/b', '/communications/calls/', `/communications/calls/${id}/participants`, '..'])(
    'leaves %s as it is: not a call path',
    (given) => {
      expect(bareCallId(given)).toBe(given);
    },
  );
});
