// The dashboard: each row selects its own point, so a change re-renders
// one row, not the table; the banner shows the link and stale data.
import { useCallback } from 'react';
import { createRoot } from 'react-dom/client';
import { reconnect } from 'koa-juggler/client';
import { useJuggler, useJugglerStatus } from 'koa-juggler/react';

const live = reconnect('/ws', { snapshots: true });
const ids = (state) => Object.keys(state?.points ?? {}).join(',');

function Row({ id }) {
  const point = useJuggler(live, useCallback((state) => state?.points[id], [id]));
  if (point === undefined) return null;
  return (
    <tr data-id={id} className={point.alarm ? 'alarm' : ''}>
      <td>{id}</td>
      <td className="value">{point.value}</td>
      <td>{point.alarm && <button onClick={() => live.send('ack', id)}>acknowledge</button>}</td>
    </tr>
  );
}

function Dashboard() {
  const { status, stale } = useJugglerStatus(live);
  const list = useJuggler(live, ids);
  return (
    <main>
      <p id="status" data-status={status}>{status}{stale ? ' (stale)' : ''}</p>
      <table><tbody>{list === '' ? null : list.split(',').map((id) => <Row key={id} id={id} />)}</tbody></table>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<Dashboard />);
