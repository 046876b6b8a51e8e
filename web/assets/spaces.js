// Spaces with their journeys and progress; one space with its journeys,
// members, roles and teams.

import {call, get, enc, tokenClaims} from './api.js';
import {h, replace, progressBar, roleLabel, statusLabel, date} from './dom.js';
import {membersPanel} from './members.js';

function journeyItem(j) {
  return h('li', {class: 'journey-item'},
    h('a', {href: `#/journeys/${enc(j.id)}`}, j.name),
    h('span', {class: 'badge', dataset: {status: j.status}}, statusLabel(j.status)),
    progressBar(j.progress, `Progress of ${j.name}`));
}

export async function renderSpaces(ctx) {
  ctx.setTitle('Spaces');
  ctx.setCrumbs([{label: 'Spaces'}]);
  const list = h('div', {class: 'spaces'});
  const name = h('input', {id: 'new-space-name', name: 'name', required: true, maxlength: 200});
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const space = await call('POST', '/v1/spaces', {body: {name: name.value.trim()}});
        ctx.navigate(`#/spaces/${enc(space.id)}`);
      } catch (err) {
        ctx.notice(err);
      }
    },
  }, h('label', {for: 'new-space-name'}, 'New space'), name,
  h('button', {type: 'submit'}, 'Create space'));

  async function refresh() {
    const {spaces} = await get('/v1/spaces');
    if (!spaces.length) {
      replace(list, h('p', {}, 'You are in no space yet. Create one, or ask a space admin to add you.'));
      return;
    }
    replace(list, spaces.map((s) => h('section', {class: 'card space', 'aria-labelledby': `space-${s.id}`},
      h('h2', {id: `space-${s.id}`}, h('a', {href: `#/spaces/${enc(s.id)}`}, s.name)),
      s.description ? h('p', {class: 'muted'}, s.description) : null,
      s.journeys.length
        ? h('ul', {class: 'journeys'}, s.journeys.map(journeyItem))
        : h('p', {class: 'muted'}, 'No journey yet.'))));
  }
  await refresh();
  replace(ctx.main, h('h1', {}, 'Spaces'), list, form);
  return {concerns: () => true, refresh: () => refresh().catch(ctx.notice)};
}

export async function renderSpace(ctx, spaceId) {
  const journeys = h('div', {});
  const members = membersPanel(ctx, {
    title: 'Members and roles',
    roles: ['space_admin', 'space_contributor'],
    grantPath: (user) => `/v1/spaces/${enc(spaceId)}/members/${enc(user)}`,
    teamPath: (team) => `/v1/teams/${enc(team)}/role`,
    onChange: () => refresh(),
  });
  const templateSelect = h('select', {id: 'new-journey-template', name: 'template'});
  const journeyName = h('input', {id: 'new-journey-name', name: 'name', required: true, maxlength: 200});
  let space = null;

  const {templates} = await get('/v1/templates');
  replace(templateSelect,
    templates.map((t) => h('option', {value: `${t.id}@${t.version}`}, `${t.name} (${t.version})`)),
    h('option', {value: ''}, 'Empty journey (no template)'));

  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const [id, version] = templateSelect.value.split('@');
      const body = {name: journeyName.value.trim()};
      if (id) Object.assign(body, {template_id: id, template_version: version});
      try {
        const j = await call('POST', `/v1/spaces/${enc(spaceId)}/journeys`, {body});
        ctx.navigate(`#/journeys/${enc(j.id)}`);
      } catch (err) {
        ctx.notice(err);
      }
    },
  },
  h('label', {for: 'new-journey-name'}, 'New journey'), journeyName,
  h('label', {for: 'new-journey-template'}, 'from'), templateSelect,
  h('button', {type: 'submit'}, 'Create journey'));

  async function refresh() {
    space = await get(`/v1/spaces/${enc(spaceId)}`);
    ctx.setTitle(space.name);
    ctx.setCrumbs([{label: 'Spaces', href: '#/spaces'}, {label: space.name}]);
    replace(journeys, space.journeys.length
      ? h('ul', {class: 'journeys'}, space.journeys.map(journeyItem))
      : h('p', {class: 'muted'}, 'No journey yet.'));
    members.update(space.members, space.teams);
    const me = tokenClaims().user;
    const mine = space.members.find((m) => m.user === me);
    heading.textContent = space.name;
    about.textContent = `${space.description ? `${space.description} · ` : ''}Created by ${space.created_by} on ${date(space.created_at)}${mine ? ` · your role: ${roleLabel(mine.role)}` : ''}`;
  }
  const heading = h('h1', {});
  const about = h('p', {class: 'muted'});
  await refresh();
  replace(ctx.main, heading, about,
    h('section', {'aria-labelledby': 'journeys-title'}, h('h2', {id: 'journeys-title'}, 'Journeys'), journeys, form),
    members.el);
  return {
    concerns: (e) => e.partitionkey === spaceId,
    refresh: () => refresh().catch(ctx.notice),
  };
}
