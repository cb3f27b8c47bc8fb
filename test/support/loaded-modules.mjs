// Preloaded with `node --import` (test/webhook-footprint.test.ts): registers a module hook that
// appends the URL of every module the process loads, ES module or CommonJS entry point, to the file
// named by HANDOFF_LOADED_MODULES_FILE, one per line.
import { register } from 'node:module';

const file = process.env.HANDOFF_LOADED_MODULES_FILE;
if (!file) throw new Error('HANDOFF_LOADED_MODULES_FILE must name the file to list loaded modules in');
register('./loaded-modules-hooks.mjs', import.meta.url, { data: { file } });
