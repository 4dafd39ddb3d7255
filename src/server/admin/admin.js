/**
 * The gateway's admin page: the sync sessions, live, through the public GraphQL API only,
 * over one graphql-ws socket (protocol graphql-transport-ws, spoken here) to this origin's
 * /graphql. No framework, no build step, nothing from another host.
 *
 * Live and bounded, however many sessions there are:
 * - One page of at most PAGE_SIZE (50) sessions is shown; "Next" pages forward with
 *   `after`, "Previous" goes back to the cursor it came from.
 * - Each open session on the page is watched with `connectionStateChanges`, `progress`
 *   (DOWNLOAD, REPORT_INDEFINITELY) and `sessionEvents`: at most 3 × 50 = 150
 *   subscriptions, under the gateway's 200 operations per socket, leaving room for the
 *   queries and mutations. Closed sessions are not watched; nor, with `sessionEvents`, a
 *   session that must reset (watching it announces CLIENT_RESET_REQUIRED to its client again).
 * - An event patches its row at once (events carry the session) and asks for a re-query of
 *   the page, at most one a second however many events come, so that a row that stops
 *   matching the filters leaves and the upload figures follow.
 * - The page is re-queried every REFRESH_MS (5 s) as well, since a new session has no
 *   event; not while the tab is hidden, and never two loads at once.
 * Upload progress is the session's `uploadProgress` field (cheap: it is read off the session
 * record); download progress comes from the subscription, which counts incrementally where
 * the `downloadProgress` field would read the session's history again on every re-query.
 *
 * Backlog, from public fields: ↑ latestClientVersion − lastIntegratedClientVersion
 * changesets (reported by the client, not yet integrated); ↓ transferableBytes −
 * transferredBytes of the download progress (bytes in scope not yet acknowledged).
 *
 * Filters: state and connection are arguments of `sessions`. The API filters by neither user
 * nor client id, so the text filter scans pages of SCAN_BATCH sessions with only their
 * ids (at most SCAN_LIMIT per page of results; "Next" continues the scan) and then loads
 * the matching rows by id, BY_ID_BATCH to a query.
 *
 * Reconnect asks one session (`reconnect(sessionId)`); "Ask all clients to reconnect" every
 * session (`reconnect` without an id).
 *
 * The token is kept in sessionStorage (this tab, until it closes) and sent only to this
 * origin, in graphql-ws's connection_init.
 */

const PAGE_SIZE = 50;
const SCAN_BATCH = 500;
const SCAN_LIMIT = 5000;
const BY_ID_BATCH = 25;
const REFRESH_MS = 5000;
const REQUERY_MS = 1000;
const TOKEN_KEY = 'graphql-sync-gateway:admin-token';

const ROW = `fragment Row on SyncSession {
  id clientId user { id } state connectionState pausedDirections pausedUntil
  lastIntegratedClientVersion latestClientVersion resetRequired lastSyncedAt closed
  uploadProgress { progressEstimate transferredBytes transferableBytes }
}`;
const FILTER_ARGS = '$after: String, $state: SessionState, $connection: ConnectionState';
const SESSIONS_ARGS = 'after: $after, state: $state, connectionState: $connection';

const Q = {
  page: `query AdminSessions($first: Int!, ${FILTER_ARGS}) {
  sessions(first: $first, ${SESSIONS_ARGS}) {
    pageInfo { hasNextPage endCursor } edges { node { ...Row } } } } ${ROW}`,
  scan: `query AdminScan($first: Int!, ${FILTER_ARGS}) {
  sessions(first: $first, ${SESSIONS_ARGS}) {
    pageInfo { hasNextPage } edges { cursor node { id clientId user { id } } } } }`,
  events: `subscription AdminEvents($id: ID!) {
  sessionEvents(sessionId: $id) { type at session { ...Row } } } ${ROW}`,
  connection: `subscription AdminConnection($id: ID!) {
  connectionStateChanges(sessionId: $id) { current at session { ...Row } } } ${ROW}`,
  download: `subscription AdminDownload($id: ID!) {
  progress(sessionId: $id, direction: DOWNLOAD, mode: REPORT_INDEFINITELY) {
    progressEstimate transferredBytes transferableBytes } }`,
  pause: `mutation AdminPause($id: ID!) { pauseSession(id: $id) { ...Row } } ${ROW}`,
  resume: `mutation AdminResume($id: ID!) { resumeSession(id: $id) { ...Row } } ${ROW}`,
  close: `mutation AdminClose($id: ID!) { closeSession(id: $id) }`,
  reconnect: `mutation AdminReconnect { reconnect { sessions } }`,
  reconnectOne: `mutation AdminReconnectOne($id: ID!) { reconnect(sessionId: $id) { sessions } }`,
};

