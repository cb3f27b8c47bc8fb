import { createPrivateKey, randomUUID } from 'node:crypto';
import {
  AuthError,
  ClientConfigurationError,
  ConfidentialClientApplication,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
  ServerError,
} from '@azure/msal-node';
import { z } from 'zod';
import { defaultNationalCloud } from './clouds.js';
import { GraphAuthError, type GraphAuthErrorDetails, isRetryableStatus, parseRetryAfter } from './errors.js';

/** Gives the Graph client a bearer token for each request. */
export interface TokenProvider {
  getToken(): Promise<string>;
}

const DEFAULT_TOKEN_REQUEST_TIMEOUT_MS = 10_000;
/** MSAL holds back identical token requests this long after a 429/5xx without Retry-After. */
const MSAL_DEFAULT_THROTTLE_SECONDS = 60;
const MSAL_MAX_THROTTLE_SECONDS = 3600;
/** The members MSAL requires of authorityMetadata before it will use it instead of discovery. */
const AUTHORITY_METADATA_MEMBERS = ['authorization_endpoint', 'token_endpoint', 'issuer', 'jwks_uri'];

const httpsUrl = (setting: string) =>
  z
    .string({ error: `${setting} must be an https URL` })
    .refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:', {
      // Design.md, "Known traps": MSAL refuses http:// authorities.
      message: `${setting} must be an https URL (MSAL refuses http authorities; for a local token endpoint use an https authority listed in knownAuthorities plus authorityMetadata)`,
    })
    .transform((value) => value.replace(/\/+$/, ''));

const requiredText = (setting: string, hint: string) =>
  z
    .string({ error: `${setting} is required (${hint})` })
    .trim()
    .min(1, `${setting} is required (${hint})`);

const certificateSchema = z
  .strictObject({
    thumbprintSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'certificate.thumbprintSha256 must be 64 hex digits (SHA-256)')
      .optional(),
    thumbprint: z
      .string()
      .regex(/^[0-9a-fA-F]{40}$/, 'certificate.thumbprint must be 40 hex digits (SHA-1)')
      .optional(),
    privateKey: z
      .string({ error: 'certificate.privateKey is required (the PEM encoded private key)' })
      .refine(isPrivateKeyPem, {
        message: 'certificate.privateKey must be a PEM encoded private key (-----BEGIN PRIVATE KEY-----…)',
      }),
    x5c: z.string().min(1).optional(),
  })
  .refine((certificate) => certificate.thumbprintSha256 || certificate.thumbprint, {
    message: 'certificate needs thumbprintSha256 (or the SHA-1 thumbprint)',
    path: ['thumbprintSha256'],
  });

function isPrivateKeyPem(pem: string): boolean {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return false;
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

/** knownAuthorities are host names; a URL given by mistake is reduced to its host. */
const knownAuthoritySchema = z
  .string()
  .trim()
  .min(1, 'knownAuthorities entries must be host names such as login.microsoftonline.com')
  .transform((value) => (URL.canParse(value) ? new URL(value).host : value));

const authorityMetadataSchema = z.union([z.string(), z.looseObject({})]).transform((value, ctx) => {
  let metadata: unknown = value;
  if (typeof value === 'string') {
    try {
      metadata = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'authorityMetadata must be JSON (an OpenID configuration)' });
      return z.NEVER;
    }
  }
  const missing = AUTHORITY_METADATA_MEMBERS.filter(
    (member) => typeof (metadata as Record<string, unknown> | null)?.[member] !== 'string',
  );
  if (missing.length > 0) {
    ctx.addIssue({ code: 'custom', message: `authorityMetadata lacks ${missing.join(', ')}` });
    return z.NEVER;
  }
  return JSON.stringify(metadata);
});

