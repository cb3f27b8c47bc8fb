// docs/grafana-dashboard.json (issue 13.6) queries only metrics Handoff registers: the webhook's
// (src/webhook/metrics.ts) and the worker's (src/worker/metrics.ts). The Temporal SDK's names it uses
// are checked against a real worker's scrape in test/worker-metrics.test.ts.
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createWebhookMetrics } from '../src/webhook/metrics.js';
import { createWorkerMetrics } from '../src/worker/metrics.js';
import { queriedMetricNames, readDashboard, seriesBaseName } from './support/grafana-dashboard.js';

async function registered(registry: Registry): Promise<Map<string, string>> {
  const metrics = await registry.getMetricsAsJSON();
  return new Map(metrics.map((metric) => [metric.name, String(metric.type)]));
}

/** Whether `series` is a series of a registered metric: its own name, or a histogram's _bucket/_sum/_count. */
function isRegisteredSeries(series: string, metrics: Map<string, string>): boolean {
  if (metrics.has(series) && metrics.get(series) !== 'histogram') return true;
  const base = seriesBaseName(series);
  return base !== series && metrics.get(base) === 'histogram';
}

describe('the Grafana dashboard', () => {
  const dashboard = readDashboard();

  it('queries only series of metrics the webhook or the worker registers', async () => {
    const metrics = new Map([
      ...(await registered(createWebhookMetrics().registry)),
      ...(await registered(createWorkerMetrics().registry)),
    ]);
    const handoffSeries = queriedMetricNames(dashboard).filter((name) => !name.startsWith('temporal_'));
    expect(handoffSeries.length).toBeGreaterThan(8);
    const unknown = handoffSeries.filter((series) => !isRegisteredSeries(series, metrics));
    expect(unknown, 'queried but registered by neither process').toEqual([]);
  });

  it('covers every metric Handoff registers', async () => {
    const own = [
      ...(await registered(createWebhookMetrics().registry)).keys(),
      ...(await registered(createWorkerMetrics().registry)).keys(),
    ].filter((name) => name.startsWith('handoff_'));
    const queried = new Set(queriedMetricNames(dashboard).map(seriesBaseName));
    expect(own.filter((name) => !queried.has(name))).toEqual([]);
  });

  it('is an importable dashboard: one Prometheus data source variable, unique panel ids, every query on it', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' }),
    );
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((candidate) => candidate.type !== 'row')) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template.
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr.trim(), panel.title).not.toBe('');
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });
});
