/**
 * The simulated plant of the demo (`static/index.html`): a few thousand
 * measured points in four areas, a few hundred value changes per second,
 * quality that sometimes degrades, and alarms an operator acknowledges.
 * It lives under one key of the demo's shared state:
 *
 * ```
 * plant: {
 *   areas: { boiler: { name: 'Boiler', points: { 'boiler-001': { name, unit, value, quality, lo, hi } } }, ... },
 *   alarms: { boiler: { 'boiler-017': { point, area, text, value, at, active: true, acked: false } }, turbine: {}, ... },
 *   stats: { points: 3000, changesPerSecond: 300 },
 * }
 * ```
 *
 * `quality` is 'good', 'uncertain' or 'bad'. An alarm appears when a value
 * leaves [lo, hi], and goes once it is both back inside and acknowledged.
 * Alarms are kept by area, like the points, so a view of one area
 * (`[['plant', 'areas', a], ['plant', 'alarms', a]]`) holds that area's
 * alarms and no other's.
 * CPU stays bounded: each tick changes a fixed number of points.
 */
import { InvalidArgumentError, JugglerError, type JsonValue, type Storage } from '../index.js';

/** The areas of the plant, in display order. */
export const PLANT_AREAS: Readonly<Record<string, string>> = { boiler: 'Boiler', turbine: 'Turbine', cooling: 'Cooling water', feedwater: 'Feedwater' };

/** How big the plant is and how fast it changes. */
export interface PlantOptions {
  /** Points in each of the four areas. @default 750 */
  pointsPerArea?: number;
  /** Value changes per second, all areas together. @default 300 */
  changesPerSecond?: number;
  /** Milliseconds between two rounds of changes. @default 100 */
  tick?: number;
  /** Chance per tick that a disturbance hits a random point (it then leaves its limits for a while). @default 0.03 */
  disturbance?: number;
}

/** A notification the plant wants sent to everyone: `alarm` (a new one) or `ack`. */
export type PlantEvent = { name: 'alarm' | 'ack'; data: JsonValue };

const KINDS = [
  { prefix: 'T', name: 'Temperature', unit: '°C', base: 80, span: 40 },
  { prefix: 'P', name: 'Pressure', unit: 'bar', base: 12, span: 6 },
  { prefix: 'F', name: 'Flow', unit: 'm³/h', base: 250, span: 120 },
  { prefix: 'L', name: 'Level', unit: '%', base: 55, span: 30 },
];

interface Sim {
  area: string;
  id: string;
  base: number;
  span: number;
  phase: number;
  disturbance: number;
  badUntil: number;
}

/**
 * The plant's initial value (what goes under `plant` in the state), and
 * its simulation driving a Storage.
 * @throws InvalidArgumentError for a size, rate or tick that is not a positive integer
 */
export class Plant {
  readonly #state: Storage;
  readonly #root: string;
  readonly #sims: Sim[] = [];
  // Which area each point is in: an acknowledgement names only the point.
  readonly #areaOf = new Map<string, string>();
  // Disturbed points change every tick, so their alarm shows at once.
  readonly #disturbed = new Set<Sim>();
  readonly #perTick: number;
  readonly #tick: number;
  readonly #disturbance: number;
  readonly #onEvent: (event: PlantEvent) => void;
  #timer: ReturnType<typeof setInterval> | null = null;
  #t = 0;