const optionsSchema = z
  .strictObject({
    tenantId: requiredText('tenantId', 'the directory (tenant) id of the bot registration'),
    clientId: requiredText('clientId', 'the application (client) id of the bot registration'),
    clientSecret: z.string().min(1, 'clientSecret must not be empty').optional(),
    certificate: certificateSchema.optional(),
    /** The cloud's sign-in host (clouds.ts); the authority is `${authorityHost}/${tenantId}`. */
    authorityHost: httpsUrl('authorityHost').optional(),
    /** A complete authority URL, overriding authorityHost + tenantId (the simulator gives one). */
    authority: httpsUrl('authority').optional(),
    /** The cloud's Graph endpoint; the scope is `${graphResource}/.default`. */
    graphResource: z
      .string()
      .refine(URL.canParse, 'graphResource must be a URL such as https://graph.microsoft.com')
      .transform((value) => value.replace(/\/+$/, ''))
      .optional(),
    /** Replaces the `${graphResource}/.default` scope. */
    scopes: z.array(z.string().trim().min(1, 'scopes entries must not be empty')).min(1).optional(),
    knownAuthorities: z.array(knownAuthoritySchema).optional(),
    authorityMetadata: authorityMetadataSchema.optional(),
    /**
     * Where the authority's OpenID configuration can be read (http or https): read once before
     * the first token request and given to MSAL as authorityMetadata. For an authority whose own
     * discovery document MSAL cannot reach (a test tenant's token endpoint, a proxy).
     */
    authorityMetadataUrl: z
      .string()
      .refine(
        (value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol),
        'authorityMetadataUrl must be an http(s) URL of an OpenID configuration',
      )
      .optional(),
    cloudDiscoveryMetadata: z.string().min(1).optional(),
    /** How long one request to the token endpoint may take. */
    tokenRequestTimeoutMs: z
      .number()
      .int()
      .positive('tokenRequestTimeoutMs must be a positive integer')
      .optional(),
  })
  .superRefine((options, ctx) => {
    if (options.clientSecret === undefined && options.certificate === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'clientSecret or certificate is required (the bot registration credential)',
      });
    }
    if (options.clientSecret !== undefined && options.certificate !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['certificate'],
        message: 'give either clientSecret or certificate, not both',
      });
    }
    if (options.authorityMetadata !== undefined && options.authorityMetadataUrl !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['authorityMetadataUrl'],
        message: 'give either authorityMetadata or authorityMetadataUrl, not both',
      });
    }
    // Design.md, "Known traps": without knownAuthorities MSAL asks Microsoft's discovery
    // endpoint about the host, which fails offline and defeats the point of authorityMetadata.
    if (
      (options.authorityMetadata !== undefined || options.authorityMetadataUrl !== undefined) &&
      !options.knownAuthorities?.length &&
      options.cloudDiscoveryMetadata === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['knownAuthorities'],
        message: "knownAuthorities must list the authority's host when authorityMetadata is given",
      });
    }
  });

export type MsalTokenProviderOptions = z.input<typeof optionsSchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') return `unknown setting ${issue.keys.join(', ')}`;
      return issue.message.startsWith(path) || path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}

/** What the token endpoint did for one getToken call, as seen by our network module. */
interface TokenExchange {
  status?: number;
  retryAfterSeconds?: number;
  failure?: { kind: 'timeout' | 'network'; message: string };
}

function causeText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return error.message;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * MSAL's own network module has no timeout for token POSTs and hides the response headers
 * from the errors it throws. This one, on fetch, bounds every request and records per
 * correlation id what happened, so that errors can say "timeout" vs "refused" and carry
 * Retry-After. Error answers without an OAuth error body are given one, so that MSAL turns
 * them into a ServerError with the status instead of a parsing error.
 */
function createTokenNetworkModule(
  timeoutMs: number,
  exchanges: Map<string, TokenExchange>,
  onThrottled: (retryAfterSeconds: number | undefined) => void,
): INetworkModule {
  async function send<T>(
    url: string,
    method: 'GET' | 'POST',
    options: NetworkRequestOptions | undefined,
    timeout: number | undefined,
  ): Promise<NetworkResponse<T>> {
    const exchange = options?.correlationId ? exchanges.get(options.correlationId) : undefined;
    const limit = timeout && timeout > 0 ? Math.min(timeout, timeoutMs) : timeoutMs;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        ...(options?.headers ? { headers: options.headers } : {}),
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        signal: AbortSignal.timeout(limit),
      });
      text = await response.text();
    } catch (error) {
      const origin = URL.canParse(url) ? new URL(url).origin : url;
      const failure = isTimeout(error)
        ? { kind: 'timeout' as const, message: `no answer from ${origin} within ${limit} ms` }
        : { kind: 'network' as const, message: `cannot reach ${origin}: ${causeText(error)}` };
      if (exchange) exchange.failure = failure;
      throw new AuthError('network_error', failure.message);
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const retryAfterSeconds = response.ok ? undefined : parseRetryAfter(response.headers.get('retry-after'));
    if (exchange) {
      exchange.status = response.status;
      if (retryAfterSeconds !== undefined) exchange.retryAfterSeconds = retryAfterSeconds;
    }
    // Same condition as MSAL's ThrottlingUtils.postProcess.
    if (isRetryableStatus(response.status) || retryAfterSeconds !== undefined) onThrottled(retryAfterSeconds);

    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = text === '' ? {} : JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
    } catch {
      if (response.ok)
        throw new AuthError('token_parsing_error', `${url} answered ${response.status} without JSON`);
    }
    if (!response.ok && typeof body.error !== 'string') {
      body = {
        ...body,
        error: `http_${response.status}`,
        error_description: response.statusText || 'no OAuth error in the body',
      };
    }
    return { headers, body: body as T, status: response.status };
  }
  return {
    sendGetRequestAsync: (url, options, timeout) => send(url, 'GET', options, timeout),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options, undefined),
  };
}

