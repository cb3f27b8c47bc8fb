/**
 * Fastify's per-request log lines ("incoming request", "request completed") at debug instead of
 * info (issue 12): at info they were two lines per Graph notification, ≈0.11 ms of CPU each
 * request, and they repeat what the routes already log when something happens. A request that
 * fails still logs at error, and the routes' own lines (a transfer started, a token refused, a
 * notification dropped) keep their levels. LOG_LEVEL=debug brings the per-request lines back.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

export class QuietRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    if (error) {
      reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    } else {
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}
