export * from './budget.js';
export * from './errors.js';
export * from './evaluate.js';
export { globMatch, hasWildcard } from './glob.js';
export * from './naming.js';
export * from './ownership.js';
export * from './plan.js';
export * from './policies.js';
export * from './settings.js';
