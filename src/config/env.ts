/**
 * Handoff's configuration, read once from the environment at start. Every setting is named
 * by its environment variable in errors, so a bad deployment fails at start with a message
 * that says what to fix (README, "Configuration").
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type NationalCloud, nationalCloud } from '../graph/index.js';
import {
  botLegPolicySchema,
  stayMaxDurationMsSchema,
  transferTargetSchema,
} from '../webhook/transfer-request.js';
import type { TransferPolicy, TransferTarget } from '../workflows/types.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

export interface TemporalSettings {
  /** Unset: start the embedded dev server (`temporal server start-dev`). */
  address?: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: { clientCertPath?: string; clientKeyPath?: string };
  embedded: { port: number; uiPort: number; dbFile?: string };
  /** Where operators look at runs; the embedded server's UI unless TEMPORAL_UI_URL says otherwise. */
  uiUrl?: string;
}

export interface TenantSettings {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificate?: { privateKey: string; thumbprintSha256?: string; thumbprint?: string };
  cloud: NationalCloud;
  graphBaseUrl: string;
}

export interface NotificationAuthSettings {
  jwksUrl?: string;
  openIdConfigurationUrl?: string;
  issuers: string[];
  audience: string;
  allowedTenantIds?: string[];
}

export interface HandoffConfig {
  /** `embedded`: no tenant configured, Graph is the simulator. `tenant`: real Microsoft Graph. */
  mode: 'embedded' | 'tenant';
  temporal: TemporalSettings;
  webhook: { host: string; port: number; publicBaseUrl: string; apiToken?: string; bodyLimitBytes: number };
  /** Present in tenant mode. */
  tenant?: TenantSettings;
  /** Present in tenant mode; in embedded mode the simulator's keys are used. */
  notificationAuth?: NotificationAuthSettings;
  /** The incoming-call policy: where an incoming call is transferred. Unset: recorded and ignored. */
  defaultTarget?: TransferTarget;
  /**
   * Embedded mode: the simulator this process starts (`port`), or, for processes that run apart
   * (docker-compose, the worker-restart tests), one already running at `url`.
   */
  simulator: { port: number; url?: string };
  /** pino level of the webhook's and the processes' logs. */
  logLevel: string;
  /** Workflow code bundled ahead of time; unset, workers bundle the sources at start. */
  workflowBundlePath?: string;
  /** Call ownership around every transfer (docs/call-ownership.md); a request's own fields win. */
  transferPolicy: TransferPolicy;
}

/** The meeting of the seed walkthrough (seed 000/001, step 2): the embedded default target. */
export const seedMeetingTarget: TransferTarget = {
  kind: 'meeting',
  subject: 'Handoff transfer',
  chatInfo: {
    threadId: '90ED37DC-D8E3-4E11-9DE3-30A955DDA06F',
    messageId: '1507228578052',
    replyChainMessageId: '1507228578052',
  },
  organizer: {
    user: { id: '90ED37DC-D8E3-4E11-9DE3-30A955DDA06F', tenantId: '49BFC225-8482-4AB8-94E7-76B48FDB9849' },
  },
};

const TENANT_VARIABLES = [
  'GRAPH_TENANT_ID',
  'GRAPH_CLIENT_ID',
  'GRAPH_CLIENT_SECRET',
  'GRAPH_CERTIFICATE_PATH',
] as const;

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  text(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  required(name: string, why: string): string {
    const value = this.text(name);
    if (value === undefined) this.problems.push(`${name} is required ${why}`);
    return value ?? '';
  }

  port(name: string, fallback: number): number {
    const value = this.text(name);
    if (value === undefined) return fallback;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      this.problems.push(`${name} must be a TCP port (0-65535), got "${value}"`);
      return fallback;
    }
    return port;
  }

  url(name: string, options: { https?: boolean } = {}): string | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    if (!URL.canParse(value)) {
      this.problems.push(`${name} must be a URL, got "${value}"`);
      return undefined;
    }
    if (options.https && new URL(value).protocol !== 'https:') {
      this.problems.push(
        `${name} must be an https URL (Graph only calls back https endpoints), got "${value}"`,
      );
    }
    return value.replace(/\/+$/, '');
  }

  list(name: string): string[] | undefined {
    const value = this.text(name);
    return value
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }

  json<T>(name: string, schema: z.ZodType<T>): T | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      this.problems.push(`${name} must be JSON, got "${value.slice(0, 60)}"`);
      return undefined;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      this.problems.push(`${name} is invalid: ${z.prettifyError(result.error).replace(/\n/g, ' ')}`);
      return undefined;
    }
    return result.data;
  }

  file(name: string): string | undefined {
    const path = this.text(name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      this.problems.push(`${name} names a file that cannot be read (${path}): ${(error as Error).message}`);
      return undefined;
    }
  }
}

