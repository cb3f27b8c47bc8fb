/**
 * Graph resource paths name calls in two generations (design.md, seeds 000 vs 001):
 * `/app/calls/{id}` (deprecated) and `/communications/calls/{id}`, sometimes as absolute URLs
 * (`https://graph.microsoft.com/beta/communications/calls/{id}` in Location headers), and
 * `/applications/{appId}/calls/{id}` on the old invite page (seed 002).
 */

export type ResourceRef =
  | { kind: 'call'; callId: string }
  | { kind: 'operation'; callId: string; operationId: string }
  | { kind: 'participants'; callId: string }
  | { kind: 'participant'; callId: string; participantId: string }
  | { kind: 'callChild'; callId: string; collection: string };

const callPath =
  /(?:^|\/)(?:app|communications|applications\/[^/]+)\/calls\/([^/?#]+)(?:\/([^/?#]+)(?:\/([^/?#]+))?)?\/?(?:[?#].*)?$/i;

/** Parses a Graph call resource path or URL; returns undefined when it is not one. */
export function parseResource(resource: string): ResourceRef | undefined {
  const match = callPath.exec(resource.trim());
  if (!match) return undefined;
  const [, callId, collection, childId] = match;
  if (!callId) return undefined;
  if (collection === undefined) return { kind: 'call', callId };
  const lower = collection.toLowerCase();
  if (lower === 'operations' && childId !== undefined)
    return { kind: 'operation', callId, operationId: childId };
  if (lower === 'participants' && childId === undefined) return { kind: 'participants', callId };
  if (lower === 'participants' && childId !== undefined)
    return { kind: 'participant', callId, participantId: childId };
  return { kind: 'callChild', callId, collection };
}

/**
 * `replacesCallId` is a bare id in the current docs (seed 003) and a resource path in the
 * walkthroughs (`/app/calls/57DAB…`, seed 000). Both name the same call.
 */
export function callIdFrom(idOrPath: string): string {
  const ref = parseResource(idOrPath);
  return ref ? ref.callId : idOrPath.trim();
}

/** Graph ids are GUID-like and case-insensitive: `57DAB8B1…` and `57dab8b1-…` forms both occur. */
export function sameGraphId(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  return normaliseGraphId(a) === normaliseGraphId(b);
}

export function normaliseGraphId(id: string): string {
  return id.toLowerCase();
}
