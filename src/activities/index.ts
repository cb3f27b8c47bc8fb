export * from './failure-types.js';
export * from './failures.js';
export * from './graph-activities.js';
export * from './decision-hook.js';
