import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from '../temporal/project-root.js';
import { workflowBundleOptions } from './worker.js';

/** Where `npm run build:workflows` writes the bundle and where `npm start` loads it from. */
export const defaultWorkflowBundlePath = `${projectRoot()}/dist/workflow-bundle.cjs`;

/** Bundles the workflow code once, ahead of time, so workers need not bundle at start. */
export async function writeWorkflowBundle(path: string = defaultWorkflowBundlePath): Promise<string> {
  const { code } = await bundleWorkflowCode(workflowBundleOptions);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, code);
  return path;
}
