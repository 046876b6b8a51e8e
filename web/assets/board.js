// The journey board: phases → modules → tasks, in Kanban columns by
// status, with waiting / blocked / overdue marks and assignees. It follows
// the live stream; with the history slider it shows the board as it was.

import {get, enc, tokenClaims} from './api.js';
import {h, replace, statuses, statusLabel, assigneeText, progressBar, date, journeyOf, journeyTabs} from './dom.js';
import {describeEvent} from './events.js';
import {openTask, closeTask, refreshTask, currentTask} from './task.js';
import {historyBar} from './history.js';

const doneStatuses = new Set(['completed', 'out_of_scope']);

// Every task and subtask of a board, depth first.
export function eachTask(journey, f) {
  const visit = (t, module, phase) => {
    f(t, module, phase);
    for (const s of t.subtasks || []) visit(s, module, phase);
  };
  for (const p of journey.phases) for (const m of p.modules) for (const t of m.tasks) visit(t, m, p);
}

export function isOverdue(t, now = Date.now()) {
  if ((t.alerts || []).some((a) => a.kind === 'overdue')) return true;
  return Boolean(t.due) && !doneStatuses.has(t.status) && new Date(t.due).getTime() < now;
}

// The marks of a task, as words (colour only repeats them).
export function marks(t, helpOpen = 0) {
  const out = [];
  if (t.waiting) out.push(h('span', {class: 'mark mark-waiting'}, 'Waiting'));
  if (t.status === 'blocked') out.push(h('span', {class: 'mark mark-blocked'}, 'Blocked'));
  if (isOverdue(t)) out.push(h('span', {class: 'mark mark-overdue'}, 'Overdue'));
  else if ((t.alerts || []).some((a) => a.kind === 'due_soon')) out.push(h('span', {class: 'mark mark-soon'}, 'Due soon'));
  if ((t.alerts || []).some((a) => a.kind === 'dependency_late')) out.push(h('span', {class: 'mark mark-late'}, 'Dependency late'));
  if (helpOpen) out.push(h('span', {class: 'mark mark-help'}, 'Help requested'));
  return out;
}

function card(t, {link, helpOpen, journeyId}) {
  const criteria = t.acceptance_criteria || [];
  const met = criteria.filter((c) => c.met).length;
  const who = assigneeText(t.assignee);
  const body = [
    h('span', {class: 'task-title'}, t.title),
    h('span', {class: 'task-meta'},
      h('span', {class: 'assignee'}, who ? `Assigned to ${who}` : 'Unassigned'),
      t.due ? h('span', {}, ` · due ${date(t.due)}`) : null),
    t.status === 'blocked' && t.blocked_reason ? h('span', {class: 'task-reason'}, t.blocked_reason) : null,
    h('span', {class: 'task-marks'}, marks(t, helpOpen)),
    h('span', {class: 'task-counts'},
      criteria.length ? `${met}/${criteria.length} criteria met` : '',
      t.subtasks && t.subtasks.length ? ` · ${t.subtasks.length} subtasks` : ''),
  ];
  const attrs = {class: 'task-card', dataset: {task: t.id, status: t.status}};
  const el = link
    ? h('a', {...attrs, href: `#/journeys/${enc(journeyId)}?task=${enc(t.id)}`}, body)
    : h('div', attrs, body);
  return h('li', {}, el);
}

function lane(module, phase, options) {
  const byStatus = Object.fromEntries(statuses.map((s) => [s, []]));
  for (const t of module.tasks) (byStatus[t.status] || byStatus.planned).push(t);
  const shown = (t) => options.filter(t);
  return h('div', {class: `lane${module.in_scope === false ? ' out' : ''}`, role: 'group', 'aria-labelledby': `m-${module.id}`},
    h('div', {class: 'lane-head'},
      h('h3', {id: `m-${module.id}`}, module.title),
      module.in_scope === false ? h('span', {class: 'muted'}, 'Out of scope') : progressBar(module.progress, `Progress of ${module.title}`)),
    statuses.map((s) => {
      const tasks = byStatus[s].filter(shown);
      return h('div', {class: 'cell', dataset: {status: s}},
        h('h4', {class: 'cell-head'}, statusLabel(s), h('span', {class: 'count'}, ` (${tasks.length})`)),
        tasks.length ? h('ul', {class: 'cards', 'aria-label': `${statusLabel(s)} in ${module.title}`},
          tasks.map((t) => card(t, {...options, helpOpen: options.help[t.id] || 0}))) : null);
    }));
}

// The board's body for a journey document (live or as of a past position).
export function boardBody(journey, options) {
  if (!journey.phases.length) return h('p', {class: 'muted'}, 'This journey has no phase yet.');
  return h('div', {class: 'board'},
    journey.phases.map((p) => h('section', {class: `phase${p.in_scope === false ? ' out' : ''}`, 'aria-labelledby': `p-${p.id}`},
      h('div', {class: 'phase-head'},
        h('h2', {id: `p-${p.id}`}, p.title),
        p.in_scope === false ? h('span', {class: 'muted'}, 'Out of scope') : progressBar(p.progress, `Progress of ${p.title}`)),
      p.modules.length ? p.modules.map((m) => lane(m, p, options)) : h('p', {class: 'muted'}, 'No module yet.'))));
}

