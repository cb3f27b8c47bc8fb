/**
 * Handoff's configuration, read once from the environment at start. Every setting is named
 * by its environment variable in errors, so a bad deployment fails at start with a message
 * that says what to fix (README, "Configuration").
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type NationalCloud, nationalCloud } from '../graph/index.js';
import { RoutingRulesError, type RuleSet } from '../routing/rule-file.js';
import { loadRuleFile } from '../routing/rules-store.js';
import {
  CALLING_NOTIFICATION_ISSUERS,
  CALLING_OPENID_CONFIGURATION_URL,
} from '../webhook/notification-auth.js';
import {
  botLegPolicySchema,
  stayMaxDurationMsSchema,
  transferTargetSchema,
} from '../webhook/transfer-request.js';
import { DEFAULT_TOKEN_CACHE_SIZE } from '../webhook/verified-token-cache.js';
import type { TransferPolicy, TransferTarget } from '../workflows/transfer/types.js';

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
  /**
   * GRAPH_AUTHORITY_URL: where tokens come from when not the cloud's sign-in host
   * (`${cloud.authorityHost}/${tenantId}`): a proxy, a test tenant. MSAL is told its host is a
   * known authority; GRAPH_AUTHORITY_METADATA_URL, when set, is where its OpenID configuration is.
   */
  authority?: { url: string; host: string; metadataUrl?: string };
}

export interface NotificationAuthSettings {
  jwksUrl?: string;
  openIdConfigurationUrl?: string;
  issuers: string[];
  audience: string;
  /** NOTIFICATION_ALLOWED_TENANTS: tenant ids, or 'any' (`*`); default GRAPH_TENANT_ID. */
  allowedTenants: string[] | 'any';
}

export interface ApiSettings {
  host: string;
  port: number;
  /** Accepted bearer tokens (rotation: the old and the new one side by side). Empty: no token needed. */
  tokens: string[];
  /** The operator chose to run a tenant's API without a token (HANDOFF_API_UNSAFE_NO_AUTH=true). */
  unsafeNoAuth: boolean;
}

/** How notifications reach their workflow, in either mode (docs/security.md). */
export interface NotificationSettings {
  /** HANDOFF_CALLBACK_SECRET: the first signs callback URLs, every one is accepted. */
  callbackSecrets: string[];
  /** NOTIFICATION_BUDGET_MS: the time one notification POST may take before it is answered 503. */
  budgetMs: number;
  /** NOTIFICATION_TOKEN_CACHE_SIZE: verified tokens remembered until their exp; 0 turns it off. */
  tokenCacheSize: number;
}

/** OpenTelemetry tracing (docs/tracing.md): on when an OTLP endpoint is configured. */
export interface TracingSettings {
  /** Where spans are POSTed (OTLP/HTTP): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  tracesEndpoint: string;
  /** OTEL_SERVICE_NAME, default `handoff`: the `service.name` every span carries. */
  serviceName: string;
}

/**
 * How a worker polls and how much it runs at once (docs/configuration.md, "Worker"; issue 12).
 * Every field maps to one Temporal WorkerOptions field.
 */
export interface WorkerTuning {
  /** HANDOFF_WORKER_WORKFLOW_TASK_SLOTS: maxConcurrentWorkflowTaskExecutions. */
  workflowTaskSlots: number;
  /** HANDOFF_WORKER_ACTIVITY_TASK_SLOTS: maxConcurrentActivityTaskExecutions. */
  activityTaskSlots: number;
  /** HANDOFF_WORKER_WORKFLOW_TASK_POLLERS: maxConcurrentWorkflowTaskPolls (sticky + non-sticky). */
  workflowTaskPollers: number;
  /** HANDOFF_WORKER_ACTIVITY_TASK_POLLERS: maxConcurrentActivityTaskPolls. */
  activityTaskPollers: number;
  /** HANDOFF_WORKER_NON_STICKY_POLL_RATIO: nonStickyToStickyPollRatio (new workflows' first tasks). */
  nonStickyPollRatio: number;
  /** HANDOFF_WORKER_STICKY_CACHE_SIZE: maxCachedWorkflows; unset, the SDK sizes it from memory. */
  stickyCacheSize?: number;
}

/**
 * Tuned for a burst of incoming calls (issue 12, docs/performance.md, "Worker settings"): a new
 * workflow's first task waits on the non-sticky queue, which the SDK's defaults (10 pollers, ratio
 * 0.2) poll with 2, and 40 slots queue a burst of 150. Measured: 20 pollers split evenly and 100
 * slots answer a burst's calls about twice as fast on 2 cores.
 */
