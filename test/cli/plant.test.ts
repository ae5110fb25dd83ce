/** The demo's simulated plant (src/cli/plant.ts), stepped by hand on a Storage. */
import assert from 'node:assert/strict';
import { Plant, PLANT_AREAS, type PlantEvent } from '../../src/cli/plant.js';
import { JugglerError, Storage, type JsonValue, type Path } from '../../src/index.js';

function plant(options: ConstructorParameters<typeof Plant>[3] = {}) {
  const state = new Storage({});
  const events: PlantEvent[] = [];
  return { state, events, plant: new Plant(state, 'plant', (e) => events.push(e), options) };
}

describe('Plant (the demo simulation)', () => {
  it('starts with every area and point, all good and inside their limits', () => {
    const { state } = plant({ pointsPerArea: 10 });
    const areas = state.get(['plant', 'areas']) as Record<string, { name: string; points: Record<string, { value: number; lo: number; hi: number; quality: string }> }>;
    assert.deepEqual(Object.keys(areas), Object.keys(PLANT_AREAS));
    for (const area of Object.values(areas)) {
      assert.equal(Object.keys(area.points).length, 10);
      for (const p of Object.values(area.points)) {
        assert.equal(p.quality, 'good');
        assert.ok(p.lo <= p.value && p.value <= p.hi);
      }
    }
    assert.deepEqual(state.get(['plant', 'stats']), { points: 40, changesPerSecond: 300 });
    // Alarms are kept by area, so a view of one area holds only its own.
    assert.deepEqual(state.get(['plant', 'alarms']), Object.fromEntries(Object.keys(PLANT_AREAS).map((a) => [a, {}])));
  });

  it('changes a bounded number of points per tick', () => {
    const { state, plant: p } = plant({ pointsPerArea: 750, changesPerSecond: 300, tick: 100, disturbance: 0 });
    const before = JSON.stringify(state.get(['plant', 'areas']));
    const sets: unknown[] = [];
    const set = state.set.bind(state);
    state.set = ((path: Path, value: JsonValue) => {
      sets.push(path);
      set(path, value);
    }) as typeof state.set;
    p.step();
    // 30 random points and 4 trended ones per area: a value each, a quality or an alarm sometimes.
    const values = sets.filter((path) => Array.isArray(path) && path.at(-1) === 'value').length;
    assert.equal(values, 30 + 4 * 4);
    assert.notEqual(JSON.stringify(state.get(['plant', 'areas'])), before);
  });

  it('raises an alarm when a value leaves its limits, and acknowledging it lets it go once back inside', () => {
    const { state, events, plant: p } = plant({ pointsPerArea: 8, disturbance: 1 });
    for (let i = 0; i < 200 && events.length === 0; i++) p.step();
    const raised = events.find((e) => e.name === 'alarm');
    assert.ok(raised, 'an alarm within 200 ticks');
    const { point, area } = raised.data as { point: string; area: string };
    assert.ok(point.startsWith(`${area}-`), point);
    const alarm = state.get(['plant', 'alarms', area, point]) as { active: boolean; acked: boolean; text: string };
    assert.equal(alarm.acked, false);
    assert.match(alarm.text, /(high|low): -?\d/);
    assert.equal(p.ack(point, 'client #1'), true);
    assert.deepEqual(events.at(-1)!.name, 'ack');
    assert.equal((events.at(-1)!.data as { by: string }).by, 'client #1');
    const after = state.get(['plant', 'alarms', area, point]) as { acked: boolean } | undefined;
    assert.ok(after === undefined || after.acked);
    // The disturbance decays: the acknowledged alarm goes once the value is back.
    for (let i = 0; i < 2000 && state.get(['plant', 'alarms', area, point]) !== undefined; i++) p.step();
    const still = state.get(['plant', 'alarms', area, point]) as { acked: boolean } | undefined;
    assert.ok(still === undefined || still.acked === false, 'gone, or a new unacknowledged one');
  });

  it('refuses to acknowledge what has no alarm, and bad sizes', () => {
    const { plant: p } = plant({ pointsPerArea: 4 });
    assert.throws(() => p.ack('boiler-001', 'x'), JugglerError);
    assert.throws(() => p.ack(42, 'x'), /no alarm for point 42/);
    assert.throws(() => p.ack('nowhere-001', 'x'), /no alarm for point "nowhere-001"/);
    assert.throws(() => plant({ pointsPerArea: 0 }), /options.pointsPerArea must be a positive integer, got 0/);
    assert.throws(() => plant({ tick: 1.5 }), /options.tick/);
  });
});
