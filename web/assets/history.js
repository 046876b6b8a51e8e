// The history slider of a board: one notch per event of the journey
// (GET /v1/events?journey=), from its creation to its latest position;
// at a notch the board is drawn as it was at that log position
// (GET /v1/journeys/{j}?as_of_position=N), or at a chosen time (?as_of=).

import {get, all, enc} from './api.js';
import {h, replace, dateTime} from './dom.js';
import {describeEvent} from './events.js';

const settleMs = 150;

export function historyBar(ctx, journeyId, {show, live, titles}) {
  let events = []; // the journey's events, oldest first
  let shown = null; // the position shown, or null for live
  let request = 0; // answers to older requests are dropped
  let timer = null;

  const slider = h('input', {
    id: 'history-slider', type: 'range', min: 0, max: 0, step: 1, value: 0,
    'aria-describedby': 'history-label',
  });
  const label = h('p', {id: 'history-label', class: 'history-label', 'aria-live': 'polite'});
  const time = h('input', {id: 'history-time', type: 'datetime-local', step: 'any'});
  const button = h('button', {type: 'button', 'aria-expanded': 'false', 'aria-controls': 'history-bar'}, 'History');
  const backToLive = h('button', {type: 'button', class: 'primary'}, 'Back to live');
  const el = h('section', {id: 'history-bar', class: 'history-bar', hidden: true, 'aria-labelledby': 'history-title'},
    h('h2', {id: 'history-title', class: 'visually-hidden'}, 'History'),
    h('div', {class: 'history-row'},
      h('label', {for: 'history-slider'}, 'Position'), slider, backToLive),
    label,
    h('form', {
      class: 'inline-form',
      onsubmit: (e) => {
        e.preventDefault();
        if (time.value) goToTime(new Date(time.value));
      },
    }, h('label', {for: 'history-time'}, 'Or the board at'), time, h('button', {type: 'submit'}, 'Show')));

  function describe(i) {
    const e = events[i];
    if (!e) return '';
    return `Position ${e.migopsposition} · ${dateTime(e.time)} · ${describeEvent(e, (id) => titles.get(id))} (by ${e.migopsactor || 'the server'})`;
  }

  async function load() {
    events = await all(`/v1/events?journey=${enc(journeyId)}`, 'events');
    slider.max = String(Math.max(events.length - 1, 0));
    slider.min = '0';
  }

  async function fetchBoard(query, what) {
    const mine = ++request;
    label.textContent = `${what} · loading…`;
    try {
      const doc = await get(`/v1/journeys/${enc(journeyId)}?${query}`);
      if (mine !== request) return;
      // The server says which event the past board ends with.
      const upTo = doc.as_of && doc.as_of.position !== undefined
        ? ` It includes the space's events up to position ${doc.as_of.position}${doc.as_of.time ? ` (${dateTime(doc.as_of.time)})` : ''}.`
        : '';
      label.textContent = `Showing the board as it was at ${what}.${upTo}`;
      show(doc);
    } catch (e) {
      if (mine !== request) return;
      label.textContent = `Cannot show the board at ${what}: ${e.message}`;
    }
  }

  function showIndex(i) {
    const e = events[i];
    if (!e) return;
    shown = e.migopsposition;
    slider.value = String(i);
    slider.setAttribute('aria-valuetext', describe(i));
    ctx.setQuery({...Object.fromEntries(ctx.query()), at: shown});
    fetchBoard(`as_of_position=${shown}`, describe(i));
  }

  function goToTime(when) {
    let i = -1;
    for (let k = 0; k < events.length; ++k) if (new Date(events[k].time) <= when) i = k;
    if (i >= 0) {
      slider.value = String(i);
      slider.setAttribute('aria-valuetext', describe(i));
      shown = events[i].migopsposition;
    }
    ctx.setQuery({...Object.fromEntries(ctx.query()), at: shown});
    fetchBoard(`as_of=${encodeURIComponent(when.toISOString())}`, dateTime(when.toISOString()));
  }

  async function open(position) {
    el.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    button.textContent = 'Hide history';
    await load();
    if (!events.length) {
      label.textContent = 'This journey has no history you may see.';
      return;
    }
    let i = events.length - 1;
    if (position !== undefined && !Number.isNaN(position)) {
      const at = events.findIndex((e) => e.migopsposition >= position);
      if (at >= 0) i = events[at].migopsposition === position ? at : Math.max(at - 1, 0);
    }
    showIndex(i);
  }

  function close() {
    el.hidden = true;
    shown = null;
    ++request;
    button.setAttribute('aria-expanded', 'false');
    button.textContent = 'History';
    const q = Object.fromEntries(ctx.query());
    delete q.at;
    ctx.setQuery(q);
    live();
  }

  button.addEventListener('click', () => {
    if (el.hidden) open().catch(ctx.notice);
    else close();
  });
  backToLive.addEventListener('click', () => {
    close();
    button.focus();
  });
  slider.addEventListener('input', () => {
    const i = Number(slider.value);
    slider.setAttribute('aria-valuetext', describe(i));
    label.textContent = describe(i);
    clearTimeout(timer);
    timer = setTimeout(() => showIndex(i), settleMs);
  });

  return {
    el,
    button,
    open: (position) => open(position).catch(ctx.notice),
    // New events of the journey: the slider reaches them (the board shown stays).
    grow: () => {
      if (el.hidden) return;
      load().then(() => {
        if (shown !== null) slider.setAttribute('aria-valuetext', describe(Number(slider.value)));
      }, () => {});
    },
    position: () => shown,
  };
}
