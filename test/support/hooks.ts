/** Root hooks: whatever a test opened is closed after it, even when it failed. */
import { runCleanups } from './cleanup.js';

export const mochaHooks = {
  afterEach: runCleanups,
};
