// The Grafana dashboard in docs/grafana-dashboard.json, read for tests: its panels and the metric names
// their PromQL queries name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/temporal/project-root.js';

export interface DashboardTarget {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: Array<{ type: string; name: string; query: string }> };
}

export const dashboardPath = join(projectRoot(), 'docs', 'grafana-dashboard.json');

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
}

/** Every metric name a query of the dashboard names: Handoff's, the SDK's, the process's. */
export function queriedMetricNames(dashboard: Dashboard = readDashboard()): string[] {
  const names = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      for (const match of target.expr.matchAll(/\b(?:handoff|temporal|process|nodejs)_[a-z0-9_]+\b/g)) {
        names.add(match[0]);
      }
    }
  }
  return [...names].sort();
}

/** A histogram's series (`_bucket`, `_sum`, `_count`) to the histogram's name. */
export function seriesBaseName(series: string): string {
  return series.replace(/_(bucket|sum|count)$/, '');
}
