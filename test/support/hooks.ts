/**
 * Root hooks: whatever a test opened is closed after it, even when it
 * failed; and the client's memory of plain servers (kept per address for
 * the life of the process) is cleared, since a later test's server may get
 * the same ephemeral port as an earlier test's plain one and would then be
 * connected to without the extension.
 */
import { forgetPlainAddress } from '../../src/client/connect.js';
import { runCleanups } from './cleanup.js';

export const mochaHooks = {
  async afterEach(): Promise<void> {
    try {
      await runCleanups();
    } finally {
      forgetPlainAddress();
    }
  },
};
