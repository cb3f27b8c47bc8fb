/** `npm run build:workflows`: bundles the workflow code ahead of time for a fast worker start. */
import { writeWorkflowBundle } from '../worker/bundle.js';

writeWorkflowBundle().then(
  (path) => console.log(`workflow bundle written to ${path}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
