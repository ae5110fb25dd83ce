// The demo dashboard: plain ES module, no build step. It talks to the demo
// application (src/cli/demo-app.ts) through the browser client that the
// server serves at /juggler-client.js.
import { reconnect } from '/juggler-client.js';
import { endpoint } from './endpoint.js';

const FEED_LIMIT = 50;
// Give up after this long without a connection (then offer a reload);
// ?budget=MS in the page address changes it.
const BUDGET = Number(new URLSearchParams(location.search).get('budget')) || 5 * 60_000;

const $ = (id) => document.getElementById(id);
const el = {
  grid: $('grid'),
  connection: $('connection'),
  connectionText: $('connection-text'),
  retry: $('retry'),
  counter: $('counter'),
  increment: $('increment'),
  decrement: $('decrement'),
  reset: $('reset'),
  lastAction: $('last-action'),
  uptime: $('uptime'),
  startedAt: $('started-at'),
  clients: $('clients'),
  peakClients: $('peak-clients'),
  requests: $('requests'),
  lastResult: $('last-result'),
  you: $('you'),
  endpoint: $('endpoint'),
  feed: $('feed'),
  feedEmpty: $('feed-empty'),
  raw: $('raw-state'),
};

// ---- connection ------------------------------------------------------------

const view = {
  status: 'connecting',
  attempt: 0,
  disconnectedAt: 0,
  you: null,
  lastState: null,
};

function setStatus(status, text) {
  view.status = status;
  el.connection.dataset.status = status;
  el.connectionText.textContent = text;
  const connected = status === 'connected';
  for (const button of [el.increment, el.decrement, el.reset]) button.disabled = !connected;
  // Until a new connection brings the state, what is shown is the last known value: dim it.
  el.grid.toggleAttribute('data-stale', !connected);
}

function showReconnecting() {
  const attempt = view.attempt > 0 ? ` (attempt ${view.attempt})` : '';
  const since = view.disconnectedAt ? ` · ${Math.round((Date.now() - view.disconnectedAt) / 1000)} s` : '';
  setStatus('reconnecting', `reconnecting…${attempt}${since}`);
}

function showConnecting() {
  const attempt = view.attempt > 1 ? ` (attempt ${view.attempt})` : '';
  setStatus('connecting', `connecting…${attempt}`);
}

const address = await endpoint();
el.endpoint.textContent = address;
el.endpoint.title = address;

const live = start({
  backoff: { initial: 250, max: 5000, jitter: 0.3 },
  budget: BUDGET,
  onConnected() {
    view.attempt = 0;
    view.disconnectedAt = 0;
    setStatus('connected', 'connected');
    addFeed('connection', 'Connected to the server');
  },
  onDisconnected(err) {
    view.attempt = 0;
    view.disconnectedAt = Date.now();
    view.you = null;
    el.you.textContent = '–';
    showReconnecting();
    addFeed('error', `Connection lost${err?.message ? `: ${err.message}` : ''}`);
  },
  onAttempt(n) {
    view.attempt = n;
    if (view.status === 'reconnecting') showReconnecting();
    else if (view.status === 'connecting') showConnecting();
  },
  onGiveUp(err) {
    setStatus('disconnected', 'disconnected');
    el.retry.hidden = false;
    addFeed('error', `Gave up: ${err?.message ?? 'no connection'}. Reload the page to try again.`);
  },
  onNotify: onNotify,
});

/** reconnect(), without the attempt counter when this client version has none. */
function start(options) {
  try {
    return reconnect([address], options);
  } catch (err) {
    if (!/onAttempt/.test(String(err?.message))) throw err;
    const { onAttempt, ...rest } = options;
    return reconnect([address], rest);
  }
}

live.onChange((state) => render(state));
render(live.state);

// ---- requests ----------------------------------------------------------------

async function request(name) {
  const started = performance.now();
  try {
    const counter = await live.send(name, null);
    const ms = Math.round(performance.now() - started);
    el.lastResult.textContent = `your ${name} → ${counter} in ${ms} ms`;
  } catch (err) {
    el.lastResult.textContent = `your ${name} failed`;
    addFeed('error', `Request ${name} failed: ${err?.data ?? err?.message ?? err}`);
  }
}