/** MSAL's ServerError message is "Error(s): … - Description: <what AAD said> - Correlation ID: …". */
function serverDescription(error: AuthError): string {
  const match = /Description: (.*?) - Correlation ID:/s.exec(error.errorMessage);
  return (match?.[1] ?? error.errorMessage ?? error.message).trim();
}

/**
 * What to check when the token endpoint refuses us, by AADSTS number (MSAL's errorNo, or the
 * `AADSTSnnn:` prefix of the description) and OAuth error code.
 */
function credentialHint(code: string | undefined, aadsts: string | undefined, description: string): string {
  const number = aadsts ?? /AADSTS(\d+)/.exec(description)?.[1];
  if (number === '90002' || number === '900023') return 'check tenantId';
  if (number === '700016' || code === 'unauthorized_client') {
    return 'check clientId: the application is not known in this tenant';
  }
  if (code === 'invalid_client') {
    return 'check clientSecret (or the certificate): the token endpoint does not accept it for this clientId';
  }
  if (code === 'invalid_scope') return 'check graphResource/scopes';
  return 'check the bot registration settings';
}

/**
 * A token provider for Graph's app-only calls: one MSAL ConfidentialClientApplication per
 * provider, so tokens are cached by MSAL and reused until shortly before they expire.
 * Throws (synchronously) an Error naming the bad setting; getToken() rejects with a
 * GraphAuthError that says whether trying again later can help.
 */
/**
 * Reads the authority's OpenID configuration from `url` for MSAL's authorityMetadata. A failure is
 * a GraphAuthError naming the URL: retryable when the server could not be reached or answered 5xx.
 */
