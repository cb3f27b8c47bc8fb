/**
 * A server span per HTTP request (issue 13.4): the root of a notification's trace, or the child of
 * the caller's `traceparent`. It is active from the handler on (after the body is parsed), so the
 * Temporal client's interceptor puts it in the headers of the signal or start the handler sends.
 * Named and labelled by route template, never by raw URL: workflow ids stay out of span names.
 */
import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const spans = new WeakMap<FastifyRequest, Span>();

export function recordRequestSpans(app: FastifyInstance, tracer: Tracer, listener: string): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(context.active(), request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'handoff.listener': listener,
        },
      },
      parent,
    );
    spans.set(request, span);
    done();
  });
  // fastify calls the handler from this hook's `done`: run it, and everything it awaits, in the span.
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (span === undefined) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span !== undefined) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(request);
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
    span?.end();
    spans.delete(request);
    done();
  });
}