  /**
   * @param state the shared state; the plant writes under `state[root]`
   * @param onEvent gets the notifications to send to every connection
   */
  constructor(state: Storage, root: string, onEvent: (event: PlantEvent) => void, options: PlantOptions = {}) {
    const { pointsPerArea = 750, changesPerSecond = 300, tick = 100, disturbance = 0.03 } = options;
    for (const [name, v] of Object.entries({ pointsPerArea, changesPerSecond, tick })) {
      if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`options.${name}`, 'a positive integer', v);
    }
    this.#state = state;
    this.#root = root;
    this.#onEvent = onEvent;
    this.#tick = tick;
    this.#perTick = Math.max(1, Math.round((changesPerSecond * tick) / 1000));
    this.#disturbance = disturbance;
    const areas: Record<string, JsonValue> = {};
    for (const [area, areaName] of Object.entries(PLANT_AREAS)) {
      const points: Record<string, JsonValue> = {};
      for (let i = 0; i < pointsPerArea; i++) {
        const kind = KINDS[i % KINDS.length];
        const id = `${area}-${String(i + 1).padStart(3, '0')}`;
        // Numbered across the plant, not per area, so the areas' trends do not move in step.
        const k = this.#sims.length;
        const base = kind.base + ((k * 7) % 11) - 5;
        this.#sims.push({ area, id, base, span: kind.span, phase: k * 0.7, disturbance: 0, badUntil: 0 });
        this.#areaOf.set(id, area);
        points[id] = {
          name: `${kind.prefix}${String(i + 1).padStart(3, '0')} ${kind.name}`,
          unit: kind.unit,
          value: round(base),
          quality: 'good',
          lo: round(base - kind.span / 2),
          hi: round(base + kind.span / 2),
        };
      }
      areas[area] = { name: areaName, points };
    }
    const alarms = Object.fromEntries(Object.keys(areas).map((area) => [area, {}]));
    state.set([root], { areas, alarms, stats: { points: this.#sims.length, changesPerSecond } });
  }

  /** Starts changing values; the timer never keeps the process alive. */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.step(), this.#tick);
    this.#timer.unref();
  }

  /** Stops the changes. Safe to call twice. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round of changes: the trended points, the disturbed ones, and a random sample of all. */
  step(): void {
    this.#t += this.#tick / 1000;
    const now = Date.now();
    if (Math.random() < this.#disturbance) {
      const sim = this.#sims[Math.floor(Math.random() * this.#sims.length)];
      sim.disturbance = sim.span * (0.8 + Math.random() * 0.5) * (Math.random() < 0.7 ? 1 : -1);
      this.#disturbed.add(sim);
    }
    for (const sim of this.#disturbed) {
      this.#update(sim, now);
      if (Math.abs(sim.disturbance) < sim.span * 0.05) this.#disturbed.delete(sim);
    }
    const perArea = this.#sims.length / Object.keys(PLANT_AREAS).length;
    // The first four temperatures of each area (every fourth point) are the page's trends.
    for (let a = 0; a < Object.keys(PLANT_AREAS).length; a++) {
      for (let i = 0; i < 16 && i < perArea; i += KINDS.length) this.#update(this.#sims[a * perArea + i], now);
    }
    for (let n = 0; n < this.#perTick; n++) this.#update(this.#sims[Math.floor(Math.random() * this.#sims.length)], now);
  }

  /**
   * Acknowledges the alarm of `point`; it goes once its value is back inside the limits.
   * @throws JugglerError when there is no such alarm
   */
  ack(point: JsonValue, by: string): JsonValue {
    const area = typeof point === 'string' ? this.#areaOf.get(point) : undefined;
    const path = area === undefined ? null : [this.#root, 'alarms', area, point as string];
    const alarm = path === null ? undefined : (this.#state.get(path) as Record<string, JsonValue> | undefined);
    if (path === null || alarm === undefined || alarm === null) throw new JugglerError(`no alarm for point ${JSON.stringify(point)}`);
    const id = point as string;
    if (alarm.active) this.#state.set([...path, 'acked'], true);
    else this.#state.remove(path);
    this.#onEvent({ name: 'ack', data: { point: id, area: alarm.area, by, at: new Date().toISOString() } });
    return true;
  }

  #update(sim: Sim, now: number): void {
    const path = [this.#root, 'areas', sim.area, 'points', sim.id];
    sim.disturbance *= 0.985;
    const wave = Math.sin(this.#t / 4 + sim.phase) * sim.span * 0.15;
    const noise = (Math.random() - 0.5) * sim.span * 0.06;
    const value = round(sim.base + wave + noise + sim.disturbance);
    this.#state.set([...path, 'value'], value);
    if (sim.badUntil === 0 && Math.random() < 0.002) sim.badUntil = now + 3000 + Math.random() * 5000;
    const quality = sim.badUntil > now ? (sim.badUntil % 2 < 1 ? 'bad' : 'uncertain') : 'good';
    if (sim.badUntil !== 0 && sim.badUntil <= now) sim.badUntil = 0;
    if (this.#state.get([...path, 'quality']) !== quality) this.#state.set([...path, 'quality'], quality);
    this.#checkAlarm(sim, value, path, now);
  }

  #checkAlarm(sim: Sim, value: number, path: string[], now: number): void {
    const lo = this.#state.get([...path, 'lo']) as number;
    const hi = this.#state.get([...path, 'hi']) as number;
    const outside = value > hi || value < lo;
    const alarmPath = [this.#root, 'alarms', sim.area, sim.id];
    const alarm = this.#state.get(alarmPath) as { active: boolean; acked: boolean } | undefined;
    if (outside && (alarm === undefined || !alarm.active)) {
      const name = this.#state.get([...path, 'name']) as string;
      const text = `${name} ${value > hi ? 'high' : 'low'}: ${value} ${this.#state.get([...path, 'unit']) as string}`;
      const at = new Date(now).toISOString();
      this.#state.set(alarmPath, { point: sim.id, area: sim.area, text, value, at, active: true, acked: false });
      this.#onEvent({ name: 'alarm', data: { point: sim.id, area: sim.area, text, at } });
    } else if (!outside && alarm?.active) {
      if (alarm.acked) this.#state.remove(alarmPath);
      else this.#state.set([...alarmPath, 'active'], false);
    }
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
