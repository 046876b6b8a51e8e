// Small DOM helpers. Text from the server is only ever set as text
// (textContent), never parsed as HTML.

// h('button', {type: 'button', onclick: f, class: 'x'}, 'text', child, …)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

export const statuses = ['planned', 'in_progress', 'blocked', 'completed', 'out_of_scope'];

export function statusLabel(s) {
  return {
    planned: 'Planned',
    in_progress: 'In progress',
    blocked: 'Blocked',
    completed: 'Completed',
    out_of_scope: 'Out of scope',
    not_started: 'Not started',
    archived: 'Archived',
  }[s] || s;
}

export function roleLabel(r) {
  return String(r || '').replace(/_/g, ' ');
}

const dateFormat = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium'});
const timeFormat = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});

export function date(iso) {
  return iso ? dateFormat.format(new Date(iso)) : '';
}

export function dateTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : '';
}

export function timeEl(iso, withTime = false) {
  return h('time', {datetime: iso}, withTime ? dateTime(iso) : date(iso));
}

export function assigneeText(a) {
  if (!a) return '';
  const parts = [];
  if (a.user) parts.push(a.user);
  if (a.team) parts.push(`team ${a.team}`);
  return parts.join(', ');
}

export function progressBar(p, label) {
  const percent = p ? p.percent : 0;
  return h('div', {class: 'progress'},
    h('progress', {max: 100, value: percent, 'aria-label': label}),
    h('span', {class: 'progress-text'}, `${percent}% · ${p ? p.completed : 0}/${p ? p.total : 0} done`));
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// The type of an event without its CloudEvents decoration:
// "io.migops.task.status_changed.v1" → "task.status_changed".
export function eventType(type) {
  return String(type).replace(/^io\.migops\./, '').replace(/\.v\d+$/, '');
}

// The journey an id belongs to: "<space>.j3.n17" → "<space>.j3".
export function journeyOf(id) {
  const parts = String(id || '').split('.');
  return parts.length >= 2 && /^j\d+$/.test(parts[1]) ? `${parts[0]}.${parts[1]}` : '';
}

// The Board / Alerts / Members links of a journey's pages.
export function journeyTabs(journeyId, current, alertsLink) {
  const id = encodeURIComponent(journeyId);
  const tab = (name, href) => h('a', {href, 'aria-current': current === name ? 'page' : null}, name);
  return h('nav', {class: 'tabs', 'aria-label': 'Journey'},
    tab('Board', `#/journeys/${id}`),
    alertsLink || tab('Alerts', `#/journeys/${id}/alerts`),
    tab('Members', `#/journeys/${id}/members`));
}
