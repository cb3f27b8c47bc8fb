/**
 * A worker joins a cluster only when Handoff's search attributes exist in its namespace: workflows
 * set them at start and on every phase, and without them every call would fail with Temporal's
 * `INVALID_ARGUMENT … no mapping defined for search attribute`. The embedded dev server registers
 * them itself (dev-server.ts); an external cluster needs an operator to create them once.
 */
import type { SearchAttributeType } from '@temporalio/common';
// Not re-exported from the package root (as in dev-server.ts).
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes.js';
import type { NativeConnection } from '@temporalio/worker';
import { ConfigError } from '../config/env.js';
import { handoffSearchAttributes } from '../temporal/search-attributes.js';

/** The CLI's name of a search attribute type (`temporal operator search-attribute create --type`). */
const cliTypeNames: Record<string, string> = {
  KEYWORD: 'Keyword',
  KEYWORD_LIST: 'KeywordList',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
};

/**
 * The commands that create `missing` in `namespace`: one per attribute (the CLI pairs each --name
 * with a --type; given several names and one type, it creates only the first).
 */
export function searchAttributeCreateCommands(
  missing: readonly SearchAttributeKey<SearchAttributeType>[],
  namespace: string,
  address: string | undefined,
): string[] {
  return missing.map(
    (key) =>
      `temporal operator search-attribute create --address ${address ?? '<host:port>'} --namespace ${namespace} --name ${key.name} --type ${cliTypeNames[key.type] ?? key.type}`,
  );
}

/**
 * Stops with a ConfigError naming the exact commands to run when one of Handoff's search
 * attributes is missing in `namespace`, or registered with another type.
 */
export async function checkSearchAttributes(
  connection: NativeConnection,
  namespace: string,
  address?: string,
  keys: readonly SearchAttributeKey<SearchAttributeType>[] = handoffSearchAttributes,
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const registered = customAttributes ?? {};
  const missing = keys.filter((key) => registered[key.name] === undefined);
  const mistyped = keys.filter(
    (key) =>
      registered[key.name] !== undefined &&
      registered[key.name] !== encodeSearchAttributeIndexedValueType(key.type),
  );
  const problems: string[] = [];
  if (missing.length > 0) {
    problems.push(
      `Temporal namespace ${namespace}${address ? ` at ${address}` : ''} lacks Handoff's search attributes ${missing.map((key) => key.name).join(', ')}. Create them once (TLS or an API key: add the CLI's --tls / --api-key options; Temporal Cloud: the namespace's settings or tcld), then start again:\n${searchAttributeCreateCommands(
        missing,
        namespace,
        address,
      )
        .map((command) => `      ${command}`)
        .join('\n')}`,
    );
  }
  for (const key of mistyped) {
    problems.push(
      `search attribute ${key.name} exists in namespace ${namespace} with another type than ${cliTypeNames[key.type] ?? key.type}: Handoff needs ${cliTypeNames[key.type] ?? key.type} (remove and recreate it)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
