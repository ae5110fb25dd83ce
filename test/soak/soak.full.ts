/**
 * The full soak: `npm run soak`. Hundreds of clients for a few minutes;
 * SOAK_SECONDS and SOAK_CLIENTS change that, SOAK_SEED replays a run.
 */
import { assertSoak, runSoak } from './soak.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 180);
const clients = Number(process.env.SOAK_CLIENTS ?? 300);

describe(`soak (full: ${clients} clients, ${seconds} s)`, function () {
  this.timeout((seconds + 300) * 1000);

  it('loses and duplicates no response, keeps every client equal to the server, and returns to its heap baseline', async () => {
    const report = await runSoak({
      seconds,
      clients,
      seed: process.env.SOAK_SEED === undefined ? undefined : Number(process.env.SOAK_SEED),
      verbose: true,
    });
    console.log(`  [soak] ${JSON.stringify({ ...report, violations: report.violations.length })}`);
    assertSoak(report);
  });
});