export const DEFAULT_WORKER_TUNING: WorkerTuning = {
  workflowTaskSlots: 100,
  activityTaskSlots: 100,
  workflowTaskPollers: 20,
  activityTaskPollers: 10,
  nonStickyPollRatio: 1,
};

/**
 * The callback secret of embedded mode, where no HANDOFF_CALLBACK_SECRET is set: fixed, so that
 * workflows still running after a restart of `npm start` keep working callback URLs. It is public
 * (it is in this file), which is fine for the simulator and nothing else: tenant mode requires
 * HANDOFF_CALLBACK_SECRET.
 */
export const EMBEDDED_CALLBACK_SECRET = 'handoff-embedded-simulator-only-callback-secret-not-for-tenants';
const MIN_CALLBACK_SECRET_LENGTH = 32;
const DEFAULT_NOTIFICATION_BUDGET_MS = 3_000;

export interface HandoffConfig {
  /** `embedded`: no tenant configured, Graph is the simulator. `tenant`: real Microsoft Graph. */
  mode: 'embedded' | 'tenant';
  temporal: TemporalSettings;
  /** The public listener: Graph's notifications and health, nothing else. */
  webhook: { host: string; port: number; publicBaseUrl: string; bodyLimitBytes: number };
  /** The HTTP API other services use (transfers, bot calls, OpenAPI), on its own listener. */
  api: ApiSettings;
  /**
   * HANDOFF_DRAIN_DELAY_MS: on SIGTERM, how long the listeners answer readiness and new requests
   * 503 before they close, so a load balancer stops sending them traffic (docs/production.md).
   */
  drainDelayMs: number;
  /**
   * HANDOFF_WORKER_METRICS_ADDRESS: `host:port` where a worker serves Prometheus metrics (Handoff's
   * and the Temporal SDK's); unset, no metrics endpoint (docs/metrics.md, "Worker").
   */
  workerMetricsAddress?: string;
  /** Present in tenant mode. */
  tenant?: TenantSettings;
  /** Present in tenant mode; in embedded mode the simulator's keys are used. */
  notificationAuth?: NotificationAuthSettings;
  notifications: NotificationSettings;
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
  /** Unset: no tracing at all (the OpenTelemetry API's no-op). */
  tracing?: TracingSettings;
  /**
   * HANDOFF_ROUTING_RULES: the rule file incoming calls are routed by (docs/routing.md), checked at
   * start. Unset: every incoming call goes to `defaultTarget`, as before.
   */
  routing?: { path: string; ruleSet: RuleSet };
  /** Poller and slot settings of the workers this configuration starts. */
  worker: WorkerTuning;
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

