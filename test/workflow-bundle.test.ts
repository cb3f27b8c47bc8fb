// What goes into the workflow bundle. Every workflow evaluates the bundle's modules on its own (the
// SDK's reusable V8 context shares only what is loaded before the first workflow), so each module
// there costs memory per parked workflow and CPU per first workflow task: OpenTelemetry and zod were
// most of both (docs/performance.md, row 5). Workflow code imports only types from src/graph, and
// traces without OpenTelemetry (src/workflows/tracing/).

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestWorkflowBundle, type TestWorkflowBundle } from './support/handoff-stack.js';

let bundle: TestWorkflowBundle;
let code: string;
let modules: string[];

beforeAll(async () => {
  bundle = await buildTestWorkflowBundle();
  // Webpack names each module by its path: `/***/ "./node_modules/zod/v4/core/core.js"`.
  code = readFileSync(bundle.path, 'utf8');
  modules = [...code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+)"/gm)].map((match) => match[1] as string);
}, 120_000);

afterAll(() => bundle?.remove());

const packageOf = (module: string): string | undefined =>
  /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module)?.[1];

describe('the workflow bundle', () => {
  it('holds the workflows and the Temporal workflow runtime', () => {
    expect(modules).toContain('./src/workflows/index.ts');
    expect(modules).toContain('./src/workflows/tracing/tracing-interceptors.ts');
    expect(new Set(modules.map(packageOf))).toContain('@temporalio/workflow');
  });

  it('holds no OpenTelemetry, no zod and no Graph schema', () => {
    const packages = [...new Set(modules.map(packageOf).filter((name) => name !== undefined))];
    expect(packages.filter((name) => name.startsWith('@opentelemetry/') || name === 'zod')).toEqual([]);
    expect(packages.sort()).toEqual([
      '@temporalio/common',
      '@temporalio/workflow',
      'long',
      'ms',
      'nexus-rpc',
    ]);
    const graphModules = modules.filter((module) => module.startsWith('./src/graph/'));
    expect(graphModules).toEqual(['./src/graph/identity-set.ts']);
  });

  it('evaluates the active-span storage once for all workflows, before the first (preloadModules)', () => {
    const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1];
    expect(preload).toBeDefined();
    const preloaded = [...(preload ?? '').matchAll(/"(\.\/[^"]+)"\)/g)].map((match) => match[1]);
    expect(preloaded).toEqual(['./src/workflows/tracing/active-span.ts']);
  });
});
