// Handoff's webhook in a process of its own (src/bin/webhook.ts), as docker-compose runs it, so a test
// can send it SIGTERM under load (test/support/handoff-process.ts runs and supervises it).
import { type HandoffProcess, startHandoffProcess } from './handoff-process.js';

export interface WebhookProcessOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** The running simulator whose keys sign the notifications (embedded mode). */
  simulatorUrl: string;
  /** HANDOFF_DRAIN_DELAY_MS. */
  drainDelayMs?: number;
  /** Shown in front of every output line, e.g. `webhook-1`. */
  name: string;
  readyTimeoutMs?: number;
  /** More settings, e.g. PUBLIC_BASE_URL behind a load balancer, OTEL_EXPORTER_OTLP_ENDPOINT. */
  env?: Record<string, string>;
  /** Node options before the entry point, e.g. `--import` of a module hook. */
  nodeArgs?: string[];
}

export interface WebhookProcess extends Omit<HandoffProcess, 'ready'> {
  /** Resolves with the listeners' URLs once it printed "ready". */
  ready: Promise<{ webhookUrl: string; apiUrl: string }>;
}

export function startWebhookProcess(options: WebhookProcessOptions): WebhookProcess {
  let webhookUrl: string | undefined;
  let apiUrl: string | undefined;
  const started = startHandoffProcess({
    entryPoint: 'src/bin/webhook.ts',
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    // Port 0 on both listeners: the URLs are read from the lines it prints.
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: options.namespace,
      HANDOFF_TASK_QUEUE: options.taskQueue,
      SIMULATOR_URL: options.simulatorUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      HANDOFF_API_HOST: '127.0.0.1',
      HANDOFF_API_PORT: '0',
      LOG_LEVEL: 'warn',
      ...(options.drainDelayMs !== undefined ? { HANDOFF_DRAIN_DELAY_MS: String(options.drainDelayMs) } : {}),
      ...options.env,
    },
    name: options.name,
    readyLine: '[handoff-webhook] ready',
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    onLine: (line) => {
      webhookUrl ??= /webhook \(public[^)]*\) on (http:\/\/[^;\s]+)/.exec(line)?.[1];
      apiUrl ??= /API on (http:\/\/[^:\s]+:\d+)/.exec(line)?.[1];
    },
  });
  const ready = started.ready.then(() => {
    if (!webhookUrl || !apiUrl)
      throw new Error(`${options.name} printed no listener URLs:\n${started.output.join('\n')}`);
    return { webhookUrl, apiUrl };
  });
  ready.catch(() => undefined);
  return { ...started, ready };
}
