// The plant monitor: plain ES module, no build step. It follows the demo's
// simulated plant (src/cli/plant.ts) through /juggler-client.js, draws
// trends with uPlot (served by the demo at /vendor/), and narrows what the
// server sends to one area with a view (docs/views.md).
import { reconnect } from '/juggler-client.js';
import { endpoint } from './endpoint.js';
import uPlot from '/vendor/uplot.esm.js';

// The first temperatures of each area are trended (every 4th point is one; plant.ts changes them each tick).
const TREND_POINTS = 4;
const TREND_STRIDE = 4;
const SAMPLES = 240; // 60 s at 4 samples a second
const SAMPLE_MS = 250;
const FEED_LIMIT = 30;
const COLOURS = ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981'];

const $ = (id) => document.getElementById(id);
const main = $('plant');


const live = reconnect([await endpoint()], { backoff: { initial: 250, max: 5000, jitter: 0.3 }, onNotify });

// ---- connection status ----------------------------------------------------

function showStatus() {
  const status = live.linkStatus;
  const stale = live.stale;
  $('connection').dataset.status = status;
  $('connection').dataset.stale = String(stale);
  $('connection-text').textContent = status === 'connected' && stale ? 'connected · stale' : status === 'connected' ? 'connected' : `${status}…`;
  // The last known values stay on screen while they may be old: dimmed.
  main.toggleAttribute('data-stale', status !== 'connected' || stale);
  if (status === 'connected' && $('area').value !== '') askView($('area').value);
}
live.onStatusChange(showStatus);

// ---- area selector (a view) -----------------------------------------------

function viewOf(area) {
  // An area's alarms are kept under its name, so the view holds no other area's.
  return area === '' ? [[]] : [['plant', 'areas', area], ['plant', 'alarms', area], ['plant', 'stats']];
}

let asked = null;
async function askView(area) {
  if (asked === area) return;
  asked = area;
  try {
    await live.setView(viewOf(area));
    main.dataset.area = area;
  } catch (err) {
    asked = null;
    addFeed('error', `View refused: ${err.message ?? err}`);
  }
}
$('area').addEventListener('change', () => {
  const area = $('area').value;
  history.replaceState(null, '', area ? `#${area}` : '#');
  charts.clear();
  if (live.connected) askView(area);
});
// The area asked for in the address; selectable once the state names it.
let wanted = location.hash.slice(1);

// ---- rendering ------------------------------------------------------------

let plant = null;
let frame = 0;
let updates = 0;
live.onChange((state, diff) => {
  plant = state?.plant ?? null;
  updates += Array.isArray(diff) ? diff.length : 1;
  if (!frame) frame = requestAnimationFrame(render);
});

const tiles = new Map(); // point id -> tile element
function render() {
  frame = 0;
  if (plant === null) return;
  const areas = plant.areas ?? {};
  const select = $('area');
  for (const [id, area] of Object.entries(areas)) {
    if (![...select.options].some((o) => o.value === id)) select.add(new Option(area.name, id));
  }
  if (wanted && select.value !== wanted && [...select.options].some((o) => o.value === wanted)) {
    select.value = wanted;
    wanted = '';
    askView(select.value);
  }
  renderPoints(areas);
  renderAlarms(plant.alarms ?? {});
}

function renderPoints(areas) {
  const container = $('areas');
  let points = 0;
  let bad = 0;
  const seen = new Set();
  for (const [areaId, area] of Object.entries(areas)) {
    let section = container.querySelector(`[data-area="${areaId}"]`);
    if (!section) {
      section = document.createElement('div');
      section.className = 'area';
      section.dataset.area = areaId;
      section.dataset.testid = `area-${areaId}`;
      section.innerHTML = `<h3></h3><div class="tiles"></div>`;
      section.querySelector('h3').textContent = area.name;
      container.append(section);
    }
    seen.add(areaId);
    const box = section.lastElementChild;
    for (const [id, p] of Object.entries(area.points ?? {})) {
      points += 1;
      if (p.quality === 'bad') bad += 1;
      let tile = tiles.get(id);
      if (!tile) {
        tile = document.createElement('span');
        tile.className = 'tile';
        tiles.set(id, tile);
        box.append(tile);
      }
      const alarm = plant.alarms?.[id]?.active === true;
      const cls = `tile q-${p.quality}${alarm ? ' alarm' : ''}`;
      if (tile.className !== cls) tile.className = cls;
      tile.title = `${p.name}: ${p.value} ${p.unit} (${p.quality})`;
    }
  }
  for (const section of [...container.children]) {
    if (!seen.has(section.dataset.area)) {
      for (const tile of section.querySelectorAll('.tile')) for (const [id, t] of tiles) if (t === tile) tiles.delete(id);
      section.remove();
    }
  }
  $('kpi-points').textContent = points.toLocaleString('en');
  $('kpi-bad').textContent = String(bad);
}