async function readAuthorityMetadata(
  url: string,
  identity: { tenantId: string; clientId: string; authority: string },
): Promise<string> {
  const who = `Could not read the OpenID configuration of authority ${identity.authority} from ${url}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DEFAULT_TOKEN_REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new GraphAuthError(`${who}: ${(error as Error).message}; try again later`, {
      ...identity,
      kind: 'network',
      code: 'network_error',
      retryable: true,
    });
  }
  const text = await response.text();
  if (!response.ok) {
    throw new GraphAuthError(`${who}: it answered ${response.status}`, {
      ...identity,
      kind: 'http',
      status: response.status,
      retryable: isRetryableStatus(response.status),
    });
  }
  const parsed = authorityMetadataSchema.safeParse(text);
  if (!parsed.success) {
    throw new GraphAuthError(`${who}: ${describeIssues(parsed.error)}`, {
      ...identity,
      kind: 'configuration',
      retryable: false,
    });
  }
  return parsed.data;
}

export function createMsalTokenProvider(options: MsalTokenProviderOptions): TokenProvider {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new Error(`Invalid Graph token provider settings: ${describeIssues(parsed.error)}`);
  }
  const settings = parsed.data;
  const authorityHost = settings.authorityHost ?? defaultNationalCloud.authorityHost;
  const authority = settings.authority ?? `${authorityHost}/${settings.tenantId}`;
  const graphResource = settings.graphResource ?? defaultNationalCloud.graphEndpoint;
  const scopes = settings.scopes ?? [`${graphResource}/.default`];
  const identity = { tenantId: settings.tenantId, clientId: settings.clientId, authority };

  const exchanges = new Map<string, TokenExchange>();
  /** When MSAL's throttle cache will let identical requests through again (epoch ms). */
  let throttledUntil: number | undefined;
  const networkClient = createTokenNetworkModule(
    settings.tokenRequestTimeoutMs ?? DEFAULT_TOKEN_REQUEST_TIMEOUT_MS,
    exchanges,
    (retryAfterSeconds) => {
      const seconds =
        retryAfterSeconds && retryAfterSeconds > 0 ? retryAfterSeconds : MSAL_DEFAULT_THROTTLE_SECONDS;
      throttledUntil = Date.now() + Math.min(seconds, MSAL_MAX_THROTTLE_SECONDS) * 1000;
    },
  );

  const applicationWith = (authorityMetadata: string | undefined) =>
    new ConfidentialClientApplication({
      auth: {
        clientId: settings.clientId,
        authority,
        ...(settings.clientSecret !== undefined ? { clientSecret: settings.clientSecret } : {}),
        ...(settings.certificate !== undefined ? { clientCertificate: settings.certificate } : {}),
        ...(settings.knownAuthorities ? { knownAuthorities: settings.knownAuthorities } : {}),
        ...(authorityMetadata ? { authorityMetadata } : {}),
        ...(settings.cloudDiscoveryMetadata
          ? { cloudDiscoveryMetadata: settings.cloudDiscoveryMetadata }
          : {}),
      },
      system: { networkClient },
    });
  const { authorityMetadataUrl } = settings;
  /** The MSAL application; with authorityMetadataUrl, made once that document has been read. */
  let application: ConfidentialClientApplication | undefined = authorityMetadataUrl
    ? undefined
    : applicationWith(settings.authorityMetadata);

  async function msalApplication(): Promise<ConfidentialClientApplication> {
    if (application) return application;
    const metadata = await readAuthorityMetadata(authorityMetadataUrl!, identity);
    application ??= applicationWith(metadata);
    return application;
  }

  function toGraphAuthError(error: unknown, exchange: TokenExchange): GraphAuthError {
    const who = `Could not get a Graph token for client ${settings.clientId} in tenant ${settings.tenantId} from ${authority}`;
    const make = (message: string, details: Omit<GraphAuthErrorDetails, keyof typeof identity>) =>
      new GraphAuthError(message, { ...identity, ...details }, { cause: error });

    if (exchange.failure) {
      return make(`${who}: ${exchange.failure.message}; try again later`, {
        kind: exchange.failure.kind,
        code: 'network_error',
        retryable: true,
      });
    }
    if (error instanceof AuthError) {
      // `http_<status>` is the stand-in our network module gave a body without an OAuth error.
      const code = error.errorCode && !/^http_\d+$/.test(error.errorCode) ? error.errorCode : undefined;
      const status = (error instanceof ServerError ? error.status : undefined) ?? exchange.status;
      if (status !== undefined) {
        const description = serverDescription(error);
        const answered = `the token endpoint answered ${status}${code ? ` ${code}` : ''}: ${description}`;
        if (isRetryableStatus(status)) {
          const after = exchange.retryAfterSeconds;
          return make(`${who}: ${answered}; try again${after !== undefined ? ` in ${after} s` : ' later'}`, {
            kind: 'http',
            status,
            ...(code ? { code } : {}),
            ...(after !== undefined ? { retryAfterSeconds: after } : {}),
            retryable: true,
          });
        }
        const aadsts = error instanceof ServerError && error.errorNo ? String(error.errorNo) : undefined;
        return make(`${who}: ${answered}; ${credentialHint(code, aadsts, description)}`, {
          kind: 'http',
          status,
          ...(code ? { code } : {}),
          retryable: false,
        });
      }
      if (error instanceof ServerError && throttledUntil !== undefined) {
        // No request went out: MSAL's throttle cache answered from the last 429/5xx.
        const after = Math.max(1, Math.ceil((throttledUntil - Date.now()) / 1000));
        return make(
          `${who}: MSAL holds token requests back after the token endpoint answered 429/5xx; try again in ${after} s`,
          { kind: 'http', ...(code ? { code } : {}), retryAfterSeconds: after, retryable: true },
        );
      }
      const what =
        error instanceof ClientConfigurationError ? 'the MSAL configuration is invalid' : 'MSAL failed';
      return make(`${who}: ${what}: ${error.errorCode}: ${error.errorMessage || error.message}`, {
        kind: 'configuration',
        ...(code ? { code } : {}),
        retryable: false,
      });
    }
    return make(`${who}: ${error instanceof Error ? error.message : String(error)}`, {
      kind: 'configuration',
      retryable: false,
    });
  }

  async function acquire(): Promise<string> {
    const correlationId = randomUUID();
    const exchange: TokenExchange = {};
    exchanges.set(correlationId, exchange);
    try {
      const msal = await msalApplication();
      const result = await msal.acquireTokenByClientCredential({ scopes, correlationId });
      if (!result?.accessToken) {
        throw new GraphAuthError(
          `Could not get a Graph token for client ${settings.clientId} in tenant ${settings.tenantId} from ${authority}: MSAL returned no access token`,
          { ...identity, kind: 'configuration', retryable: false },
        );
      }
      return result.accessToken;
    } catch (error) {
      if (error instanceof GraphAuthError) throw error;
      throw toGraphAuthError(error, exchange);
    } finally {
      exchanges.delete(correlationId);
    }
  }

  // Concurrent callers share one token request, so a burst of Graph requests at start-up
  // costs one round trip to the token endpoint, not one each.
  let pending: Promise<string> | undefined;
  return {
    getToken() {
      pending ??= acquire().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