export async function renderBoard(ctx, journeyId) {
  let journey = await get(`/v1/journeys/${enc(journeyId)}`);
  const spaceId = journey.space;
  const space = await get(`/v1/spaces/${enc(spaceId)}`).catch(() => ({name: spaceId}));
  const me = tokenClaims().user;
  const titles = new Map();
  const heading = h('h1', {});
  const status = h('span', {class: 'badge'});
  const summary = h('div', {class: 'summary'});
  const alertsLink = h('a', {href: `#/journeys/${enc(journeyId)}/alerts`}, 'Alerts');
  const body = h('div', {class: 'board-wrap'});
  const filterText = h('input', {id: 'filter-text', type: 'search', placeholder: 'Title contains…', autocomplete: 'off'});
  const onlyMine = h('input', {id: 'filter-mine', type: 'checkbox'});
  let past = null; // the journey as of a past position, while the slider shows one
  let versions = new Map(); // task → version at the last drawing

  const history = historyBar(ctx, journeyId, {
    titles,
    show: (doc) => {
      past = doc;
      draw();
    },
    live: () => {
      past = null;
      draw();
    },
  });

  function options(link) {
    const text = filterText.value.trim().toLowerCase();
    const mine = onlyMine.checked;
    const help = {};
    for (const r of journey.help_requests || [])
      if (r.state === 'open' || r.state === 'accepted') help[r.target] = (help[r.target] || 0) + 1;
    return {
      link,
      journeyId,
      help,
      filter: (t) => (!text || t.title.toLowerCase().includes(text)) && (!mine || (t.assignee && t.assignee.user === me)),
    };
  }

  function draw() {
    const doc = past || journey;
    heading.textContent = doc.name;
    status.textContent = statusLabel(doc.status);
    status.dataset.status = doc.status;
    const counts = doc.progress.by_status || {};
    let overdue = 0;
    let waiting = 0;
    eachTask(doc, (t) => {
      if (isOverdue(t)) overdue += 1;
      if (t.waiting) waiting += 1;
    });
    replace(summary,
      progressBar(doc.progress, `Progress of ${doc.name}`),
      h('ul', {class: 'counts', 'aria-label': 'Tasks by status'},
        statuses.map((s) => h('li', {dataset: {status: s}}, `${statusLabel(s)}: ${counts[s] || 0}`)),
        h('li', {}, `Waiting: ${waiting}`), h('li', {}, `Overdue: ${overdue}`)),
      doc.target_date ? h('p', {class: 'muted'}, `Target date ${date(doc.target_date)}`) : null);
    const open = (journey.help_requests || []).filter((r) => r.state === 'open').length;
    alertsLink.textContent = 'Alerts';
    let alertCount = 0;
    eachTask(journey, (t) => { alertCount += (t.alerts || []).length; });
    if (alertCount) alertsLink.appendChild(h('span', {class: 'count-pill'}, String(alertCount)));
    if (open) alertsLink.title = `${open} open help requests`;
    // A redraw keeps the keyboard focus on its card, and marks the cards
    // that changed since the last one.
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.task : null;
    replace(body, boardBody(doc, options(!past)));
    const seen = new Map();
    eachTask(doc, (t) => seen.set(t.id, t.version));
    for (const el of body.querySelectorAll('.task-card')) {
      const before = versions.get(el.dataset.task);
      if (before !== undefined && before !== seen.get(el.dataset.task)) el.classList.add('flash');
    }
    versions = seen;
    if (focused) {
      const again = body.querySelector(`.task-card[data-task="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function remember() {
    titles.clear();
    eachTask(journey, (t) => titles.set(t.id, t.title));
  }

  async function refresh() {
    journey = await get(`/v1/journeys/${enc(journeyId)}`);
    remember();
    if (!past) draw();
    history.grow();
    if (currentTask()) refreshTask();
  }

  function onQuery(q) {
    const task = q.get('task');
    if (task) openTask(ctx, task, {journeyId, titles, onClose: () => ctx.setQuery({at: q.get('at')})});
    else closeTask();
  }

  remember();
  ctx.setTitle(journey.name);
  ctx.setCrumbs([{label: 'Spaces', href: '#/spaces'}, {label: space.name, href: `#/spaces/${enc(spaceId)}`}, {label: journey.name}]);
  filterText.addEventListener('input', draw);
  onlyMine.addEventListener('change', draw);
  replace(ctx.main,
    h('div', {class: 'board-top'},
      h('div', {}, heading, ' ', status),
      journeyTabs(journeyId, 'Board', alertsLink)),
    summary,
    h('div', {class: 'toolbar'},
      h('div', {class: 'filters', role: 'search'},
        h('label', {for: 'filter-text'}, 'Filter'), filterText,
        h('label', {class: 'check'}, onlyMine, ' Only my tasks')),
      history.button),
    history.el,
    body);
  draw();
  const q = ctx.query();
  if (q.get('at')) await history.open(Number(q.get('at')));
  onQuery(q);

  return {
    concerns: (e) => e.partitionkey === spaceId && (e.subject === journeyId || journeyOf(e.subject) === journeyId ||
      JSON.stringify(e.data || {}).includes(`"${journeyId}`)),
    announce: (e) => ctx.announce(`${describeEvent(e, (id) => titles.get(id))} (by ${e.migopsactor || 'the server'})`),
    refresh: () => refresh().catch(ctx.notice),
    onQuery,
    dispose: () => closeTask(),
  };
}
