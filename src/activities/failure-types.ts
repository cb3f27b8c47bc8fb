/**
 * The ApplicationFailure types Graph activities raise. A module of its own with no imports,
 * so that workflow code can import it without pulling the Graph client into the bundle.
 */

/** Graph throttled (429/503), failed (5xx) or could not be reached: may succeed later. */
export const GRAPH_RETRYABLE = 'GraphRetryable';

/** Graph rejected the request (400/401/403/404…): the same request will fail again. */
export const GRAPH_REJECTED = 'GraphRejected';

/** What a Graph activity failure carries in its details (GraphRequestError.toJSON()). */
export interface GraphFailureDetails {
  kind: 'http' | 'timeout' | 'network';
  status?: number;
  code?: string;
  retryAfterSeconds?: number;
  retryable: boolean;
  message: string;
}