el.increment.addEventListener('click', () => request('increment'));
el.decrement.addEventListener('click', () => request('decrement'));
el.reset.addEventListener('click', () => request('reset'));
el.retry.addEventListener('click', () => location.reload());

document.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLInputElement || event.metaKey || event.ctrlKey || event.altKey) return;
  if (view.status !== 'connected') return;
  if (event.key === '+') request('increment');
  else if (event.key === '-') request('decrement');
});

// ---- notifications -------------------------------------------------------------

function who(client) {
  return client === view.you ? 'You' : `Client #${client}`;
}

function onNotify(name, data) {
  const d = data ?? {};
  switch (name) {
    case 'welcome':
      view.you = d.client;
      el.you.textContent = `#${d.client}`;
      addFeed('welcome', `Welcome! You are client #${d.client} of ${d.clients}`, d.at);
      break;
    case 'joined':
      addFeed('joined', `Client #${d.client} joined · ${plural(d.clients, 'client')} now`, d.at);
      break;
    case 'left':
      addFeed('left', `Client #${d.client} left · ${plural(d.clients, 'client')} now`, d.at);
      break;
    case 'reset':
      addFeed('reset', `${who(d.client)} reset the counter from ${d.from}`, d.at);
      break;
    case 'milestone':
      addFeed('milestone', `The counter reached ${d.counter}, thanks to ${d.client === view.you ? 'you' : `client #${d.client}`}`, d.at);
      break;
    default:
      addFeed('other', `${name}: ${JSON.stringify(data)}`);
  }
}

function addFeed(kind, text, at) {
  const item = document.createElement('li');
  item.className = `feed-item kind-${kind}`;
  item.dataset.kind = kind;
  const time = document.createElement('time');
  const date = at ? new Date(at) : new Date();
  time.dateTime = date.toISOString();
  time.textContent = date.toLocaleTimeString([], { hour12: false });
  const body = document.createElement('span');
  body.className = 'feed-text';
  body.textContent = text;
  item.append(time, body);
  el.feed.prepend(item);
  while (el.feed.children.length > FEED_LIMIT) el.feed.lastElementChild.remove();
  el.feedEmpty.hidden = true;
}

// ---- rendering -------------------------------------------------------------------

function render(state) {
  const s = state && typeof state === 'object' ? state : null;
  const previous = view.lastState;
  view.lastState = s ? { counter: s.counter } : null;

  text(el.counter, s ? String(s.counter) : '–');
  if (s && previous && previous.counter !== s.counter) bump(el.counter, s.counter > previous.counter ? 'up' : 'down');
  text(el.uptime, s ? formatDuration(s.uptime) : '–');
  text(el.startedAt, s ? `started ${formatDate(s.startedAt)}` : '\u00a0');
  text(el.clients, s ? String(s.clients) : '–');
  text(el.peakClients, s ? String(s.peakClients) : '–');
  text(el.requests, s ? String(s.requests) : '–');
  if (view.you === null) text(el.you, '–');
  renderLastAction(s?.lastAction ?? null);
  text(el.raw, JSON.stringify(state, null, 2));
}

function renderLastAction(action) {
  if (!action) {
    text(el.lastAction, view.lastState ? 'Nobody has pressed a button yet.' : '\u00a0');
    return;
  }
  const verb = { increment: 'raised it to', decrement: 'lowered it to', reset: 'reset it to' }[action.action] ?? `${action.action} →`;
  text(el.lastAction, `${who(action.client)} ${verb} ${action.counter} · ${ago(action.at)}`);
}

function text(node, value) {
  if (node.textContent !== value) node.textContent = value;
}

function bump(node, direction) {
  node.classList.remove('bump-up', 'bump-down');
  void node.offsetWidth; // restart the animation
  node.classList.add(`bump-${direction}`);
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function formatDuration(seconds) {
  if (typeof seconds !== 'number') return '–';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const hms = [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
  return d > 0 ? `${d}d ${hms}` : hms;
}

function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString([], { hour12: false });
}

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

// "x s ago" and "reconnecting · n s" age even when no message arrives.
setInterval(() => {
  if (view.status === 'reconnecting') showReconnecting();
  renderLastAction(live.state?.lastAction ?? null);
}, 1000);

// A handle for the curious (and for the browser tests).
window.dashboard = { live, view };