/** The rows of these ids, in one query: `s0: session(id: $i0) { ...Row } ...`. */
function byIdsQuery(count) {
  const indexes = Array.from({ length: count }, (_, i) => i);
  const vars = indexes.map((i) => `$i${i}: ID!`).join(', ');
  const fields = indexes.map((i) => `s${i}: session(id: $i${i}) { ...Row }`).join('\n');
  return `query AdminRows(${vars}) {\n${fields}\n} ${ROW}`;
}

/** An Error for GraphQL errors, with the first one's code. */
function graphqlError(errors) {
  const list = Array.isArray(errors) ? errors : [errors];
  const error = new Error(list.map((e) => e?.message ?? String(e)).join('; '));
  error.code = list[0]?.extensions?.code;
  return error;
}

/**
 * The client side of graphql-transport-ws, as much as this page needs: connection_init with
 * { authToken }, ping/pong, subscribe/next/error/complete, and complete to stop.
 */
class GraphqlSocket {
  constructor(url, token, { onReady, onClosed }) {
    this.ops = new Map();
    this.nextId = 1;
    this.ready = false;
    this.ws = new WebSocket(url, 'graphql-transport-ws');
    this.ws.addEventListener('open', () =>
      this.send({ type: 'connection_init', payload: { authToken: token } }),
    );
    this.ws.addEventListener('message', (event) => {
      if (this.receive(event.data) === 'ack') onReady();
    });
    this.ws.addEventListener('close', (event) => {
      this.ready = false;
      const ops = [...this.ops.values()];
      this.ops.clear();
      for (const op of ops) op.error(new Error(`the connection closed (${event.code})`));
      onClosed(event);
    });
  }

  send(message) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      this.ws.close(4400, 'Invalid message received');
      return null;
    }
    const op = this.ops.get(message.id);
    switch (message.type) {
      case 'connection_ack':
        this.ready = true;
        return 'ack';
      case 'ping':
        this.send({ type: 'pong' });
        break;
      case 'next':
        op?.next(message.payload);
        break;
      case 'error':
        this.ops.delete(message.id);
        op?.error(graphqlError(message.payload));
        break;
      case 'complete':
        this.ops.delete(message.id);
        op?.complete();
        break;
    }
    return null;
  }

  /** Starts an operation; the function returned stops it (if it is still running). */
  subscribe(query, variables, sink) {
    if (!this.ready) throw new Error('not connected');
    const id = String(this.nextId++);
    this.ops.set(id, sink);
    this.send({ id, type: 'subscribe', payload: { query, variables } });
    return () => {
      if (this.ops.delete(id)) this.send({ id, type: 'complete' });
    };
  }

  /** A query or mutation: its data, or a rejection with its errors. */
  request(query, variables = {}) {
    return new Promise((resolve, reject) => {
      let result;
      this.subscribe(query, variables, {
        next: (payload) => (result = payload),
        error: reject,
        complete: () => {
          if (!result) reject(new Error('no result'));
          else if (result.errors?.length) reject(graphqlError(result.errors));
          else resolve(result.data);
        },
      });
    });
  }

  close() {
    this.ws.close(1000, 'Normal Closure');
  }
}

// ---- the page

