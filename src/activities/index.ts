export * from './decision-hook.js';
export * from './failure-types.js';
export * from './failures.js';
export * from './graph-activities.js';