function readTenant(read: Reader): TenantSettings {
  const why =
    'when a tenant is configured (any of GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, GRAPH_CERTIFICATE_PATH is set)';
  const tenantId = read.required('GRAPH_TENANT_ID', why);
  const clientId = read.required('GRAPH_CLIENT_ID', why);
  const clientSecret = read.text('GRAPH_CLIENT_SECRET');
  const privateKey = read.file('GRAPH_CERTIFICATE_PATH');
  const thumbprint = read.text('GRAPH_CERTIFICATE_THUMBPRINT');
  if (clientSecret === undefined && read.text('GRAPH_CERTIFICATE_PATH') === undefined) {
    read.problems.push(
      'GRAPH_CLIENT_SECRET or GRAPH_CERTIFICATE_PATH (+ GRAPH_CERTIFICATE_THUMBPRINT) is required in tenant mode',
    );
  }
  if (privateKey !== undefined && thumbprint === undefined) {
    read.problems.push(
      'GRAPH_CERTIFICATE_THUMBPRINT is required with GRAPH_CERTIFICATE_PATH (SHA-256 hex, or SHA-1 hex)',
    );
  }
  let cloud = nationalCloud('global');
  const cloudName = read.text('GRAPH_CLOUD');
  if (cloudName !== undefined) {
    try {
      cloud = nationalCloud(cloudName);
    } catch (error) {
      read.problems.push(`GRAPH_CLOUD: ${(error as Error).message}`);
    }
  }
  const graphBaseUrl = read.url('GRAPH_BASE_URL') ?? `${cloud.graphEndpoint}/v1.0`;
  const certificate =
    privateKey !== undefined && thumbprint !== undefined
      ? { privateKey, ...(thumbprint.length === 64 ? { thumbprintSha256: thumbprint } : { thumbprint }) }
      : undefined;
  return {
    tenantId,
    clientId,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(certificate ? { certificate } : {}),
    cloud,
    graphBaseUrl,
  };
}

/** Where Graph calls back: required and https with a tenant; this process's own address otherwise. */
function readPublicBaseUrl(read: Reader, tenantMode: boolean, port: number): string {
  if (!tenantMode) return read.url('PUBLIC_BASE_URL') ?? `http://127.0.0.1:${port}`;
  const why = 'in tenant mode: the https address Graph calls back, e.g. https://bot.contoso.com';
  return read.url('PUBLIC_BASE_URL', { https: true }) ?? read.required('PUBLIC_BASE_URL', why);
}

/**
 * Call ownership around transfers (issue 10, docs/call-ownership.md). Defaults: the bot leaves
 * the group call once the caller is in; no fallback target, so a failed transfer hangs up the
 * P2P call the bot answered.
 */
function readTransferPolicy(read: Reader): TransferPolicy {
  const botLeg = read.text('HANDOFF_BOT_LEG_AFTER_TRANSFER');
  let botLegAfterTransfer: TransferPolicy['botLegAfterTransfer'];
  if (botLeg !== undefined) {
    const parsed = botLegPolicySchema.safeParse(botLeg);
    if (parsed.success) botLegAfterTransfer = parsed.data;
    else read.problems.push(`HANDOFF_BOT_LEG_AFTER_TRANSFER must be 'leave' or 'stay', got "${botLeg}"`);
  }
  const maxDuration = read.text('HANDOFF_STAY_MAX_DURATION_MS');
  let stayMaxDurationMs: number | undefined;
  if (maxDuration !== undefined) {
    const parsed = stayMaxDurationMsSchema.safeParse(Number(maxDuration));
    if (parsed.success && /^\d+$/.test(maxDuration)) stayMaxDurationMs = parsed.data;
    else
      read.problems.push(
        `HANDOFF_STAY_MAX_DURATION_MS must be whole milliseconds from 1000 to 604800000 (7 days), got "${maxDuration}"`,
      );
  }
  const fallbackTarget = read.json('HANDOFF_FALLBACK_TARGET', transferTargetSchema);
  const interval = read.text('HANDOFF_KEEP_ALIVE_INTERVAL_MS');
  let keepAliveIntervalMs: number | undefined;
  if (interval !== undefined) {
    const value = Number(interval);
    // Graph ends a call after 45 minutes without keepAlive: an interval must leave room for retries.
    if (/^\d+$/.test(interval) && value >= 1_000 && value <= 30 * 60 * 1000) keepAliveIntervalMs = value;
    else
      read.problems.push(
        `HANDOFF_KEEP_ALIVE_INTERVAL_MS must be whole milliseconds from 1000 to 1800000 (30 minutes; Graph drops a call after 45 without keepAlive), got "${interval}"`,
      );
  }
  return {
    ...(keepAliveIntervalMs !== undefined ? { keepAliveIntervalMs } : {}),
    ...(botLegAfterTransfer ? { botLegAfterTransfer } : {}),
    ...(stayMaxDurationMs !== undefined ? { stayMaxDurationMs } : {}),
    ...(fallbackTarget ? { fallbackTarget } : {}),
  };
}

