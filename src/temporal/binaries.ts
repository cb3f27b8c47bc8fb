import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
// The pins live in one file shared with scripts/setup-temporal.mjs, which installs what this module finds.
import versions from '../../scripts/temporal-versions.json' with { type: 'json' };
import { projectRoot } from './project-root.js';

interface BinarySpec {
  pipPackage: string;
  version: string;
  executable: string;
  envVar: string;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Env var override first, else the copy `npm run setup` put in `.temporal/pip`. There is deliberately no
 * fallback to the SDK's own download: it needs the internet and fails late with an obscure error.
 */
function resolveBinary(spec: BinarySpec, what: string): string {
  const override: string | undefined = process.env[spec.envVar];
  if (override) {
    const path: string = resolve(override);
    if (isExecutableFile(path)) return path;
    throw new Error(
      `${spec.envVar}=${override} does not point at an executable ${what}. ` +
        `Fix ${spec.envVar}, or unset it and run \`npm run setup\` to install ${spec.pipPackage}==${spec.version}.`,
    );
  }
  const pipDir: string = join(projectRoot(), '.temporal', 'pip');
  const path: string = join(pipDir, 'bin', spec.executable);
  // pip's dist-info for the pinned version is the setup script's stamp: without it the binary is missing
  // or left over from an older pin.
  const stamp: string = join(pipDir, `${spec.pipPackage.replaceAll('-', '_')}-${spec.version}.dist-info`);
  if (isExecutableFile(path) && statSync(stamp, { throwIfNoEntry: false })?.isDirectory()) return path;
  throw new Error(
    `The ${what} (${spec.pipPackage}==${spec.version}) is not installed at ${path}. ` +
      `Run \`npm run setup\`, or set ${spec.envVar} to the path of an existing ${spec.executable} executable.`,
  );
}

/** Absolute path of the `temporal` CLI, which runs the dev server. */
export function resolveTemporalCli(): string {
  return resolveBinary(versions.cli, 'Temporal CLI');
}

/** Absolute path of the Java time-skipping test server. */
export function resolveTimeSkippingServer(): string {
  return resolveBinary(versions.testServer, 'Temporal time-skipping test server');
}
