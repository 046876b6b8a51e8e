// The task panel: run book, tools, guidance links, acceptance criteria with
// what is still missing, steps, subtasks, dependencies, files (upload and
// download), comments, help requests, and the task's history. Changes go
// through the API with If-Match (the version shown) and an
// Idempotency-Key; a refusal is shown as the server words it.

import {call, get, all, enc, tokenClaims, ApiError} from './api.js';
import {h, replace, clear, statusLabel, assigneeText, timeEl, bytes, eventType} from './dom.js';
import {describeEvent} from './events.js';
import {marks} from './board.js';

// task_transitions() of the engine: where each status may go.
const transitions = {
  planned: ['in_progress', 'blocked', 'completed', 'out_of_scope'],
  in_progress: ['planned', 'blocked', 'completed', 'out_of_scope'],
  blocked: ['planned', 'in_progress', 'out_of_scope'],
  completed: ['in_progress'],
  out_of_scope: ['planned'],
};
const actionLabel = {
  planned: 'Back to planned',
  in_progress: 'Start',
  blocked: 'Block…',
  completed: 'Complete',
  out_of_scope: 'Out of scope',
};

let open = null; // {ctx, id, task, opts, parts, acknowledged}

export function currentTask() {
  return open ? open.id : null;
}

export function closeTask() {
  if (!open) return;
  const {ctx, id} = open;
  open = null;
  ctx.panel.hidden = true;
  clear(ctx.panel);
  document.body.classList.remove('with-panel');
  const back = document.querySelector(`.task-card[data-task="${CSS.escape(id)}"]`);
  if (back) back.focus();
}

export async function refreshTask() {
  if (!open) return;
  const mine = open;
  try {
    const [task, history] = await Promise.all([
      get(`/v1/tasks/${enc(mine.id)}`),
      all(`/v1/events?task=${enc(mine.id)}`, 'events'),
    ]);
    if (open !== mine) return;
    mine.task = task;
    fill(mine, task, history);
  } catch (e) {
    if (open === mine) showError(mine, e);
  }
}

export async function openTask(ctx, id, opts) {
  if (open && open.id === id) return;
  if (open) closeTask();
  open = {ctx, id, opts, acknowledged: new Set(), parts: null, task: null};
  const mine = open;
  mine.parts = skeleton(mine);
  ctx.panel.hidden = false;
  document.body.classList.add('with-panel');
  await refreshTask();
  if (open === mine) mine.parts.title.focus();
}

function showError(state, e) {
  const {error} = state.parts;
  if (!e) {
    error.hidden = true;
    clear(error);
    return;
  }
  const lines = [h('strong', {}, e instanceof ApiError ? e.title || 'Refused' : 'Failed'), ' ', e.message];
  if (e instanceof ApiError && e.unmet.length)
    lines.push(h('p', {}, 'Still missing:'), h('ul', {class: 'unmet'}, e.unmet.map((u) => h('li', {}, u))));
  replace(error, lines);
  error.hidden = false;
}

// Runs one change; on success the panel shows the task as the server answered.
async function act(state, what, method, path, options = {}) {
  showError(state, null);
  state.parts.busy.textContent = `${what}…`;
  try {
    await call(method, path, options);
    state.ctx.announce(`${what}: done`);
    state.parts.busy.textContent = '';
    await refreshTask();
    return true;
  } catch (e) {
    state.parts.busy.textContent = '';
    if (e instanceof ApiError && e.status === 412) {
      e.message = `${e.detail}. The task changed since it was shown; it is shown again now: check and try again.`;
      await refreshTask();
    }
    showError(state, e);
    state.ctx.announce(`${what} refused: ${e.message}`);
    return false;
  }
}

