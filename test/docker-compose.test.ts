/**
 * Docker cannot run on the machines this project is built on, so docker-compose.yml is checked
 * statically: the services the design names, their wiring, and that everything they reference
 * (images pinned, build contexts, commands, settings) exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../src/temporal/project-root.js';
import { handoffSearchAttributes } from '../src/temporal/search-attributes.js';

interface ComposeService {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
}

const root = projectRoot();
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const configSource = readFileSync(join(root, 'src/config/env.ts'), 'utf8');
const configurationDoc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');

function dependencies(service: ComposeService): string[] {
  const dependsOn = service.depends_on ?? [];
  return Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn);
}

describe('docker-compose.yml', () => {
  it('runs Temporal on PostgreSQL, the Temporal UI, the worker and the webhook', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'worker', 'webhook']),
    );
    expect(services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services['temporal-ui']?.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    for (const name of ['worker', 'webhook']) {
      expect(services[name]?.environment, name).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    }
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.image === undefined) continue;
      expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(service.image, name).not.toMatch(/:latest$/);
    }
  });

  it('builds Handoff from one Dockerfile whose inputs exist', () => {
    const built = Object.entries(services).filter(([, service]) => service.build !== undefined);
    expect(built.map(([name]) => name)).toEqual(expect.arrayContaining(['worker', 'webhook']));
    for (const [name, service] of built) {
      const context = typeof service.build === 'string' ? service.build : service.build!.context;
      expect(existsSync(join(root, context, 'Dockerfile')), name).toBe(true);
    }
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) =>
      match[1]!.split(/\s+/),
    );
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) expect(existsSync(join(root, source)), source).toBe(true);
  });

  it('starts commands that the compiled sources provide', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build === undefined) continue;
      const command = Array.isArray(service.command) ? service.command : [];
      expect(command[0], name).toBe('node');
      const script = command[1]!;
      expect(script, name).toMatch(/^dist\/src\/.+\.js$/);
      const source = script.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(join(root, source)), `${name}: ${source}`).toBe(true);
    }
    const bundle = /HANDOFF_WORKFLOW_BUNDLE=(\S+)/.exec(dockerfile)?.[1];
    expect(bundle).toBe('/app/dist/workflow-bundle.cjs');
    expect(dockerfile).toContain('node dist/src/bin/build-workflows.js');
  });

  it('depends only on services it defines', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of dependencies(service))
        expect(Object.keys(services), `${name} → ${dependency}`).toContain(dependency);
    }
  });

  it('publishes only the webhook publicly; the API, Temporal frontend and UI on 127.0.0.1 only', () => {
    expect(services.webhook?.ports).toContain('3978:3978');
    expect(services.webhook?.ports).toContain('127.0.0.1:3979:3979');
    expect(services.webhook?.environment).toMatchObject({
      HANDOFF_API_HOST: '0.0.0.0',
      HANDOFF_API_PORT: 3979,
    });
    expect(services['temporal-ui']?.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(services.temporal?.ports).toEqual(['127.0.0.1:7233:7233']);
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        if (name === 'webhook' && port === '3978:3978') continue;
        // host-ip:host-port:container-port, the host ip being the loopback address.
        expect(port, `${name} publishes ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
    }
  });

  it('says how to put Temporal behind authentication before exposing it', () => {
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    const comments = text
      .split('\n')
      .filter((line) => line.trim().startsWith('#'))
      .join('\n');
    expect(comments).toMatch(/no authentication/i);
    expect(comments).toMatch(/behind authentication/i);
    expect(comments).toMatch(/mTLS/);
    expect(comments).toMatch(/HANDOFF_API_TOKEN/);
  });

  it('sets only settings Handoff reads, each documented in docs/configuration.md', () => {
    for (const name of ['worker', 'webhook', 'simulator']) {
      for (const variable of Object.keys(services[name]?.environment ?? {})) {
        expect(
          configSource + readFileSync(join(root, 'src/simulator/main.ts'), 'utf8'),
          `${name}: ${variable}`,
        ).toContain(variable);
        expect(configurationDoc, `docs/configuration.md documents ${variable}`).toContain(`\`${variable}\``);
      }
    }
  });

  it('passes every setting a tenant needs to the worker and the webhook, from the shell or .env', () => {
    const tenantSettings = [
      'GRAPH_TENANT_ID',
      'GRAPH_CLIENT_ID',
      'GRAPH_CLIENT_SECRET',
      'GRAPH_CERTIFICATE_PATH',
      'GRAPH_CERTIFICATE_THUMBPRINT',
      'GRAPH_CLOUD',
      'GRAPH_BASE_URL',
      'PUBLIC_BASE_URL',
      'NOTIFICATION_OPENID_CONFIG_URL',
      'NOTIFICATION_JWKS_URL',
      'NOTIFICATION_ISSUERS',
      'NOTIFICATION_AUDIENCE',
      'NOTIFICATION_ALLOWED_TENANTS',
      'HANDOFF_DEFAULT_TARGET',
    ];
    for (const name of ['worker', 'webhook']) {
      const environment = services[name]?.environment ?? {};
      for (const variable of tenantSettings) {
        expect(String(environment[variable]), `${name}: ${variable}`).toMatch(
          new RegExp(`^\\$\\{${variable}:-[^}]*\\}$`),
        );
      }
    }
    expect(String(services.webhook?.environment?.HANDOFF_API_TOKEN)).toMatch(/^\$\{HANDOFF_API_TOKEN:-/);
  });

  it("registers Handoff's search attributes with the types the workflows use", () => {
    const setup = JSON.stringify(services['temporal-setup']?.command ?? '');
    const typeNames: Record<string, string> = { KEYWORD_LIST: 'KeywordList', KEYWORD: 'Keyword' };
    for (const key of handoffSearchAttributes) {
      expect(setup).toContain(`--name ${key.name} --type ${typeNames[key.type]}`);
    }
  });
});
