/**
 * Call ids as Graph's notifications name them. A caller may give a call as a bare id (seed 003,
 * example 3) or as the resource path the walkthroughs use (`/communications/calls/{id}`, seed 001
 * step 3; `/app/calls/{id}`, seed 000), even as an absolute URL. Notifications always say the
 * bare id, so every id is made bare where it comes in (the API's request parsing, workflow input):
 * a path kept as given never matches them, and the transfer then took its own original call for
 * someone else's (issue 9, item 7).
 *
 * No imports: workflow code and the webhook share it. It reads the call segment the way
 * src/graph/resource.ts's parseResource does (test/call-id.test.ts holds them together).
 */

/** A call's resource path or URL: `[https://host[/v1.0|/beta]]/(app|communications|applications/{app})/calls/{id}[/]`. */
const callResourcePath =
  /^(?:https?:\/\/[^/]+(?:\/(?:v1\.0|beta))?)?\/(?:app|communications|applications\/[^/]+)\/calls\/([^/?#]+)\/?$/i;

/** The bare call id of `idOrPath`: the id itself, or the id a call's resource path names. */
export function bareCallId(idOrPath: string): string {
  const trimmed = idOrPath.trim();
  const match = callResourcePath.exec(trimmed);
  return match?.[1] ?? trimmed;
}

/**
 * Workflows given a call id as a path used it as given; from this patch on they use the bare id.
 * Only ids that change take the patch, so histories with bare ids replay without a marker.
 */
export const BARE_CALL_IDS_PATCH = 'bare-call-ids';
