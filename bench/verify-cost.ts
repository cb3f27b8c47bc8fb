/**
 * CPU per notification token check, with and without the verified-token cache (issue 12):
 * `npx tsx bench/verify-cost.ts`. One RS256 token, verified `count` times in a row against keys
 * served over HTTP, as the webhook does for a token Graph reuses; prints µs per verification.
 */
import { createNotificationKeys, createNotificationVerifier } from '../src/webhook/index.js';
import { createSigningKey, forgeToken, startKeyServer } from '../test/support/webhook-fixtures.js';

const count = Number(process.argv[2] ?? 5_000);
const key = await createSigningKey('verify-cost');
const keyServer = await startKeyServer([key.publicJwk]);
const options = {
  jwksUrl: keyServer.jwksUrl,
  issuers: ['https://api.botframework.com'],
  audience: 'verify-cost-bot',
  allowedTenants: 'any' as const,
};
const keys = createNotificationKeys(options);
await keys.start({ info: () => undefined, error: () => undefined });
keys.stop();
const token = `Bearer ${await forgeToken(key, { issuer: options.issuers[0]!, audience: options.audience })}`;
for (const tokenCacheSize of [0, 1_000]) {
  const verify = createNotificationVerifier({ ...options, tokenCacheSize }, keys);
  for (let warm = 0; warm < 200; warm++) await verify(token);
  const started = process.cpuUsage();
  const wall = performance.now();
  for (let index = 0; index < count; index++) await verify(token);
  const cpu = process.cpuUsage(started);
  console.log(
    `NOTIFICATION_TOKEN_CACHE_SIZE=${tokenCacheSize}: ${(((cpu.user + cpu.system) / count) as number).toFixed(1)} µs CPU, ${(((performance.now() - wall) * 1000) / count).toFixed(1)} µs wall per verification (${count})`,
  );
}
await keyServer.stop();