function renderAlarms(alarms) {
  const list = $('alarm-list');
  const entries = Object.values(alarms)
    .flatMap((byPoint) => Object.values(byPoint ?? {}))
    .sort((a, b) => (a.at < b.at ? 1 : -1));
  $('kpi-alarms').textContent = String(entries.filter((a) => a.active).length);
  $('alarms-empty').hidden = entries.length > 0;
  const rows = entries.map((a) => {
    let li = list.querySelector(`[data-point="${a.point}"]`);
    if (!li) {
      li = document.createElement('li');
      li.dataset.point = a.point;
      li.innerHTML = '<span class="when"></span><span class="text"></span><button type="button">Ack</button>';
      li.querySelector('button').addEventListener('click', () => ack(a.point, li));
    }
    li.className = `alarm-row${a.active ? ' active' : ' cleared'}${a.acked ? ' acked' : ''}`;
    li.querySelector('.when').textContent = new Date(a.at).toLocaleTimeString('en-GB');
    li.querySelector('.text').textContent = `${a.text}${a.active ? '' : ' (back to normal)'}`;
    li.querySelector('button').hidden = a.acked;
    return li;
  });
  list.replaceChildren(...rows);
}

async function ack(point, li) {
  li.querySelector('button').disabled = true;
  try {
    await live.send('ack', point);
  } catch (err) {
    addFeed('error', `Acknowledge failed: ${err.message ?? err}`);
  } finally {
    li.querySelector('button').disabled = false;
  }
}

// ---- trends (uPlot) ---------------------------------------------------------

const charts = {
  byArea: new Map(),
  clear() {
    for (const c of this.byArea.values()) c.plot.destroy();
    this.byArea.clear();
    $('charts').replaceChildren();
  },
};

function sample() {
  if (plant === null) return;
  const now = Date.now() / 1000;
  for (const [areaId, chart] of charts.byArea) {
    if (plant.areas?.[areaId] === undefined) {
      chart.plot.destroy();
      chart.box.remove();
      charts.byArea.delete(areaId);
    }
  }
  for (const [areaId, area] of Object.entries(plant.areas ?? {})) {
    const ids = Object.keys(area.points ?? {}).filter((_, i) => i % TREND_STRIDE === 0).slice(0, TREND_POINTS);
    let chart = charts.byArea.get(areaId);
    if (!chart) chart = newChart(areaId, area, ids);
    chart.data[0].push(now);
    ids.forEach((id, i) => chart.data[i + 1].push(area.points[id].value));
    if (chart.data[0].length > SAMPLES) for (const series of chart.data) series.shift();
    chart.plot.setData(chart.data);
  }
  $('kpi-rate').textContent = String(Math.round(updates / (SAMPLE_MS / 1000)));
  updates = 0;
}

function newChart(areaId, area, ids) {
  const box = document.createElement('figure');
  box.className = 'chart';
  box.dataset.area = areaId;
  box.innerHTML = '<figcaption></figcaption>';
  box.firstChild.textContent = area.name;
  $('charts').append(box);
  const width = Math.max(240, box.clientWidth - 8);
  const opts = {
    width,
    height: 170,
    legend: { show: true, live: false },
    cursor: { show: false },
    axes: [{ stroke: '#8a94a6', grid: { stroke: '#8a94a622' } }, { stroke: '#8a94a6', grid: { stroke: '#8a94a622' }, size: 44 }],
    series: [{}, ...ids.map((id, i) => ({ label: area.points[id].name.split(' ')[0], stroke: COLOURS[i % COLOURS.length], width: 1.5, points: { show: false } }))],
  };
  const data = [[], ...ids.map(() => [])];
  const chart = { plot: new uPlot(opts, data, box), data, box };
  charts.byArea.set(areaId, chart);
  return chart;
}

setInterval(sample, SAMPLE_MS);
addEventListener('resize', () => {
  for (const c of charts.byArea.values()) c.plot.setSize({ width: Math.max(240, c.box.clientWidth - 8), height: 170 });
});

// ---- notifications ----------------------------------------------------------

function onNotify(name, data) {
  // Alarm news goes to everyone; with one area selected, the feed shows that area's.
  const area = $('area').value;
  if ((name === 'alarm' || name === 'ack') && area !== '' && data.area !== area) return;
  if (name === 'alarm') addFeed('alarm', data.text);
  else if (name === 'ack') addFeed('ack', `${data.by} acknowledged ${data.point}`);
  else if (name === 'welcome') addFeed('info', `Welcome, client #${data.client}`);
  else if (name === 'joined' || name === 'left') addFeed('info', `Client #${data.client} ${name} (${data.clients} online)`);
}

function addFeed(kind, text) {
  const li = document.createElement('li');
  li.className = `feed-${kind}`;
  li.innerHTML = '<time></time> <span></span>';
  li.firstChild.textContent = new Date().toLocaleTimeString('en-GB');
  li.lastChild.textContent = text;
  $('feed').prepend(li);
  while ($('feed').children.length > FEED_LIMIT) $('feed').lastChild.remove();
}

showStatus();
