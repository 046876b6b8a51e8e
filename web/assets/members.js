// Members and roles of a space or a journey: the list, grants and revokes.
// Refusals (a contributor may not change membership) are shown as the
// server words them.

import {call, get, enc} from './api.js';
import {h, replace, roleLabel, journeyTabs} from './dom.js';

let formCount = 0;

// A list of members and teams with their roles, and a form to grant one.
// update(members, teams) re-draws the list only, so a form being filled
// in survives live updates.
export function membersPanel(ctx, {title, roles, grantPath, teamPath, onChange, note}) {
  const n = ++formCount;
  const list = h('div', {class: 'members'});
  const user = h('input', {id: `grant-user-${n}`, name: 'user', required: true, maxlength: 200, autocomplete: 'off'});
  const role = h('select', {id: `grant-role-${n}`, name: 'role'},
    roles.map((r) => h('option', {value: r}, roleLabel(r))));

  async function act(method, path, body) {
    try {
      await call(method, path, body ? {body} : {});
      ctx.announce(method === 'DELETE' ? 'Role revoked' : 'Role granted');
      await onChange();
    } catch (e) {
      ctx.notice(e);
    }
  }

  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault();
      await act('PUT', grantPath(user.value.trim()), {role: role.value});
      user.value = '';
    },
  },
  h('label', {for: `grant-user-${n}`}, 'User'), user,
  h('label', {for: `grant-role-${n}`}, 'Role'), role,
  h('button', {type: 'submit'}, 'Grant'));

  const el = h('section', {class: 'card', 'aria-labelledby': `members-title-${n}`},
    h('h2', {id: `members-title-${n}`}, title), note ? h('p', {class: 'muted'}, note) : null, list, form);

  function update(members, teams = []) {
    const rows = [];
    for (const m of members) {
      const name = m.user || (m.team ? `team ${m.team}` : '?');
      const path = m.user ? grantPath(m.user) : teamPath && m.team ? teamPath(m.team) : null;
      rows.push(h('tr', {},
        h('th', {scope: 'row'}, name),
        h('td', {}, roleLabel(m.role)),
        h('td', {}, m.inherited ? h('span', {class: 'muted'}, m.inherited)
          : path ? h('button', {type: 'button', class: 'link', onclick: () => act('DELETE', path),
            'aria-label': `Revoke ${roleLabel(m.role)} of ${name}`}, 'Revoke') : null)));
    }
    for (const t of teams) {
      if (!t.role) continue;
      rows.push(h('tr', {},
        h('th', {scope: 'row'}, `team ${t.name || t.id}`),
        h('td', {}, roleLabel(t.role)),
        h('td', {}, teamPath ? h('button', {type: 'button', class: 'link', onclick: () => act('DELETE', teamPath(t.id)),
          'aria-label': `Revoke ${roleLabel(t.role)} of team ${t.name || t.id}`}, 'Revoke') : null)));
    }
    replace(list, rows.length
      ? h('table', {class: 'table'},
        h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Who'), h('th', {scope: 'col'}, 'Role'), h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Actions')))),
        h('tbody', {}, rows))
      : h('p', {class: 'muted'}, 'Nobody yet.'));
    const withTeams = teams.filter((t) => t.members && t.members.length);
    if (withTeams.length) {
      list.appendChild(h('h3', {}, 'Teams'));
      list.appendChild(h('ul', {}, withTeams.map((t) => h('li', {}, `${t.name || t.id}: ${t.members.join(', ')}`))));
    }
  }
  return {el, update};
}

export async function renderJourneyMembers(ctx, journeyId) {
  let journey = await get(`/v1/journeys/${enc(journeyId)}`);
  const spaceId = journey.space;
  const panel = membersPanel(ctx, {
    title: 'Journey members and roles',
    roles: ['journey_admin', 'journey_contributor', 'team_contributor'],
    grantPath: (user) => `/v1/journeys/${enc(journeyId)}/members/${enc(user)}`,
    teamPath: (team) => `/v1/journeys/${enc(journeyId)}/teams/${enc(team)}`,
    note: 'Space admins act as journey admins, and space contributors contribute, in every journey of the space.',
    onChange: refresh,
  });
  const heading = h('h1', {});
  async function refresh() {
    journey = await get(`/v1/journeys/${enc(journeyId)}`);
    const space = await get(`/v1/spaces/${enc(spaceId)}`);
    ctx.setTitle(`Members · ${journey.name}`);
    ctx.setCrumbs([{label: 'Spaces', href: '#/spaces'}, {label: space.name, href: `#/spaces/${enc(spaceId)}`},
      {label: journey.name, href: `#/journeys/${enc(journeyId)}`}, {label: 'Members'}]);
    heading.textContent = `Members of ${journey.name}`;
    const inherited = space.members.map((m) => ({...m, inherited: 'from the space'}));
    panel.update([...journey.members, ...inherited]);
  }
  await refresh();
  replace(ctx.main, h('div', {class: 'board-top'}, heading, journeyTabs(journeyId, 'Members')), panel.el,
    pastRoles(ctx, spaceId, journeyId));
  return {concerns: (e) => e.partitionkey === spaceId, refresh: () => refresh().catch(ctx.notice)};
}

// Who held which role at a past time (GET /v1/spaces/{space}/members?as_of=).
function pastRoles(ctx, spaceId, journeyId) {
  const when = h('input', {id: 'roles-as-of', type: 'datetime-local', step: 'any', required: true});
  const out = h('div', {'aria-live': 'polite'});
  const row = (m, where) => h('tr', {},
    h('th', {scope: 'row'}, m.user || (m.team ? `team ${m.team}` : '?')), h('td', {}, roleLabel(m.role)), h('td', {}, where));
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const at = new Date(when.value).toISOString();
      replace(out, h('p', {class: 'muted'}, 'Loading the roles then…'));
      try {
        const past = await get(`/v1/spaces/${enc(spaceId)}/members?as_of=${encodeURIComponent(at)}`);
        const journey = (past.journeys || []).find((j) => j.id === journeyId);
        const rows = [...(past.members || []).map((m) => row(m, 'the space')),
          ...(journey ? journey.members : []).map((m) => row(m, 'this journey'))];
        const upTo = past.as_of ? ` (the space's events up to position ${past.as_of.position})` : '';
        replace(out, h('p', {}, `Roles at ${new Date(at).toLocaleString()}${upTo}:`),
          rows.length ? h('table', {class: 'table'},
            h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Who'), h('th', {scope: 'col'}, 'Role'), h('th', {scope: 'col'}, 'In'))),
            h('tbody', {}, rows)) : h('p', {class: 'muted'}, 'Nobody held a role then.'),
          journey ? null : h('p', {class: 'muted'}, 'The journey did not exist yet.'));
      } catch (err) {
        replace(out, h('p', {class: 'error'}, `Cannot show the roles then: ${err.message}`));
      }
    },
  }, h('label', {for: 'roles-as-of'}, 'Roles at'), when, h('button', {type: 'submit'}, 'Show'));
  return h('section', {class: 'card', 'aria-labelledby': 'past-roles-title'},
    h('h2', {id: 'past-roles-title'}, 'Roles in the past'), form, out);
}
