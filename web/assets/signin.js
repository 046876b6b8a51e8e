// Sign in by pasting a bearer token (migops token --user U prints one), or,
// when the server runs its demo on loopback, as the demo user in one click.

import {call, get, ApiError} from './api.js';
import {h, replace} from './dom.js';

export async function renderSignIn(ctx, signIn) {
  ctx.setTitle('Sign in');
  ctx.setCrumbs([{label: 'Sign in'}]);
  const error = h('p', {id: 'signin-error', class: 'error', role: 'alert', hidden: true});
  const input = h('textarea', {
    id: 'token', name: 'token', rows: 4, required: true, spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': 'token-help signin-error',
  });
  const demoBox = h('div', {class: 'demo', hidden: true});

  async function tryToken(t, destination) {
    error.hidden = true;
    try {
      // Any authenticated read tells whether the server takes the token.
      await get('/v1/spaces', {token: t, quiet: true});
    } catch (e) {
      error.textContent = e instanceof ApiError
        ? `The server refused the token: ${e.detail || e.title}`
        : `Cannot reach the server: ${e.message}`;
      error.hidden = false;
      return;
    }
    signIn(t);
    const to = destination || new URLSearchParams(location.hash.split('?')[1] || '').get('to');
    ctx.navigate(to && to.startsWith('/') ? `#${to}` : '#/spaces');
  }

  const form = h('form', {
    class: 'card signin',
    onsubmit: (e) => {
      e.preventDefault();
      const t = input.value.trim();
      if (t) tryToken(t);
    },
  },
  h('label', {for: 'token'}, 'Bearer token'),
  input,
  h('p', {id: 'token-help', class: 'help'},
    'Paste a token from ', h('code', {}, 'migops token --user YOU'),
    '. It is kept for this browser tab only and sent to this server only.'),
  h('button', {type: 'submit', class: 'primary'}, 'Sign in'),
  error);

  replace(ctx.main, h('h1', {}, 'Sign in'), form, demoBox);

  // The demo's shortcut exists only when the server offers it.
  get('/v1/demo', {token: '', quiet: true}).then((demo) => {
    replace(demoBox,
      h('h2', {}, 'Local development'),
      h('p', {}, `This server runs its demo. Sign in as ${demo.user} to see the demo journey.`),
      h('button', {
        type: 'button',
        class: 'primary',
        onclick: async () => {
          try {
            const r = await call('POST', '/v1/demo/token', {token: ''});
            await tryToken(r.token, demo.journey ? `/journeys/${encodeURIComponent(demo.journey)}` : '');
          } catch (e) {
            ctx.notice(e);
          }
        },
      }, `Sign in as ${demo.user}`));
    demoBox.hidden = false;
  }, () => {});

  input.focus();
  return {concerns: () => false};
}
