/**
 * The rules in force, and reloading them without a restart (SIGHUP, POST /api/routing-rules/reload).
 * A reload that fails keeps the rules in force: calls keep being routed by the last good file, and
 * the failure is kept for the API (GET /api/routing-rules) and returned for the log.
 */
import { readFileSync } from 'node:fs';
import { parseRuleFile, RoutingRulesError, type RuleSet } from './rule-file.js';

/** Reads and checks a rule file; throws RoutingRulesError naming the file, rule and field. */
export function loadRuleFile(path: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RoutingRulesError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseRuleFile(text, path);
}

export interface RoutingRulesSnapshot {
  source: string;
  version?: string;
  loadedAt: string;
  ruleSet: RuleSet;
  lastReloadError?: { at: string; message: string };
}

export type ReloadResult = { ok: true; snapshot: RoutingRulesSnapshot } | { ok: false; error: string };

export class RoutingRules {
  private ruleSet: RuleSet;
  private loadedAt: Date;
  private lastReloadError: { at: string; message: string } | undefined;

  constructor(
    readonly source: string,
    initial: RuleSet,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.ruleSet = initial;
    this.loadedAt = clock();
  }

  /** The rules every incoming call is matched against now. */
  current(): RuleSet {
    return this.ruleSet;
  }

  snapshot(): RoutingRulesSnapshot {
    return {
      source: this.source,
      ...(this.ruleSet.version !== undefined ? { version: this.ruleSet.version } : {}),
      loadedAt: this.loadedAt.toISOString(),
      ruleSet: this.ruleSet,
      ...(this.lastReloadError ? { lastReloadError: this.lastReloadError } : {}),
    };
  }

  /** Reads the file again: the new rules when valid, else the old ones stay and the error is kept. */
  reload(): ReloadResult {
    try {
      this.ruleSet = loadRuleFile(this.source);
      this.loadedAt = this.clock();
      this.lastReloadError = undefined;
      return { ok: true, snapshot: this.snapshot() };
    } catch (error) {
      const message = error instanceof RoutingRulesError ? error.message : String(error);
      this.lastReloadError = { at: this.clock().toISOString(), message };
      return { ok: false, error: message };
    }
  }
}
