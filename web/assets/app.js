// The dashboard: a single page with hash routes.
//   #/spaces                      spaces and their journeys
//   #/spaces/<space>              a space: journeys, members and teams
//   #/journeys/<journey>          the journey board (?task=<id> opens a task, ?at=<position> the past)
//   #/journeys/<journey>/alerts   alerts
//   #/journeys/<journey>/members  journey members and roles
//   #/signin                      sign in
// A link may carry a token: #token=<jwt>&to=/journeys/<id> signs in and goes there.

import {setToken, token, tokenClaims, whenUnauthorized, ApiError} from './api.js';
import {h, replace, clear, eventType} from './dom.js';
import {LiveStream} from './stream.js';
import {renderSignIn} from './signin.js';
import {renderSpaces, renderSpace} from './spaces.js';
import {renderBoard} from './board.js';
import {renderAlerts} from './alerts.js';
import {renderJourneyMembers} from './members.js';

const main = document.getElementById('main');
const panel = document.getElementById('panel');
const announcer = document.getElementById('announcer');
const noticeEl = document.getElementById('notice');
const crumbs = document.getElementById('crumbs');
const who = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');
const connection = document.getElementById('connection');
const connectionText = document.getElementById('connection-text');

let view = null; // {concerns(event), refresh(), dispose()} of the page shown
let stream = null;
let refreshTimer = null;
let lastEventAt = 0;

// ---- what every page may use -------------------------------------------

const ctx = {
  main,
  panel,
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  // Replaces the query of the current route without a new history entry.
  setQuery(params) {
    const [path] = location.hash.slice(1).split('?');
    const q = new URLSearchParams(params);
    for (const [k, v] of [...q]) if (v === '' || v === 'null' || v === 'undefined') q.delete(k);
    const next = `#${path}${[...q].length ? `?${q}` : ''}`;
    history.replaceState(null, '', next);
  },
  query() {
    return new URLSearchParams(location.hash.slice(1).split('?')[1] || '');
  },
  notice,
  announce,
  setCrumbs,
  setTitle(text) {
    document.title = text ? `${text} · migops` : 'migops';
  },
  stream: () => stream,
  lastEventAt: () => lastEventAt,
};

export function notice(what, kind = 'error') {
  if (!what) {
    noticeEl.hidden = true;
    clear(noticeEl);
    return;
  }
  noticeEl.dataset.kind = kind;
  const body = [];
  if (what instanceof ApiError) {
    body.push(h('strong', {}, what.title || 'Refused'), ' ', what.detail);
    if (what.unmet.length) body.push(h('ul', {class: 'unmet'}, what.unmet.map((u) => h('li', {}, u))));
  } else {
    body.push(String(what instanceof Error ? what.message : what));
  }
  replace(noticeEl, h('div', {class: 'notice-body'}, body),
    h('button', {type: 'button', class: 'link', onclick: () => notice(null)}, 'Dismiss'));
  noticeEl.hidden = false;
}

function announce(text) {
  // Each message its own node, so screen readers read each once.
  announcer.appendChild(h('p', {}, text));
  while (announcer.childNodes.length > 5) announcer.removeChild(announcer.firstChild);
}

function setCrumbs(items) {
  replace(crumbs, items.map((item, i) => h('li', {},
    item.href && i < items.length - 1
      ? h('a', {href: item.href}, item.label)
      : h('span', {'aria-current': i === items.length - 1 ? 'page' : null}, item.label))));
}

// ---- sign-in and the live stream ------------------------------------------

function showSession() {
  const t = token();
  const claims = tokenClaims(t);
  who.textContent = t ? `Signed in as ${claims.user || 'unknown'}` : '';
  signOutButton.hidden = !t;
}

export function signIn(t) {
  setToken(t);
  showSession();
  startStream();
}

function signOut(reason) {
  setToken('');
  if (stream) stream.stop();
  stream = null;
  showSession();
  ctx.navigate('#/signin');
  if (reason) notice(reason);
}

signOutButton.addEventListener('click', () => signOut(''));
whenUnauthorized((err) => signOut(`Your token was refused: ${err.detail}. Sign in again.`));

function setConnection(state, detail) {
  connection.dataset.state = state;
  connectionText.textContent = {
    live: 'live', connecting: 'connecting…', offline: 'offline', refused: 'not live',
  }[state] || state;
  connection.title = detail ? `Live updates: ${state} (${detail})` : `Live updates: ${state}`;
  if (state === 'refused') notice(`Live updates stopped: ${detail}`);
}

function startStream() {
  if (stream) stream.stop();
  stream = new LiveStream({
    token: token(),
    onEvent: (event) => {
      lastEventAt = Date.now();
      if (view && view.concerns(event)) {
        if (view.announce) view.announce(event);
        else announce(`Update: ${eventType(event.type)} by ${event.migopsactor || 'the server'}`);
        scheduleRefresh();
      }
    },
    // Caught up after a (re)connect: what happened while away is in now.
    onLive: () => scheduleRefresh(),
    onState: setConnection,
  });
  stream.start();
}

// Events come in bursts (one command, several events): one refresh a burst.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    if (view && view.refresh) view.refresh();
  }, 30);
}

// ---- routes ---------------------------------------------------------------

function takeTokenFromLink() {
  const hash = location.hash.slice(1);
  if (!hash.startsWith('token=')) return;
  const params = new URLSearchParams(hash);
  const t = params.get('token');
  const to = params.get('to') || '/spaces';
  if (t) setToken(t);
  // The token leaves the address bar and the history at once.
  history.replaceState(null, '', `#${to.startsWith('/') ? to : '/spaces'}`);
}

async function route() {
  notice(null);
  if (view && view.dispose) view.dispose();
  view = null;
  const [path] = location.hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (!token() && parts[0] !== 'signin') {
    ctx.navigate(`#/signin?to=${encodeURIComponent(location.hash.slice(1) || '/spaces')}`);
    return;
  }
  main.setAttribute('aria-busy', 'true');
  try {
    if (parts[0] === 'signin') view = await renderSignIn(ctx, signIn);
    else if (parts[0] === 'spaces' && parts[1]) view = await renderSpace(ctx, parts[1]);
    else if (parts[0] === 'journeys' && parts[1] && parts[2] === 'alerts') view = await renderAlerts(ctx, parts[1]);
    else if (parts[0] === 'journeys' && parts[1] && parts[2] === 'members') view = await renderJourneyMembers(ctx, parts[1]);
    else if (parts[0] === 'journeys' && parts[1]) view = await renderBoard(ctx, parts[1]);
    else view = await renderSpaces(ctx);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    replace(main, h('h1', {}, 'Cannot show this page'), h('p', {class: 'error'}, e.message),
      h('p', {}, h('a', {href: '#/spaces'}, 'Back to the spaces')));
  } finally {
    main.removeAttribute('aria-busy');
  }
}

// Moving to another page moves the focus to its content (not for a query change).
// A change of the query alone (a task opened on the board) is the page's.
let lastPath = null;
window.addEventListener('hashchange', () => {
  const [path] = location.hash.slice(1).split('?');
  const moved = path !== lastPath;
  lastPath = path;
  if (!moved && view && view.onQuery) {
    view.onQuery(ctx.query());
    return;
  }
  route().then(() => {
    if (moved) main.focus({preventScroll: false});
  });
});

takeTokenFromLink();
lastPath = location.hash.slice(1).split('?')[0];
showSession();
if (token()) startStream();
route();