const $ = (id) => document.getElementById(id);
const els = {
  status: $('status'),
  login: $('login'),
  token: $('token'),
  forget: $('forget'),
  who: $('who'),
  controls: $('controls'),
  state: $('filter-state'),
  connection: $('filter-connection'),
  text: $('filter-text'),
  reconnectAll: $('reconnect-all'),
  notice: $('notice'),
  tbody: document.querySelector('#sessions tbody'),
  empty: $('empty'),
  pager: $('pager'),
  prev: $('prev'),
  next: $('next'),
  pageInfo: $('page-info'),
};

let token = null;
let socket = null;
let retryTimer = 0;
let retries = 0;
/** The shown rows by session id: { id, session, download, tr, cells, bars, buttons, subs, busy }. */
const rows = new Map();
/** The `after` of every page visited, the current one last. */
let cursors = [null];
let page = { count: 0, hasNext: false, nextAfter: null, scanned: null };

function setStatus(kind, text) {
  els.status.className = `status ${kind}`;
  els.status.textContent = text;
}

let noticeTimer = 0;
function notify(message, error = true) {
  clearTimeout(noticeTimer);
  els.notice.textContent = error && message instanceof Error ? message.message : String(message);
  els.notice.className = error ? 'notice error' : 'notice';
  els.notice.hidden = false;
  if (!error) noticeTimer = setTimeout(() => (els.notice.hidden = true), 8000);
}

/** The token's claims, unverified (the gateway verifies it): only to say whose it is. */
function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(part.padEnd(Math.ceil(part.length / 4) * 4, '='));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function showWho(jwt) {
  const claims = claimsOf(jwt);
  const roles = Array.isArray(claims?.roles) ? claims.roles : [];
  if (!claims) {
    els.who.textContent = 'This does not look like a JWT.';
  } else if (!roles.includes('admin')) {
    els.who.textContent = `Token of “${claims.sub}”, not an admin: only its own sessions are listed.`;
  } else {
    const exp = typeof claims.exp === 'number' ? `, expires ${when(claims.exp * 1000)}` : '';
    els.who.textContent = `Admin “${claims.sub}”${exp}`;
  }
  els.who.className = claims && roles.includes('admin') ? 'who' : 'who warn';
}