/** Reads and checks the configuration; throws ConfigError naming every bad or missing setting. */
export function loadConfig(env: Env = process.env): HandoffConfig {
  const read = new Reader(env);
  const tenantMode = TENANT_VARIABLES.some((name) => read.text(name) !== undefined);
  const port = read.port('PORT', 3978);
  const host = read.text('HOST') ?? '127.0.0.1';
  const publicBaseUrl = readPublicBaseUrl(read, tenantMode, port);
  const address = read.text('TEMPORAL_ADDRESS');
  const embeddedUiPort = read.port('HANDOFF_TEMPORAL_UI_PORT', 8233);
  const uiUrl =
    read.url('TEMPORAL_UI_URL') ?? (address === undefined ? `http://127.0.0.1:${embeddedUiPort}` : undefined);
  const clientCertPath = read.text('TEMPORAL_TLS_CLIENT_CERT_PATH');
  const clientKeyPath = read.text('TEMPORAL_TLS_CLIENT_KEY_PATH');
  const tlsWanted = read.text('TEMPORAL_TLS') === 'true' || clientCertPath !== undefined;
  const apiKey = read.text('TEMPORAL_API_KEY');
  const dbFile = read.text('HANDOFF_TEMPORAL_DB');

  const tenant = tenantMode ? readTenant(read) : undefined;
  const notificationAuth: NotificationAuthSettings | undefined = tenant
    ? {
        ...(read.url('NOTIFICATION_JWKS_URL') ? { jwksUrl: read.url('NOTIFICATION_JWKS_URL') } : {}),
        openIdConfigurationUrl:
          read.url('NOTIFICATION_OPENID_CONFIG_URL') ??
          'https://login.botframework.com/v1/.well-known/openidconfiguration',
        issuers: read.list('NOTIFICATION_ISSUERS') ?? ['https://api.botframework.com'],
        audience: read.text('NOTIFICATION_AUDIENCE') ?? tenant.clientId,
        ...(read.list('NOTIFICATION_ALLOWED_TENANTS')
          ? { allowedTenantIds: read.list('NOTIFICATION_ALLOWED_TENANTS') }
          : {}),
      }
    : undefined;
  const configuredTarget = read.json('HANDOFF_DEFAULT_TARGET', transferTargetSchema);
  const defaultTarget = configuredTarget ?? (tenantMode ? undefined : seedMeetingTarget);
  const apiToken = read.text('HANDOFF_API_TOKEN');
  const bodyLimitBytes = Number(read.text('HANDOFF_BODY_LIMIT_BYTES') ?? 256 * 1024);
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes <= 0)
    read.problems.push('HANDOFF_BODY_LIMIT_BYTES must be a positive integer');

  const logLevel = read.text('LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    read.problems.push(
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`,
    );
  }
  const workflowBundlePath = read.text('HANDOFF_WORKFLOW_BUNDLE');
  const transferPolicy = readTransferPolicy(read);

  const config: HandoffConfig = {
    mode: tenantMode ? 'tenant' : 'embedded',
    temporal: {
      ...(address !== undefined ? { address } : {}),
      namespace: read.text('TEMPORAL_NAMESPACE') ?? 'default',
      taskQueue: read.text('HANDOFF_TASK_QUEUE') ?? 'handoff',
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(tlsWanted || apiKey !== undefined
        ? {
            tls: {
              ...(clientCertPath ? { clientCertPath } : {}),
              ...(clientKeyPath ? { clientKeyPath } : {}),
            },
          }
        : {}),
      embedded: {
        port: read.port('HANDOFF_TEMPORAL_PORT', 7233),
        uiPort: embeddedUiPort,
        ...(dbFile ? { dbFile } : {}),
      },
      ...(uiUrl ? { uiUrl } : {}),
    },
    webhook: { host, port, publicBaseUrl, ...(apiToken ? { apiToken } : {}), bodyLimitBytes },
    ...(tenant ? { tenant } : {}),
    ...(notificationAuth ? { notificationAuth } : {}),
    ...(defaultTarget ? { defaultTarget } : {}),
    simulator: {
      port: read.port('SIMULATOR_PORT', 4010),
      ...(read.url('SIMULATOR_URL') ? { url: read.url('SIMULATOR_URL') } : {}),
    },
    logLevel,
    ...(workflowBundlePath ? { workflowBundlePath } : {}),
    transferPolicy,
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
