// The koa-juggler admin page: polls /_admin/api/overview once a second while
// open, reads the state one level at a time on click, and follows the diffs
// through an event stream. Plain ES module, no build step.
const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const POLL_MS = 1000;
const MAX_DIFFS = 300;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) node.append(child);
  return node;
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// --- overview: figures, connections, sessions, cluster ---

let last = null;

function rate(now, before, field) {
  if (before === null || now.counters[field] === null) return '–';
  const seconds = (now.time - before.time) / 1000;
  return seconds > 0 ? ((now.counters[field] - before.counters[field]) / seconds).toFixed(1) : '–';
}

function renderOverview(o) {
  $('connection-count').textContent = String(o.connections.length);
  $('request-rate').textContent = rate(o, last, 'requests');
  $('flush-rate').textContent = rate(o, last, 'flushes');
  $('buffered').textContent = `${bytes(o.bufferedBytes)} / ${bytes(o.maxBufferedBytes)}`;
  $('uptime').textContent = duration(o.uptime);
  $('state-version').textContent = o.state.shared ? `version ${o.state.version}` : 'no shared state';
  $('connections').replaceChildren(
    ...o.connections.map((c) =>
      el(
        'tr',
        { 'data-remote': c.remote },
        el('td', {}, c.remote),
        el('td', {}, c.user ?? '–'),
        el('td', {}, el('span', { class: 'tag' }, c.kind)),
        el('td', { title: c.session ?? '' }, c.session ? c.session.slice(0, 12) : '–'),
        el('td', { class: 'n' }, String(c.queued)),
        el('td', { class: 'n' }, bytes(c.bytesIn)),
        el('td', { class: 'n' }, bytes(c.bytesOut)),
        el('td', { class: 'n' }, bytes(c.buffered)),
      ),
    ),
  );
  const sessions = o.sessions ?? [];
  $('session-count').textContent = o.sessions === null ? 'extension off' : `${sessions.length} held`;
  $('sessions').replaceChildren(
    ...sessions.slice(0, 100).map((s) =>
      el('tr', {}, el('td', { title: s.id }, s.id.slice(0, 16)), el('td', { class: 'n' }, String(s.connections)), el('td', {}, s.idleSince ? new Date(s.idleSince).toLocaleTimeString() : 'connected')),
    ),
  );
  const cluster = $('cluster-section');
  cluster.hidden = o.cluster === null;
  if (o.cluster !== null) {
    $('cluster').replaceChildren(...o.cluster.map((n) => el('tr', {}, el('td', {}, n.self ? `${n.id} (this node)` : n.id), el('td', { class: 'n' }, n.lag === null ? '–' : String(n.lag)))));
  }
  last = o;
}

async function poll() {
  try {
    const res = await fetch('api/overview', { cache: 'no-store' });
    if (res.ok) renderOverview(await res.json());
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// --- the state, one level per click ---

function describe(child) {
  if (child.type === 'object') return `{${child.count}}`;
  if (child.type === 'array') return `[${child.count}]`;
  return child.preview;
}

async function loadLevel(path, list) {
  const res = await fetch(`api/state?path=${encodeURIComponent(JSON.stringify(path))}`, { cache: 'no-store' });
  if (!res.ok) {
    list.replaceChildren(el('li', { class: 'note' }, (await res.json().catch(() => ({}))).error ?? `HTTP ${res.status}`));
    return null;
  }
  const level = await res.json();
  list.replaceChildren(...level.children.map((child) => treeItem([...path, child.key], child)));
  if (level.more > 0) list.append(el('li', { class: 'note' }, `… and ${level.more} more`));
  return level;
}

function treeItem(path, child) {
  const composite = child.type === 'object' || child.type === 'array';
  const row = el(
    'div',
    { class: composite && child.count > 0 ? 'row open-able' : 'row', 'data-path': JSON.stringify(path) },
    el('span', { class: 'key' }, String(child.key)),
    el('span', { class: 'value' }, describe(child)),
    el('span', { class: 'size' }, bytes(child.size)),
  );
  const item = el('li', {}, row);
  if (composite && child.count > 0) {
    let sub = null;
    row.addEventListener('click', async () => {
      if (sub) {
        sub.remove();
        sub = null;
        row.classList.remove('open');
        return;
      }
      sub = el('ul');
      item.append(sub);
      row.classList.add('open');
      await loadLevel(path, sub);
    });
  }
  return item;
}

async function loadRoot() {
  const tree = $('state-tree');
  const res = await fetch(`api/state?path=[]`, { cache: 'no-store' });
  if (!res.ok) {
    tree.replaceChildren(el('li', { class: 'note' }, 'no shared state: each connection has its own'));
    return;
  }
  const level = await res.json();
  tree.replaceChildren(treeItem([], { ...level.node, key: '(root)' }));
}

// --- the diffs as they go out ---

let paused = false;
let skipped = 0;

function pathMatches(filter, path) {
  return filter === '' || path === filter || path.startsWith(filter.endsWith('/') ? filter : filter + '/') || filter.startsWith(path + '/') || path === '';
}

function renderDiff(d) {
  const filter = $('diff-filter').value.trim();
  const ops = d.diff.filter((op) => pathMatches(filter, op.path));
  if (ops.length === 0) return;
  const item = el(
    'li',
    { 'data-version': d.version ?? '' },
    el('span', { class: 'meta' }, new Date(d.time).toLocaleTimeString()),
    ...ops.flatMap((op) => [el('span', { class: `op-${op.op}` }, `${op.op} `), `${op.path} `, JSON.stringify(op.value ?? null).slice(0, 120), el('br')]),
  );
  const list = $('diffs');
  list.prepend(item);
  while (list.children.length > MAX_DIFFS) list.lastChild.remove();
}

function follow() {
  const source = new EventSource('api/diffs');
  source.onmessage = (event) => {
    const d = JSON.parse(event.data);
    if (paused) {
      skipped += 1;
      $('diff-status').textContent = `paused: ${skipped} diff${skipped === 1 ? '' : 's'} not shown`;
      return;
    }
    $('diff-status').textContent = `live · last at ${new Date(d.time).toLocaleTimeString()}`;
    renderDiff(d);
  };
  source.onerror = () => {
    $('diff-status').textContent = 'not following diffs (no shared state, or the server went away)';
  };
}

$('diff-pause').addEventListener('click', () => {
  paused = !paused;
  skipped = 0;
  const button = $('diff-pause');
  button.setAttribute('aria-pressed', String(paused));
  button.textContent = paused ? 'resume' : 'pause';
  $('diff-status').textContent = paused ? 'paused' : 'live';
});

void poll();
void loadRoot();
follow();
