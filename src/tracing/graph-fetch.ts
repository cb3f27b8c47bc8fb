/**
 * A span around every Graph request the activities make (src/graph/client.ts takes a `fetch`), the
 * child of the activity's span: method, route template and status. Ids never become attributes or
 * names, so spans of one operation group together in Jaeger/Tempo.
 */
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { graphOperationOf } from '../worker/graph-metrics.js';

/** Path segments that follow a collection but are actions, not ids (Graph's calling vocabulary). */
const ACTIONS = new Set([
  'answer',
  'reject',
  'redirect',
  'transfer',
  'keepAlive',
  'invite',
  'mute',
  'unmute',
  'playPrompt',
  'recordResponse',
  'cancelMediaProcessing',
  'subscribeToTone',
  'changeScreenSharingRole',
  'updateRecordingStatus',
  'startHoldMusic',
  'stopHoldMusic',
  'getPresencesByUserId',
]);
const COLLECTIONS = new Set(['calls', 'operations', 'participants', 'onlineMeetings', 'users', 'chats']);

/** `/v1.0/communications/calls/abc/participants/invite` → `/v1.0/communications/calls/{id}/participants/invite`. */
export function graphRouteTemplate(url: string): string {
  const segments = new URL(url).pathname.split('/');
  return segments
    .map((segment, index) =>
      index > 0 && COLLECTIONS.has(segments[index - 1]!) && segment !== '' && !ACTIONS.has(segment)
        ? '{id}'
        : segment,
    )
    .join('/');
}

function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/** `fetch` that wraps each Graph request in a client span; answers and errors pass through unchanged. */
export function tracedFetch(tracer: Tracer, fetchImpl: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const url = urlOf(input);
    const method = (init?.method ?? 'GET').toUpperCase();
    const route = graphRouteTemplate(url);
    return tracer.startActiveSpan(
      `Graph ${graphOperationOf(method, url)}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.template': route,
          'server.address': new URL(url).host,
          'graph.operation': graphOperationOf(method, url),
        },
      },
      async (span) => {
        try {
          const response = await fetchImpl(input, init);
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
          return response;
        } catch (error) {
          span.setAttribute('error.type', error instanceof Error ? error.name : 'network');
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}
