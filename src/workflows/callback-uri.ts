/**
 * Whether a call is this workflow's own: Graph's read of it names this workflow's callbackUri
 * (decisions.md #4). A workflow confirms it before it adopts or hangs up a call it did not create,
 * so that a notification about someone else's call, however it got here, cannot make it act on
 * that call (issue 9, item 3). Pure: workflow code (no URL parsing that could differ by runtime).
 */

/** Scheme and host compare case-insensitively; a trailing slash is ignored; the rest exactly. */
export function normaliseCallbackUri(uri: string): string {
  const trimmed = uri.trim().replace(/\/+$/, '');
  const origin = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(trimmed);
  if (!origin) return trimmed;
  return `${origin[1]!.toLowerCase()}${origin[2]}`;
}

/** A call read without a callbackUri cannot be confirmed as ours, so it is not. */
export function isOwnCallbackUri(read: string | undefined, own: string): boolean {
  return read !== undefined && read !== '' && normaliseCallbackUri(read) === normaliseCallbackUri(own);
}