function connect() {
  disconnect();
  const url = new URL('/graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  setStatus('connecting', 'Connecting…');
  const current = new GraphqlSocket(url.href, token, {
    onReady: () => {
      retries = 0;
      setStatus('connected', 'Live');
      els.controls.hidden = false;
      els.pager.hidden = false;
      void load(true);
    },
    onClosed: (event) => {
      if (socket !== current) return; // replaced or closed on purpose
      socket = null;
      forgetSubscriptions();
      if (event.code === 4403) {
        const why = event.reason || 'Forbidden';
        setStatus('refused', `The gateway refused the token (${why}). Enter a valid admin token.`);
        return;
      }
      const delay = Math.min(30_000, 1000 * 2 ** retries++);
      const why = `${event.code}${event.reason ? ` ${event.reason}` : ''}`;
      setStatus('offline', `Disconnected (${why}); retrying in ${Math.round(delay / 1000)} s`);
      retryTimer = setTimeout(connect, delay);
    },
  });
  socket = current;
}

function disconnect() {
  clearTimeout(retryTimer);
  const current = socket;
  socket = null;
  current?.close();
  forgetSubscriptions();
}

/** The socket is gone: so are its subscriptions (nothing to send). */
function forgetSubscriptions() {
  for (const row of rows.values()) row.subs = {};
}

function request(query, variables) {
  if (!socket?.ready) return Promise.reject(new Error('Not connected to the gateway'));
  return socket.request(query, variables);
}

// ---- loading a page

const filters = () => ({
  state: els.state.value || null,
  connection: els.connection.value || null,
  text: els.text.value.trim().toLowerCase(),
});

async function fetchPage() {
  const { state, connection, text } = filters();
  const after = cursors[cursors.length - 1];
  if (!text) {
    const data = await request(Q.page, { first: PAGE_SIZE, after, state, connection });
    const { edges, pageInfo } = data.sessions;
    const sessions = edges.map((e) => e.node);
    return {
      sessions,
      hasNext: pageInfo.hasNextPage,
      nextAfter: pageInfo.endCursor,
      scanned: null,
    };
  }
  const ids = [];
  let cursor = after;
  let scanned = 0;
  let more = true;
  while (more && ids.length < PAGE_SIZE && scanned < SCAN_LIMIT) {
    const vars = { first: SCAN_BATCH, after: cursor, state, connection };
    const { edges, pageInfo } = (await request(Q.scan, vars)).sessions;
    more = pageInfo.hasNextPage;
    for (let i = 0; i < edges.length; i++) {
      const { node } = edges[i];
      scanned += 1;
      cursor = edges[i].cursor;
      const haystack = `${node.clientId}\n${node.user.id}`.toLowerCase();
      if (haystack.includes(text)) ids.push(node.id);
      if (ids.length === PAGE_SIZE) {
        more ||= i < edges.length - 1;
        break;
      }
    }
  }
  const sessions = [];
  for (let i = 0; i < ids.length; i += BY_ID_BATCH) {
    const chunk = ids.slice(i, i + BY_ID_BATCH);
    const vars = Object.fromEntries(chunk.map((id, j) => [`i${j}`, id]));
    const data = await request(byIdsQuery(chunk.length), vars);
    chunk.forEach((_, j) => data[`s${j}`] && sessions.push(data[`s${j}`]));
  }
  return { sessions, hasNext: more, nextAfter: cursor, scanned };
}

let loading = false;
let again = false;
let stale = false;

/**
 * Loads the current page and shows it; one load at a time. Asked while loading, it loads
 * once more afterwards; `changed` (filters or page) also drops the result in flight.
 */
async function load(changed = false) {
  if (loading) {
    again = true;
    stale ||= changed;
    return;
  }
  loading = true;
  try {
    do {
      again = false;
      stale = false;
      const result = await fetchPage();
      if (!stale) show(result);
    } while (again);
  } catch (error) {
    if (socket?.ready) notify(error);
  } finally {
    loading = false;
  }
}

let requeryTimer = 0;
/** A re-query of the page soon: at most one per REQUERY_MS, however many events come. */
function requery() {
  if (requeryTimer) return;
  requeryTimer = setTimeout(() => {
    requeryTimer = 0;
    void load();
  }, REQUERY_MS);
}

function show(result) {
  page = { ...result, count: result.sessions.length };
  const keep = new Set(result.sessions.map((s) => s.id));
  for (const [id, row] of rows) {
    if (keep.has(id)) continue;
    unwatch(row);
    row.tr.remove();
    rows.delete(id);
  }
  result.sessions.forEach((session, index) => {
    let row = rows.get(session.id);
    if (!row) rows.set(session.id, (row = newRow(session)));
    row.session = session;
    render(row);
    watch(row);
    const at = els.tbody.children[index] ?? null;
    if (at !== row.tr) els.tbody.insertBefore(row.tr, at);
  });
  els.empty.hidden = rows.size > 0;
  renderPager();
}

function renderPager() {
  els.prev.disabled = cursors.length === 1;
  els.next.disabled = !page.hasNext;
  const scanned =
    page.scanned === null ? '' : ` · ${page.scanned} scanned for “${els.text.value.trim()}”`;
  els.pageInfo.textContent = `Page ${cursors.length} · ${page.count} session${page.count === 1 ? '' : 's'}${scanned}`;
}

// ---- rows

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const badge = (text, kind = text.toLowerCase()) => element('span', `badge ${kind}`, text);

function newRow(session) {
  const tr = element('tr');
  tr.dataset.sessionId = session.id;
  const names = ['client', 'user', 'state', 'connection', 'upload', 'download'];
  const cells = {};
  for (const name of [...names, 'backlog', 'seen', 'reset', 'actions']) {
    cells[name] = tr.appendChild(element('td', name));
  }
  const bar = (cell, label) => {
    const progress = element('progress');
    progress.max = 1;
    progress.setAttribute('aria-label', label);
    const pct = element('span', 'pct');
    cell.append(progress, pct);
    return { progress, pct };
  };
  const row = { id: session.id, session, download: null, tr, cells, subs: {}, busy: false };
  row.bars = { upload: bar(cells.upload, 'Upload'), download: bar(cells.download, 'Download') };
  const button = (label, action) => {
    const b = cells.actions.appendChild(element('button', '', label));
    b.type = 'button';
    b.addEventListener('click', () => void act(row, action));
    return b;
  };
  row.buttons = {
    pause: button('Pause', 'pause'),
    resume: button('Resume', 'resume'),
    reconnect: button('Reconnect', 'reconnectOne'),
    close: button('Close', 'close'),
  };
  return row;
}

function formatBytes(n) {
  if (!(n > 0)) return '0 B';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log10(n) / 3));
  return `${(n / 1000 ** i).toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function when(ms) {
  return new Date(ms).toLocaleString();
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 5) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function setBar(bar, value) {
  if (!value) {
    bar.progress.removeAttribute('value'); // indeterminate until the first value
    bar.pct.textContent = '…';
    bar.progress.title = '';
    return;
  }
  bar.progress.value = value.progressEstimate;
  bar.pct.textContent = `${Math.floor(value.progressEstimate * 100)}%`;
  bar.progress.title = `${formatBytes(value.transferredBytes)} of ${formatBytes(value.transferableBytes)}`;
}

function render(row) {
  const s = row.session;
  const { cells } = row;
  row.tr.classList.toggle('closed', s.closed);
  cells.client.textContent = s.clientId;
  cells.client.title = s.id;
  cells.user.textContent = s.user.id;

  if (s.closed) {
    cells.state.replaceChildren(badge('CLOSED'));
    cells.state.title = `closed (state ${s.state})`;
  } else {
    const paused = s.pausedDirections.map((d) => d.toLowerCase()).join(' + ');
    const until = s.pausedUntil ? ` until ${when(Date.parse(s.pausedUntil))}` : '';
    const note = paused ? [element('span', 'note', `paused: ${paused}${until}`)] : [];
    cells.state.replaceChildren(badge(s.state), ...note);
    cells.state.title = '';
  }
  cells.connection.replaceChildren(badge(s.connectionState));

  setBar(row.bars.upload, s.uploadProgress);
  if (s.closed && !row.download) {
    row.bars.download.progress.value = 0;
    row.bars.download.pct.textContent = '—';
  } else setBar(row.bars.download, row.download);

  const up = Math.max(0, s.latestClientVersion - s.lastIntegratedClientVersion);
  const down = row.download
    ? formatBytes(Math.max(0, row.download.transferableBytes - row.download.transferredBytes))
    : '…';
  cells.backlog.replaceChildren(
    element('span', 'note', `↑ ${up} changeset${up === 1 ? '' : 's'}`),
    element('span', 'note', `↓ ${s.closed && !row.download ? '—' : down}`),
  );
  cells.backlog.title =
    'upload: latestClientVersion − lastIntegratedClientVersion; download: bytes in scope not yet acknowledged';

  // A connected client is current (its offline time counts from the disconnect).
  const connected = s.connectionState === 'CONNECTED' && !s.closed;
  const seen = element('time', '', connected ? 'now' : ago(s.lastSyncedAt));
  seen.dateTime = s.lastSyncedAt;
  seen.title = `lastSyncedAt ${s.lastSyncedAt}`;
  cells.seen.replaceChildren(seen);
  cells.reset.replaceChildren(s.resetRequired ? badge('yes') : document.createTextNode('no'));

  const both = s.pausedDirections.length >= 2;
  row.buttons.pause.disabled = row.busy || s.closed || both;
  row.buttons.resume.disabled = row.busy || s.closed || s.pausedDirections.length === 0;
  row.buttons.reconnect.disabled = row.busy || s.closed;
  row.buttons.close.disabled = row.busy || s.closed;
}

function patch(row, session) {
  row.session = { ...row.session, ...session };
  render(row);
  watch(row);
}

function flash(row) {
  row.tr.classList.remove('flash');
  void row.tr.offsetWidth; // restarts the animation
  row.tr.classList.add('flash');
}

/** Starts or stops the row's subscriptions to match its session. */
function watch(row) {
  const s = row.session;
  const open = !s.closed && Boolean(socket?.ready);
  want(row, 'connection', open, Q.connection, (data) => {
    const change = data.connectionStateChanges;
    patch(row, { ...change.session, connectionState: change.current });
    flash(row);
    return true;
  });
  want(row, 'download', open, Q.download, (data) => {
    const first = row.download === null;
    row.download = data.progress;
    render(row);
    return !first; // the first value comes at once: nothing new to re-query for
  });
  want(row, 'events', open && !s.resetRequired, Q.events, (data) => {
    patch(row, data.sessionEvents.session);
    flash(row);
    return true;
  });
}

function want(row, key, wanted, query, onData) {
  if (!wanted) {
    row.subs[key]?.();
    delete row.subs[key];
    return;
  }
  if (row.subs[key]) return;
  const ended = () => {
    if (row.subs[key] === stop) delete row.subs[key];
  };
  const stop = socket.subscribe(
    query,
    { id: row.id },
    {
      next: (payload) => {
        if (payload.errors?.length) notify(graphqlError(payload.errors));
        else if (payload.data && onData(payload.data)) requery();
      },
      error: (error) => {
        ended();
        if (socket?.ready) notify(error);
      },
      complete: ended,
    },
  );
  row.subs[key] = stop;
}

function unwatch(row) {
  for (const stop of Object.values(row.subs)) stop();
  row.subs = {};
}

const LABELS = {
  pause: 'Paused',
  resume: 'Resumed',
  reconnectOne: 'Asked to reconnect:',
  close: 'Closed',
};

async function act(row, action) {
  const s = row.session;
  if (action === 'close') {
    const question = `Close the session of client “${s.clientId}” (user “${s.user.id}”)? Its client will have to open it again.`;
    if (!confirm(question)) return;
  }
  row.busy = true;
  render(row);
  try {
    const data = await request(Q[action], { id: row.id });
    if (action === 'close') patch(row, { closed: true });
    else if (action !== 'reconnectOne') patch(row, data.pauseSession ?? data.resumeSession);
    notify(`${LABELS[action]} “${s.clientId}”.`, false);
  } catch (error) {
    notify(error);
  } finally {
    row.busy = false;
    render(row);
    requery();
  }
}

// ---- controls

els.login.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = els.token.value.trim();
  if (!value) return;
  token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
  showWho(value);
  cursors = [null];
  connect();
});

els.forget.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  els.token.value = '';
  els.who.textContent = '';
  disconnect();
  for (const row of rows.values()) row.tr.remove();
  rows.clear();
  els.controls.hidden = true;
  els.pager.hidden = true;
  els.empty.hidden = true;
  els.notice.hidden = true;
  setStatus('idle', 'Not connected');
});

const refilter = () => {
  cursors = [null];
  void load(true);
};
els.state.addEventListener('change', refilter);
els.connection.addEventListener('change', refilter);
let typing = 0;
els.text.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(refilter, 300);
});

els.prev.addEventListener('click', () => {
  if (cursors.length > 1) cursors.pop();
  void load(true);
});
els.next.addEventListener('click', () => {
  if (!page.hasNext) return;
  cursors.push(page.nextAfter);
  void load(true);
});

els.reconnectAll.addEventListener('click', async () => {
  const question =
    'Ask every open session to reconnect now? Each client hears RECONNECT_REQUESTED on sessionEvents.';
  if (!confirm(question)) return;
  try {
    const data = await request(Q.reconnect);
    const n = data.reconnect.sessions;
    notify(`Asked ${n} session${n === 1 ? '' : 's'} to reconnect.`, false);
  } catch (error) {
    notify(error);
  }
});

setInterval(() => {
  if (socket?.ready && !document.hidden && !loading) void load();
}, REFRESH_MS);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && socket?.ready) void load();
});

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  token = saved;
  els.token.value = saved;
  showWho(saved);
  connect();
}
