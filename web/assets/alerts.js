// A journey's alerts (GET /v1/journeys/{j}/alerts): what is overdue, due
// soon, blocked (too long) or late because of a dependency, who was told,
// and the notifications that could not be delivered.

import {get, enc} from './api.js';
import {h, replace, statusLabel, assigneeText, timeEl, journeyTabs} from './dom.js';

const kindLabel = (k) => String(k || '').replace(/_/g, ' ');
// The escalation ladder: who an alert has reached.
const toldAt = (level) => ['the assignee', 'and the journey admins', 'and the space admins'][level] || '';

export async function renderAlerts(ctx, journeyId) {
  const journey = await get(`/v1/journeys/${enc(journeyId)}`);
  const spaceId = journey.space;
  const space = await get(`/v1/spaces/${enc(spaceId)}`).catch(() => ({name: spaceId}));
  ctx.setTitle(`Alerts · ${journey.name}`);
  ctx.setCrumbs([{label: 'Spaces', href: '#/spaces'}, {label: space.name, href: `#/spaces/${enc(spaceId)}`},
    {label: journey.name, href: `#/journeys/${enc(journeyId)}`}, {label: 'Alerts'}]);
  const body = h('div', {});
  const taskLink = (a) => h('a', {href: `#/journeys/${enc(journeyId)}?task=${enc(a.task)}`}, a.title);

  async function refresh() {
    const r = await get(`/v1/journeys/${enc(journeyId)}/alerts`);
    const rows = r.alerts.map((a) => h('tr', {dataset: {kind: a.kind}},
      h('th', {scope: 'row'}, taskLink(a)),
      h('td', {}, h('span', {class: `mark mark-${a.kind === 'overdue' ? 'overdue' : a.kind === 'blocked' || a.kind === 'blocked_too_long' ? 'blocked' : 'soon'}`}, kindLabel(a.kind))),
      h('td', {}, statusLabel(a.status)),
      h('td', {}, assigneeText(a.assignee) || 'nobody'),
      h('td', {}, a.due ? timeEl(a.due) : ''),
      h('td', {}, toldAt(a.level)),
      h('td', {}, a.raised_at ? timeEl(a.raised_at, true) : '')));
    const failed = r.failed_notifications.map((n) => h('li', {},
      taskLink(n), `: ${n.message_id} failed${n.reason ? `: ${n.reason}` : ''}`));
    replace(body,
      rows.length ? h('table', {class: 'table'},
        h('caption', {class: 'visually-hidden'}, 'Open alerts'),
        h('thead', {}, h('tr', {}, ['Task', 'Alert', 'Status', 'Assignee', 'Due', 'Told', 'Raised'].map((x) => h('th', {scope: 'col'}, x)))),
        h('tbody', {}, rows)) : h('p', {}, 'No open alert.'),
      failed.length ? [h('h2', {}, 'Notifications that failed'), h('ul', {}, failed)] : null,
      h('h2', {}, 'Rules'),
      h('ul', {},
        h('li', {}, `Due soon: ${r.rules.due_soon_minutes} minutes before the due date`),
        h('li', {}, `Blocked too long: after ${r.rules.blocked_too_long_minutes} minutes`),
        h('li', {}, `Escalated to journey admins after ${r.rules.escalate_to_journey_admins_minutes} minutes, to space admins after ${r.rules.escalate_to_space_admins_minutes}`),
        r.rules.disabled.length ? h('li', {}, `Off: ${r.rules.disabled.map(kindLabel).join(', ')}`) : null));
  }
  await refresh();
  replace(ctx.main,
    h('div', {class: 'board-top'},
      h('h1', {}, `Alerts of ${journey.name}`),
      journeyTabs(journeyId, 'Alerts')),
    body);
  return {concerns: (e) => e.partitionkey === spaceId, refresh: () => refresh().catch(ctx.notice)};
}