  /** A whole number from `min` to `max`, or `fallback` when unset. */
  integer(name: string, fallback: number, min: number, max: number, what: string): number {
    const value = this.text(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (${what}), got "${value}"`);
      return fallback;
    }
    return parsed;
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
  const authority = readAuthority(read);
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
    ...(authority ? { authority } : {}),
  };
}

/**
 * GRAPH_AUTHORITY_URL (https: MSAL refuses http authorities) and GRAPH_AUTHORITY_METADATA_URL (the
 * authority's OpenID configuration, http or https, for an authority whose own discovery document
 * MSAL cannot read). Without them, the national cloud's sign-in host and MSAL's own discovery.
 */
function readAuthority(read: Reader): TenantSettings['authority'] {
  const url = read.url('GRAPH_AUTHORITY_URL');
  const metadataUrl = read.url('GRAPH_AUTHORITY_METADATA_URL');
  if (metadataUrl !== undefined && url === undefined) {
    read.problems.push('GRAPH_AUTHORITY_METADATA_URL needs GRAPH_AUTHORITY_URL: the authority it describes');
  }
  if (url === undefined) return undefined;
  if (new URL(url).protocol !== 'https:') {
    read.problems.push(
      `GRAPH_AUTHORITY_URL must be an https URL (MSAL refuses http authorities; for an http token endpoint give an https GRAPH_AUTHORITY_URL plus GRAPH_AUTHORITY_METADATA_URL), got "${url}"`,
    );
  }
  return { url, host: new URL(url).host, ...(metadataUrl !== undefined ? { metadataUrl } : {}) };
}

/** Where Graph calls back: required and https with a tenant; this process's own address otherwise. */
function readPublicBaseUrl(read: Reader, tenantMode: boolean, port: number): string {
  if (!tenantMode) return read.url('PUBLIC_BASE_URL') ?? `http://127.0.0.1:${port}`;
  const why = 'in tenant mode: the https address Graph calls back, e.g. https://bot.contoso.com';
  return read.url('PUBLIC_BASE_URL', { https: true }) ?? read.required('PUBLIC_BASE_URL', why);
}

/**
 * The API's listener and tokens (issue 9.2). Anyone who reaches the API can dial numbers and hang up
 * calls, so with a tenant it needs a token unless the operator opts out by a name that says unsafe.
 */
function readApiSettings(read: Reader, tenantMode: boolean): ApiSettings {
  const tokens = read.list('HANDOFF_API_TOKEN') ?? [];
  for (const token of tokens) {
    if (!/^[\x21-\x7e]+$/.test(token)) {
      read.problems.push(
        'HANDOFF_API_TOKEN must be visible ASCII tokens separated by commas (no spaces inside a token)',
      );
      break;
    }
  }
  const unsafeText = read.text('HANDOFF_API_UNSAFE_NO_AUTH') ?? 'false';
  if (unsafeText !== 'true' && unsafeText !== 'false') {
    read.problems.push(`HANDOFF_API_UNSAFE_NO_AUTH must be "true" or "false", got "${unsafeText}"`);
  }
  const unsafeNoAuth = unsafeText === 'true';
  if (tenantMode && tokens.length === 0 && !unsafeNoAuth) {
    read.problems.push(
      'HANDOFF_API_TOKEN is required in tenant mode: the API starts transfers and dials numbers. Set one or more tokens (comma-separated), or set HANDOFF_API_UNSAFE_NO_AUTH=true to run the API without authentication (unsafe)',
    );
  }
  return {
    host: read.text('HANDOFF_API_HOST') ?? '127.0.0.1',
    port: read.port('HANDOFF_API_PORT', 3979),
    tokens,
    unsafeNoAuth,
  };
}

/** Tenant mode: Microsoft's calling notification keys and issuers, the bot's app id, the tenant. */
function readNotificationAuth(read: Reader, tenant: TenantSettings): NotificationAuthSettings {
  const jwksUrl = read.url('NOTIFICATION_JWKS_URL');
  return {
    ...(jwksUrl ? { jwksUrl } : {}),
    openIdConfigurationUrl: read.url('NOTIFICATION_OPENID_CONFIG_URL') ?? CALLING_OPENID_CONFIGURATION_URL,
    issuers: read.list('NOTIFICATION_ISSUERS') ?? [...CALLING_NOTIFICATION_ISSUERS],
    audience: read.text('NOTIFICATION_AUDIENCE') ?? tenant.clientId,
    allowedTenants: readAllowedTenants(read, tenant.tenantId),
  };
}

/** A list of tenant ids, or `*` alone for any tenant (a multi-tenant bot); default the bot's own. */
function readAllowedTenants(read: Reader, ownTenantId: string): string[] | 'any' {
  const listed = read.list('NOTIFICATION_ALLOWED_TENANTS');
  if (listed === undefined || listed.length === 0) return [ownTenantId];
  if (listed.includes('*')) {
    if (listed.length > 1) {
      read.problems.push(
        `NOTIFICATION_ALLOWED_TENANTS is either "*" (any tenant) or a list of tenant ids, not both; got "${listed.join(',')}"`,
      );
    }
    return 'any';
  }
  return listed;
}

function readNotificationSettings(read: Reader, tenantMode: boolean): NotificationSettings {
  const listed = read.list('HANDOFF_CALLBACK_SECRET');
  let callbackSecrets = listed ?? [];
  if (listed === undefined) {
    if (tenantMode) {
      read.problems.push(
        `HANDOFF_CALLBACK_SECRET is required in tenant mode: a random secret of at least ${MIN_CALLBACK_SECRET_LENGTH} characters (e.g. openssl rand -base64 48) that signs the callback URLs given to Graph`,
      );
    }
    callbackSecrets = [EMBEDDED_CALLBACK_SECRET];
  } else if (listed.some((secret) => secret.length < MIN_CALLBACK_SECRET_LENGTH)) {
    read.problems.push(
      `HANDOFF_CALLBACK_SECRET: every secret in the list must be at least ${MIN_CALLBACK_SECRET_LENGTH} characters (e.g. openssl rand -base64 48)`,
    );
  } else if (tenantMode && listed.includes(EMBEDDED_CALLBACK_SECRET)) {
    read.problems.push(
      'HANDOFF_CALLBACK_SECRET must not be the embedded (simulator-only) default in tenant mode: it is public',
    );
  }
  const budgetText = read.text('NOTIFICATION_BUDGET_MS');
  const budgetMs = budgetText === undefined ? DEFAULT_NOTIFICATION_BUDGET_MS : Number(budgetText);
  if (!Number.isInteger(budgetMs) || budgetMs < 500 || budgetMs > 4_500) {
    read.problems.push(
      `NOTIFICATION_BUDGET_MS must be an integer from 500 to 4500 (Graph waits 5000 ms for an answer), got "${budgetText}"`,
    );
  }
  const tokenCacheSize = read.integer(
    'NOTIFICATION_TOKEN_CACHE_SIZE',
    DEFAULT_TOKEN_CACHE_SIZE,
    0,
    1_000_000,
    'verified notification tokens remembered until their exp; 0 verifies every request in full',
  );
  return { callbackSecrets, budgetMs, tokenCacheSize };
}

/** The worker's pollers and slots (WorkerTuning), checked against each other as the SDK does. */
function readWorkerTuning(read: Reader): WorkerTuning {
  const defaults = DEFAULT_WORKER_TUNING;
  const workflowTaskSlots = read.integer(
    'HANDOFF_WORKER_WORKFLOW_TASK_SLOTS',
    defaults.workflowTaskSlots,
    2,
    10_000,
    'workflow tasks a worker runs at once',
  );
  const activityTaskSlots = read.integer(
    'HANDOFF_WORKER_ACTIVITY_TASK_SLOTS',
    defaults.activityTaskSlots,
    1,
    10_000,
    'Graph requests a worker makes at once',
  );
  const workflowTaskPollers = read.integer(
    'HANDOFF_WORKER_WORKFLOW_TASK_POLLERS',
    Math.min(defaults.workflowTaskPollers, workflowTaskSlots),
    2,
    1_000,
    'workflow task polls a worker keeps open, sticky and non-sticky together',
  );
  if (workflowTaskPollers > workflowTaskSlots) {
    read.problems.push(
      `HANDOFF_WORKER_WORKFLOW_TASK_POLLERS (${workflowTaskPollers}) must not exceed HANDOFF_WORKER_WORKFLOW_TASK_SLOTS (${workflowTaskSlots})`,
    );
  }
  const activityTaskPollers = read.integer(
    'HANDOFF_WORKER_ACTIVITY_TASK_POLLERS',
    Math.min(defaults.activityTaskPollers, activityTaskSlots),
    1,
    1_000,
    'activity task polls a worker keeps open',
  );
  if (activityTaskPollers > activityTaskSlots) {
    read.problems.push(
      `HANDOFF_WORKER_ACTIVITY_TASK_POLLERS (${activityTaskPollers}) must not exceed HANDOFF_WORKER_ACTIVITY_TASK_SLOTS (${activityTaskSlots})`,
    );
  }
  const ratioText = read.text('HANDOFF_WORKER_NON_STICKY_POLL_RATIO');
  const nonStickyPollRatio = ratioText === undefined ? defaults.nonStickyPollRatio : Number(ratioText);
  if (
    !/^(0(\.\d+)?|1(\.0+)?)$/.test(ratioText ?? '0.2') ||
    !(nonStickyPollRatio > 0 && nonStickyPollRatio <= 1)
  ) {
    read.problems.push(
      `HANDOFF_WORKER_NON_STICKY_POLL_RATIO must be a number above 0 and at most 1 (the share of workflow task polls on the non-sticky queue, where new workflows' first tasks wait), got "${ratioText}"`,
    );
  }
  const stickyText = read.text('HANDOFF_WORKER_STICKY_CACHE_SIZE');
  const stickyCacheSize =
    stickyText === undefined
      ? undefined
      : read.integer(
          'HANDOFF_WORKER_STICKY_CACHE_SIZE',
          0,
          0,
          1_000_000,
          'workflows a worker keeps in memory',
        );
  return {
    workflowTaskSlots,
    activityTaskSlots,
    workflowTaskPollers,
    activityTaskPollers,
    nonStickyPollRatio,
    ...(stickyCacheSize !== undefined ? { stickyCacheSize } : {}),
  };
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

/** HANDOFF_ROUTING_RULES: the file is read and checked now, so a bad rule stops the start. */
function readRoutingRules(read: Reader): { path: string; ruleSet: RuleSet } | undefined {
  const path = read.text('HANDOFF_ROUTING_RULES');
  if (path === undefined) return undefined;
  try {
    return { path, ruleSet: loadRuleFile(path) };
  } catch (error) {
    if (!(error instanceof RoutingRulesError)) throw error;
    for (const problem of error.problems) read.problems.push(`HANDOFF_ROUTING_RULES (${path}): ${problem}`);
    return undefined;
  }
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
  const notificationAuth = tenant ? readNotificationAuth(read, tenant) : undefined;
  const notifications = readNotificationSettings(read, tenantMode);
  const configuredTarget = read.json('HANDOFF_DEFAULT_TARGET', transferTargetSchema);
  const defaultTarget = configuredTarget ?? (tenantMode ? undefined : seedMeetingTarget);
  const api = readApiSettings(read, tenantMode);
  if (api.port !== 0 && api.port === port && (api.host === host || [api.host, host].includes('0.0.0.0'))) {
    read.problems.push(
      `HANDOFF_API_PORT (${api.port}) must differ from PORT: the API has its own listener, apart from the public webhook`,
    );
  }
  const bodyLimitBytes = Number(read.text('HANDOFF_BODY_LIMIT_BYTES') ?? 256 * 1024);
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes <= 0)
    read.problems.push('HANDOFF_BODY_LIMIT_BYTES must be a positive integer');

  const drainDelayText = read.text('HANDOFF_DRAIN_DELAY_MS');
  const drainDelayMs = drainDelayText === undefined ? 0 : Number(drainDelayText);
  if (!Number.isInteger(drainDelayMs) || drainDelayMs < 0 || drainDelayMs > 120_000) {
    read.problems.push(
      `HANDOFF_DRAIN_DELAY_MS must be an integer from 0 to 120000 (milliseconds the webhook drains before it closes on SIGTERM), got "${drainDelayText}"`,
    );
  }

  const workerMetricsAddress = read.text('HANDOFF_WORKER_METRICS_ADDRESS');
  if (workerMetricsAddress !== undefined) {
    const match = /^(?:\[[0-9a-fA-F:.]+\]|[^:\s/]+):(\d+)$/.exec(workerMetricsAddress);
    if (!match || Number(match[1]) > 65_535) {
      read.problems.push(
        `HANDOFF_WORKER_METRICS_ADDRESS must be host:port, e.g. 127.0.0.1:9464 (where the worker serves /metrics), got "${workerMetricsAddress}"`,
      );
    }
  }

  const logLevel = read.text('LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    read.problems.push(
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`,
    );
  }
  const workflowBundlePath = read.text('HANDOFF_WORKFLOW_BUNDLE');
  const transferPolicy = readTransferPolicy(read);
  const tracing = readTracing(read);
  const routing = readRoutingRules(read);
  const worker = readWorkerTuning(read);

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
    webhook: { host, port, publicBaseUrl, bodyLimitBytes },
    api,
    drainDelayMs,
    ...(workerMetricsAddress !== undefined ? { workerMetricsAddress } : {}),
    ...(tenant ? { tenant } : {}),
    ...(notificationAuth ? { notificationAuth } : {}),
    notifications,
    ...(defaultTarget ? { defaultTarget } : {}),
    simulator: {
      port: read.port('SIMULATOR_PORT', 4010),
      ...(read.url('SIMULATOR_URL') ? { url: read.url('SIMULATOR_URL') } : {}),
    },
    logLevel,
    ...(workflowBundlePath ? { workflowBundlePath } : {}),
    transferPolicy,
    ...(tracing ? { tracing } : {}),
    ...(routing ? { routing } : {}),
    worker,
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/**
 * The standard OpenTelemetry variables, as the OTLP exporters read them: the traces endpoint is used
 * as it is, the general one gets `/v1/traces` appended. OTEL_SDK_DISABLED=true turns tracing off.
 */
function readTracing(read: Reader): TracingSettings | undefined {
  const disabled = read.text('OTEL_SDK_DISABLED');
  if (disabled !== undefined && !['true', 'false'].includes(disabled.toLowerCase())) {
    read.problems.push(`OTEL_SDK_DISABLED must be true or false, got "${disabled}"`);
  }
  const httpUrl = (name: string): string | undefined => {
    const value = read.url(name);
    if (value !== undefined && !['http:', 'https:'].includes(new URL(value).protocol)) {
      read.problems.push(
        `${name} must be an http(s) URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318, got "${value}"`,
      );
      return undefined;
    }
    return value;
  };
  const tracesEndpoint = httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT');
  const serviceName = read.text('OTEL_SERVICE_NAME') ?? 'handoff';
  if (disabled?.toLowerCase() === 'true') return undefined;
  if (tracesEndpoint !== undefined) return { tracesEndpoint, serviceName };
  if (endpoint !== undefined) return { tracesEndpoint: `${endpoint}/v1/traces`, serviceName };
  return undefined;
}
