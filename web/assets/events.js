// Events (CloudEvents from /v1/events and /v1/stream) in words.

import {eventType, statusLabel, roleLabel, bytes, date} from './dom.js';

const quote = (s) => `“${String(s || '').slice(0, 120)}”`;

// A short sentence for an event; titles(id) names a node when known.
export function describeEvent(e, titles = () => '') {
  const d = e.data || {};
  const t = eventType(e.type);
  const task = d.task ? (titles(d.task) ? quote(titles(d.task)) : d.task) : '';
  switch (t) {
    case 'task.status_changed':
      return `${task}: ${statusLabel(d.from)} → ${statusLabel(d.to)}${d.reason ? ` (${d.reason})` : ''}`;
    case 'task.assigned': {
      const to = [d.user, d.team ? `team ${d.team}` : ''].filter(Boolean).join(' and ');
      return `${task} assigned to ${to || 'nobody'}`;
    }
    case 'task.due_date_set':
      return `${task} due ${d.due ? date(d.due) : 'never'}`;
    case 'task.effort_set':
      return `${task}: effort set`;
    case 'task.dependency_added':
      return `${task} now depends on ${titles(d.depends_on) ? quote(titles(d.depends_on)) : d.depends_on || 'another task'}`;
    case 'task.dependency_removed':
      return `${task} no longer depends on ${titles(d.depends_on) ? quote(titles(d.depends_on)) : d.depends_on || 'a task'}`;
    case 'task.step_added':
      return `${task}: step added ${quote(d.text)}`;
    case 'task.step_checked':
      return `${task}: step ${d.step} ${d.checked === false ? 'unchecked' : 'checked'}`;
    case 'task.step_edited':
    case 'task.step_removed':
      return `${task}: step ${d.step} ${t.endsWith('edited') ? 'edited' : 'removed'}`;
    case 'task.approved':
      return `${task} approved`;
    case 'artifact.uploaded':
      return `${task}: file ${d.name} uploaded${typeof d.size === 'number' ? ` (${bytes(d.size)})` : ''}`;
    case 'artifact.removed':
      return `${task}: file ${d.name} removed`;
    case 'comment.added':
      return `${task}: comment ${quote(d.text)}`;
    case 'comment.edited':
      return `${task}: comment edited`;
    case 'comment.deleted':
      return `${task}: comment deleted`;
    case 'help.requested':
      return `help requested (${String(d.kind || '').replace(/_/g, ' ')}): ${quote(d.description)}`;
    case 'help.accepted':
    case 'help.resolved':
    case 'help.cancelled':
      return `help request ${t.split('.')[1]}`;
    case 'alert.raised':
    case 'alert.escalated':
    case 'alert.cleared':
      return `${task || 'alert'}: ${String(d.kind || '').replace(/_/g, ' ')} alert ${t.split('.')[1]}`;
    case 'role.granted':
      return `${d.user || (d.team ? `team ${d.team}` : '')} is ${roleLabel(d.role)}`;
    case 'role.revoked':
      return `${d.user || (d.team ? `team ${d.team}` : '')} lost a role`;
    case 'journey.created':
      return `journey ${quote(d.name)} created${d.template_id ? ` from ${d.template_id} ${d.template_version}` : ''}`;
    case 'node.added':
      return `${String(d.kind || 'node')} ${quote(d.content && d.content.title)} added`;
    case 'node.edited':
      return `${titles(d.node) ? quote(titles(d.node)) : d.node} edited`;
    case 'node.scoped':
      return `${titles(d.node) ? quote(titles(d.node)) : d.node} ${d.in_scope === false ? 'out of' : 'in'} scope`;
    default:
      return t.replace(/[._]/g, ' ');
  }
}
