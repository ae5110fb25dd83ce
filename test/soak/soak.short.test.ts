/**
 * The short soak, part of `npm test`: the runner of soak.ts with fewer
 * clients for about fifteen seconds (`npm run soak` runs the full one).
 */
import { assertSoak, runSoak } from './soak.js';

describe('soak (short)', function () {
  this.timeout(120_000);

  it('loses and duplicates no response, keeps every client equal to the server, and returns to its heap baseline', async () => {
    const report = await runSoak({
      seconds: Number(process.env.SOAK_SHORT_SECONDS ?? 12),
      clients: 60,
      seed: process.env.SOAK_SEED === undefined ? undefined : Number(process.env.SOAK_SEED),
      verbose: process.env.SOAK_VERBOSE === '1',
    });
    assertSoak(report);
  });
});