function section(title, ...children) {
  const id = `ts-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h('section', {class: 'panel-section', 'aria-labelledby': id}, h('h3', {id}, title), ...children);
}

// The panel's frame and forms, made once per task so that what a user
// types survives live updates; fill() draws the task into it.
function skeleton(state) {
  const {ctx, id} = state;
  const p = {};
  const path = `/v1/tasks/${enc(id)}`;
  const version = () => (state.task ? state.task.version : undefined);

  p.title = h('h2', {id: 'panel-title', tabindex: '-1'}, 'Task');
  p.status = h('div', {class: 'panel-status'});
  p.error = h('div', {class: 'panel-error', role: 'alert', hidden: true});
  p.busy = h('p', {class: 'busy', 'aria-live': 'polite'});
  p.actions = h('div', {class: 'actions'});
  const reason = h('input', {id: 'block-reason', name: 'reason', required: true, maxlength: 2000});
  p.blockForm = h('form', {
    class: 'inline-form', hidden: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (await act(state, 'Block', 'POST', `${path}/status`,
        {body: {status: 'blocked', reason: reason.value.trim()}, ifMatch: version()})) {
        reason.value = '';
        p.blockForm.hidden = true;
      }
    },
  }, h('label', {for: 'block-reason'}, 'Why is it blocked?'), reason, h('button', {type: 'submit'}, 'Block'),
  h('button', {type: 'button', class: 'link', onclick: () => { p.blockForm.hidden = true; }}, 'Cancel'));

  const assignUser = h('input', {id: 'assign-user', name: 'user', maxlength: 200, autocomplete: 'off'});
  const assignTeam = h('input', {id: 'assign-team', name: 'team', maxlength: 200, autocomplete: 'off'});
  p.assignee = h('p', {});
  const assign = (body, what) => act(state, what, 'PUT', `${path}/assignee`, {body, ifMatch: version()});
  p.assignForm = h('form', {
    class: 'inline-form',
    onsubmit: (e) => {
      e.preventDefault();
      const body = {};
      if (assignUser.value.trim()) body.user = assignUser.value.trim();
      if (assignTeam.value.trim()) body.team = assignTeam.value.trim();
      assign(body, 'Assign').then((ok) => {
        if (ok) { assignUser.value = ''; assignTeam.value = ''; }
      });
    },
  }, h('label', {for: 'assign-user'}, 'User'), assignUser, h('label', {for: 'assign-team'}, 'Team'), assignTeam,
  h('button', {type: 'submit'}, 'Assign'),
  h('button', {type: 'button', onclick: () => assign({user: tokenClaims().user}, 'Assign to me')}, 'Assign to me'),
  h('button', {type: 'button', class: 'link', onclick: () => assign({}, 'Unassign')}, 'Unassign'));

  p.runbook = h('div', {class: 'runbook'});
  p.tools = h('div', {});
  p.links = h('div', {});
  p.criteria = h('div', {});
  p.steps = h('div', {});
  p.subtasks = h('div', {});
  p.dependencies = h('div', {});
  p.files = h('div', {});
  const fileInput = h('input', {id: 'upload-file', type: 'file', name: 'file', required: true});
  p.uploadForm = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const file = fileInput.files[0];
      if (!file) return;
      // The server tells the type from the name and the content.
      if (await act(state, `Upload ${file.name}`, 'PUT', `${path}/artifacts/${enc(file.name)}`,
        {raw: file, contentType: 'application/octet-stream', ifMatch: version()})) fileInput.value = '';
    },
  }, h('label', {for: 'upload-file'}, 'Add a file'), fileInput, h('button', {type: 'submit'}, 'Upload'));

  p.comments = h('div', {});
  const commentText = h('textarea', {id: 'comment-text', name: 'text', rows: 3, required: true, maxlength: 65536});
  p.commentForm = h('form', {
    class: 'stack-form',
    onsubmit: async (e) => {
      e.preventDefault();
      if (await act(state, 'Comment', 'POST', `${path}/comments`, {body: {text: commentText.value.trim()}}))
        commentText.value = '';
    },
  }, h('label', {for: 'comment-text'}, 'Add a comment'), commentText, h('button', {type: 'submit'}, 'Comment'));

  p.help = h('div', {});
  const helpKind = h('select', {id: 'help-kind', name: 'kind'},
    h('option', {value: 'task_assistance'}, 'Task assistance'),
    h('option', {value: 'advice'}, 'Advice'),
    h('option', {value: 'full_service'}, 'Full service'));
  const helpText = h('input', {id: 'help-text', name: 'description', required: true, maxlength: 2000});
  p.helpForm = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault();
      if (await act(state, 'Ask for help', 'POST', `${path}/help-requests`,
        {body: {kind: helpKind.value, description: helpText.value.trim()}})) helpText.value = '';
    },
  }, h('label', {for: 'help-kind'}, 'Kind'), helpKind, h('label', {for: 'help-text'}, 'What do you need?'), helpText,
  h('button', {type: 'submit'}, 'Ask for help'));

  p.history = h('div', {});

  replace(ctx.panel,
    h('div', {class: 'panel-head'}, p.title,
      h('button', {type: 'button', class: 'close', onclick: () => { state.opts.onClose(); closeTask(); },
        'aria-label': 'Close the task'}, '×')),
    p.status, p.error, p.busy,
    section('Status', p.actions, p.blockForm),
    section('Assignment', p.assignee, p.assignForm),
    section('Run book', p.runbook, p.tools, p.links),
    section('Acceptance criteria', p.criteria),
    section('Steps', p.steps),
    section('Subtasks and dependencies', p.subtasks, p.dependencies),
    section('Files', p.files, p.uploadForm),
    section('Comments', p.comments, p.commentForm),
    section('Help requests', p.help, p.helpForm),
    section('History', p.history));
  ctx.panel.onkeydown = (e) => {
    if (e.key === 'Escape' && open === state) { state.opts.onClose(); closeTask(); }
  };
  return p;
}

function criterionText(c) {
  const parts = [c.description];
  if (c.type === 'artifact') {
    const what = [c.pattern ? `a file named like ${c.pattern}` : 'a file'];
    if (c.media_types && c.media_types.length) what.push(`of type ${c.media_types.join(' or ')}`);
    parts.push(`(${what.join(' ')})`);
  }
  return parts.join(' ');
}

function missingText(c) {
  switch (c.type) {
    case 'artifact': return 'missing: upload the file';
    case 'steps': return 'missing: check every step';
    case 'subtasks': return 'missing: finish every subtask';
    case 'approval': return 'missing: sign-off by a journey admin other than the completer';
    case 'text': return 'to acknowledge when completing';
    default: return 'missing';
  }
}

function fill(state, t, history) {
  const p = state.parts;
  const path = `/v1/tasks/${enc(t.id)}`;
  const titles = state.opts.titles;
  p.title.textContent = t.title;
  replace(p.status,
    h('span', {class: 'badge', dataset: {status: t.status}}, statusLabel(t.status)),
    ' ', marks(t),
    t.status === 'blocked' && t.blocked_reason ? h('p', {class: 'task-reason'}, `Blocked: ${t.blocked_reason}`) : null,
    t.due ? h('p', {}, 'Due ', timeEl(t.due)) : null,
    t.waiting ? h('p', {}, 'Waiting for its dependencies to be completed.') : null,
    h('p', {class: 'muted'}, `${t.kind === 'subtask' ? 'Subtask' : 'Task'} · version ${t.version}`));

  replace(p.actions, (transitions[t.status] || []).map((to) => h('button', {
    type: 'button',
    class: to === 'completed' ? 'primary' : '',
    dataset: {to},
    onclick: () => {
      if (to === 'blocked') {
        p.blockForm.hidden = false;
        p.blockForm.querySelector('input').focus();
        return;
      }
      const body = {status: to};
      if (to === 'completed') body.acknowledged = [...state.acknowledged];
      act(state, actionLabel[to].replace('…', ''), 'POST', `${path}/status`, {body, ifMatch: t.version});
    },
  }, actionLabel[to])));

  p.assignee.textContent = assigneeText(t.assignee) ? `Assigned to ${assigneeText(t.assignee)}.` : 'Nobody is assigned.';

  replace(p.runbook, t.description
    ? t.description.split(/\n{2,}/).map((para) => h('p', {}, para))
    : h('p', {class: 'muted'}, 'No run book.'));
  replace(p.tools, t.tools && t.tools.length
    ? [h('h4', {}, 'Tools'), h('ul', {}, t.tools.map((x) => h('li', {}, x)))] : null);
  replace(p.links, t.links && t.links.length
    ? [h('h4', {}, 'Guidance'), h('ul', {}, t.links.map((l) => h('li', {},
      /^https?:\/\//.test(l.url)
        ? h('a', {href: l.url, target: '_blank', rel: 'noopener noreferrer'}, l.title || l.url)
        : `${l.title} (${l.url})`)))] : null);

  const criteria = t.acceptance_criteria || [];
  replace(p.criteria, criteria.length ? h('ul', {class: 'criteria'}, criteria.map((c) => {
    const ack = c.type === 'text' && !c.met && t.status !== 'completed'
      ? h('label', {class: 'check'}, h('input', {
        type: 'checkbox', checked: state.acknowledged.has(c.id), dataset: {criterion: c.id},
        onchange: (e) => (e.target.checked ? state.acknowledged.add(c.id) : state.acknowledged.delete(c.id)),
      }), ' I acknowledge this') : null;
    const approve = c.type === 'approval' && !c.met
      ? h('button', {type: 'button', onclick: () => act(state, 'Approve', 'POST', `${path}/approvals`, {})}, 'Approve') : null;
    return h('li', {class: c.met ? 'met' : 'unmet', dataset: {criterion: c.id}},
      h('span', {class: 'criterion-state'}, c.met ? 'Met' : 'Not met'), ' ',
      criterionText(c),
      c.met ? null : h('span', {class: 'missing'}, ` — ${missingText(c)}`), ' ', ack, approve);
  })) : h('p', {class: 'muted'}, 'No acceptance criteria.'));

  replace(p.steps, t.steps && t.steps.length ? h('ul', {class: 'steps'}, t.steps.map((s) => h('li', {},
    h('label', {class: 'check'}, h('input', {
      type: 'checkbox', checked: s.checked,
      onchange: (e) => act(state, e.target.checked ? 'Check step' : 'Uncheck step', 'PATCH',
        `${path}/steps/${enc(s.id)}`, {body: {checked: e.target.checked}}),
    }), ' ', s.text)))) : h('p', {class: 'muted'}, 'No steps.'));

  const journey = enc(state.opts.journeyId);
  replace(p.subtasks, t.subtasks && t.subtasks.length
    ? [h('h4', {}, 'Subtasks'), h('ul', {}, t.subtasks.map((s) => h('li', {},
      h('a', {href: `#/journeys/${journey}?task=${enc(s.id)}`}, s.title), ` — ${statusLabel(s.status)}`)))]
    : null);
  replace(p.dependencies, t.dependencies && t.dependencies.length
    ? [h('h4', {}, 'Depends on'), h('ul', {}, t.dependencies.map((d) => {
      const id = typeof d === 'string' ? d : d.task || d.id;
      return h('li', {}, h('a', {href: `#/journeys/${journey}?task=${enc(id)}`}, titles.get(id) || id));
    }))] : null);
  if (!p.subtasks.firstChild && !p.dependencies.firstChild) p.subtasks.appendChild(h('p', {class: 'muted'}, 'None.'));

  replace(p.files, t.artifacts && t.artifacts.length ? h('table', {class: 'table'},
    h('thead', {}, h('tr', {}, ['File', 'Type', 'Size', 'By'].map((x) => h('th', {scope: 'col'}, x)),
      h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Actions')))),
    h('tbody', {}, t.artifacts.map((a) => h('tr', {},
      h('th', {scope: 'row'}, a.name), h('td', {}, a.media_type), h('td', {}, bytes(a.size)),
      h('td', {}, a.uploaded_by || ''),
      h('td', {}, h('button', {type: 'button', class: 'link', 'aria-label': `Download ${a.name}`,
        onclick: () => download(state, t.id, a.name)}, 'Download')))))) : h('p', {class: 'muted'}, 'No file yet.'));

  const me = tokenClaims().user;
  replace(p.comments, t.comments && t.comments.length ? h('ul', {class: 'comments'}, t.comments.map((c) => h('li', {},
    h('p', {class: 'comment-head'}, h('strong', {}, c.author), ' · ', timeEl(c.at, true), c.edited ? ' · edited' : '',
      c.author === me ? ' · ' : null,
      c.author === me ? h('button', {type: 'button', class: 'link', 'aria-label': 'Delete this comment',
        onclick: () => act(state, 'Delete comment', 'DELETE', `${path}/comments/${enc(c.id)}`)}, 'Delete') : null),
    h('p', {class: 'comment-text'}, c.text)))) : h('p', {class: 'muted'}, 'No comment yet.'));

  replace(p.help, t.help_requests && t.help_requests.length ? h('ul', {class: 'help'}, t.help_requests.map((r) => {
    const base = `/v1/help-requests/${enc(r.id)}`;
    const buttons = [];
    if (r.state === 'open') buttons.push(h('button', {type: 'button', onclick: () => act(state, 'Accept help request', 'POST', `${base}/accept`, {})}, 'Accept'));
    if (r.state === 'open' || r.state === 'accepted') {
      buttons.push(h('button', {type: 'button', onclick: () => act(state, 'Resolve help request', 'POST', `${base}/resolve`, {})}, 'Resolve'));
      buttons.push(h('button', {type: 'button', class: 'link', onclick: () => act(state, 'Cancel help request', 'POST', `${base}/cancel`, {})}, 'Cancel'));
    }
    return h('li', {}, h('strong', {}, String(r.kind).replace(/_/g, ' ')), ` (${r.state}) by ${r.requested_by}`,
      r.accepted_by ? `, accepted by ${r.accepted_by}` : '', ': ', r.description, ' ', buttons);
  })) : h('p', {class: 'muted'}, 'No help request.'));

  replace(p.history, history.length ? h('ol', {class: 'history', reversed: true}, history.slice().reverse().map((e) => h('li', {},
    timeEl(e.time, true), ' · ', h('strong', {}, e.migopsactor || 'server'), ' · ',
    h('span', {title: eventType(e.type)}, describeEvent(e, (x) => titles.get(x))),
    h('span', {class: 'muted'}, ` · position ${e.migopsposition}`)))) : h('p', {class: 'muted'}, 'No history.'));
}

async function download(state, task, name) {
  try {
    const {blob} = await call('GET', `/v1/tasks/${enc(task)}/artifacts/${enc(name)}`, {blob: true});
    const url = URL.createObjectURL(blob);
    const a = h('a', {href: url, download: name, hidden: true});
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    showError(state, e);
  }
}
