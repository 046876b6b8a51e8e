// The dashboard in a real browser: the real `migops serve --demo` on a free
// port with a fresh data directory, Debian's Chromium driven headless by
// playwright-core (no browser download). Run by CTest as `browser`:
//   MIGOPS_BINARY=build/bin/migops MIGOPS_TEST_ARTIFACTS=build/test-artifacts/browser \
//     node --test web/tests/dashboard.test.mjs
// Every wait polls with a deadline; none is a measure of speed.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';

const binary = process.env.MIGOPS_BINARY;
const artifacts = process.env.MIGOPS_TEST_ARTIFACTS || path.join(os.tmpdir(), 'migops-browser-artifacts');
const chromiumPath = process.env.MIGOPS_CHROMIUM || '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dir;
let port;
let server;
let serverLog = '';
let base;
let demoLink;
let demoToken;
let browser;

// ---- helpers -----------------------------------------------------------

async function freePort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const {port: p} = s.address();
  await new Promise((resolve) => s.close(resolve));
  return p;
}

async function waitFor(what, f, deadlineMs = 10000) {
  const end = Date.now() + deadlineMs;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})\n--- server log ---\n${serverLog.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function startServer(extra = []) {
  const child = spawn(binary, ['serve', '--demo', '--data-dir', path.join(dir, 'data'),
    '--listen', `127.0.0.1:${port}`, ...extra], {stdio: ['ignore', 'pipe', 'pipe']});
  child.stdout.on('data', (d) => { serverLog += d; });
  child.stderr.on('data', (d) => { serverLog += d; });
  return child;
}

async function stopServer(child) {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

async function api(method, target, {token = demoToken, body, headers = {}} = {}) {
  const h = {...headers};
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const r = await fetch(`${base}${target}`, {method, headers: h, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: r.status, json, text, headers: r.headers};
}

// A request with the path exactly as written (fetch would resolve "..").
function rawGet(target, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: target, method: 'GET', headers}, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body}));
    });
    req.on('error', reject);
    req.end();
  });
}

function tasksOf(journey) {
  const out = [];
  for (const p of journey.phases) for (const m of p.modules) for (const t of m.tasks) out.push(t);
  return out;
}

async function newPage() {
  const page = await browser.newPage();
  page.on('pageerror', (e) => { serverLog += `\n[page error] ${e.message}`; });
  page.on('console', (m) => { if (m.type() === 'error') serverLog += `\n[console] ${m.text()}`; });
  return page;
}

async function signedInPage(to) {
  const page = await newPage();
  await page.goto(`${base}/#token=${encodeURIComponent(demoToken)}&to=${encodeURIComponent(to)}`);
  return page;
}

const cardIn = (status, task) => `.cell[data-status="${status}"] .task-card[data-task="${task}"]`;

// ---- the server and the browser -----------------------------------------

before(async () => {
  assert.ok(binary, 'MIGOPS_BINARY names the migops binary');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migops-browser-'));
  fs.mkdirSync(artifacts, {recursive: true});
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = startServer();
  demoLink = await waitFor('the dashboard link on stdout', () => {
    const m = /Dashboard: (\S+)/.exec(serverLog);
    return m && m[1];
  }, 60000);
  await waitFor('/readyz', async () => (await fetch(`${base}/readyz`)).status === 200, 30000);
  demoToken = new URLSearchParams(new URL(demoLink).hash.slice(1)).get('token');
  assert.ok(demoToken, demoLink);
  browser = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'migops-chromium-')), {
    executablePath: chromiumPath,
    args: chromiumArgs,
    headless: true,
    viewport: {width: 1440, height: 900},
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await stopServer(server);
  if (dir) fs.rmSync(dir, {recursive: true, force: true});
});

// ---- the static files ------------------------------------------------------

test('the page and its assets are served without a token, with types and ETags', async () => {
  const page = await rawGet('/');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.match(page.headers['content-security-policy'], /default-src 'self'/);
  assert.match(page.body, /<script type="module" src="\/assets\/app.js">/);

  const js = await rawGet('/assets/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type'], /^text\/javascript/);
  assert.equal(js.headers['cache-control'], 'no-cache');
  assert.ok(js.headers.etag);
  const again = await rawGet('/assets/app.js', {'If-None-Match': js.headers.etag});
  assert.equal(again.status, 304);
  assert.equal(again.body, '');
  assert.match(again.headers['content-type'], /^text\/javascript/);
  const css = await rawGet('/assets/style.css', {'If-None-Match': '"other"'});
  assert.equal(css.status, 200);
  assert.match(css.headers['content-type'], /^text\/css/);

  // The API still wants a token.
  assert.equal((await api('GET', '/v1/spaces', {token: ''})).status, 401);
});

test('the static route refuses traversal, hidden and unknown files', async () => {
  const cases = [
    ['/assets/..%2Findex.html', 400],
    ['/assets/..%2F..%2FREADME.md', 400],
    ['/assets/%2e%2e%2f%2e%2e%2fCMakeLists.txt', 400],
    ['/assets/%2E%2E', 400],
    ['/assets/..%5C..%5CREADME.md', 400],
    ['/assets/.hidden.js', 400],
    ['/assets/../../README.md', 404],
    ['/assets/../index.html', 404],
    ['/assets/%00.js', 404],
    ['/assets/nope.js', 404],
    ['/assets/app.exe', 404],
    ['/assets/', 404],
    ['/tests/package.json', 404],
    ['/web/tests/package.json', 404],
    ['/index.html/..', 404],
  ];
  for (const [target, status] of cases) {
    const r = await rawGet(target);
    assert.equal(r.status, status, `${target}: ${r.status} ${r.body}`);
    assert.doesNotMatch(r.body, /migops_library|playwright-core|An event-sourced workflow engine/, target);
  }
});

// ---- pages ---------------------------------------------------------------

test('sign-in: a refused token is said so; the demo shortcut signs in on loopback', async () => {
  const demo = await api('GET', '/v1/demo', {token: ''});
  assert.equal(demo.status, 200, demo.text);
  assert.equal(demo.json.user, 'demo');
  // Addressed by a name that is not loopback's, the shortcut is not offered.
  assert.equal((await rawGet('/v1/demo', {Host: 'evil.example:80'})).status, 404);
  assert.equal((await rawGet('/v1/demo', {Host: '127.evil.example'})).status, 404);

  const page = await newPage();
  await page.goto(`${base}/`);
  await page.waitForSelector('#token');
  await page.fill('#token', 'not-a-token');
  await page.click('button[type="submit"]');
  await waitFor('the refusal', async () => (await page.textContent('#signin-error')).includes('refused'));

  await page.getByRole('button', {name: 'Sign in as demo'}).click();
  await waitFor('the demo journey board', async () => (await page.locator('.task-card').count()) > 0);
  assert.match(page.url(), /#\/journeys\//);
  assert.match(await page.textContent('#who'), /Signed in as demo/);
  await page.close();
});

test('the board of a journey created from a template renders with its marks', async () => {
  // The demo's journey (from the general migration template, work under way).
  const demoJourney = decodeURIComponent(new URLSearchParams(new URL(demoLink).hash.slice(1)).get('to').split('/').pop());
  const board = (await api('GET', `/v1/journeys/${encodeURIComponent(demoJourney)}`)).json;
  const page = await newPage();
  await page.goto(demoLink);
  const tasks = tasksOf(board);
  await waitFor('every task card', async () => (await page.locator('.task-card').count()) === tasks.length);
  for (const p of board.phases) assert.ok(await page.locator(`#p-${p.id.replace(/\./g, '\\.')}`).isVisible(), p.title);
  for (const t of tasks) assert.equal(await page.locator(cardIn(t.status, t.id)).count(), 1, t.title);
  const blocked = tasks.find((t) => t.status === 'blocked');
  assert.ok(blocked, 'the demo has a blocked task');
  const blockedCard = page.locator(cardIn('blocked', blocked.id));
  assert.match(await blockedCard.textContent(), /Blocked/);
  assert.match(await blockedCard.textContent(), new RegExp(blocked.blocked_reason));
  assert.match(await blockedCard.textContent(), /Assigned to sam/);
  const waiting = tasks.find((t) => t.waiting);
  assert.ok(waiting, 'the demo has a waiting task');
  assert.match(await page.locator(`.task-card[data-task="${waiting.id}"]`).textContent(), /Waiting/);
  const overdue = tasks.find((t) => t.due && new Date(t.due) < new Date());
  assert.ok(overdue, 'the demo has an overdue task');
  assert.match(await page.locator(`.task-card[data-task="${overdue.id}"]`).textContent(), /Overdue/);
  assert.match(await page.textContent('#crumbs'), /Demo: data centre exit/);
  await page.screenshot({path: path.join(artifacts, 'board.png'), fullPage: true});

  // A journey made through the API from another built-in template renders too.
  const space = await api('POST', '/v1/spaces', {body: {name: 'Browser test space'}});
  assert.equal(space.status, 201, space.text);
  const created = await api('POST', `/v1/spaces/${space.json.id}/journeys`,
    {body: {name: 'Quick', template_id: 'migops-quick-start'}});
  assert.equal(created.status, 201, created.text);
  await page.goto(`${base}/#/journeys/${encodeURIComponent(created.json.id)}`);
  await waitFor('the quick-start board', async () =>
    (await page.locator('.task-card').count()) === tasksOf(created.json).length &&
    (await page.textContent('h1')) === 'Quick');
  await page.close();
});

test('a status change made through the API appears on the open page', async () => {
  const space = await api('POST', '/v1/spaces', {body: {name: 'Live space'}});
  const journey = (await api('POST', `/v1/spaces/${space.json.id}/journeys`,
    {body: {name: 'Live', template_id: 'migops-quick-start'}})).json;
  const task = tasksOf(journey).find((t) => t.status === 'planned');
  const page = await signedInPage(`/journeys/${journey.id}`);
  await page.waitForSelector(cardIn('planned', task.id));
  await waitFor('the stream to be live', async () => (await page.getAttribute('#connection', 'data-state')) === 'live');

  const started = Date.now();
  const changed = await api('POST', `/v1/tasks/${task.id}/status`, {body: {status: 'in_progress'}});
  assert.equal(changed.status, 200, changed.text);
  await waitFor('the card in the In progress column', async () => (await page.locator(cardIn('in_progress', task.id)).count()) === 1, 5000);
  const shownAfter = Date.now() - started;
  console.log(`# the status change was on the page ${shownAfter} ms after the request was sent`);
  assert.equal(await page.locator(cardIn('planned', task.id)).count(), 0);
  assert.match(await page.textContent('#announcer'), new RegExp(`${task.title}.*In progress`));

  // The server restarts; the page resumes from its last position and sees
  // what changed meanwhile, with no reload.
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  assert.equal(await stopServer(server), 0);
  await waitFor('the page to notice', async () => (await page.getAttribute('#connection', 'data-state')) !== 'live');
  server = startServer();
  await waitFor('/readyz after the restart', async () => (await fetch(`${base}/readyz`)).status === 200, 30000);
  const blocked = await api('POST', `/v1/tasks/${task.id}/status`, {body: {status: 'blocked', reason: 'restarted'}});
  assert.equal(blocked.status, 200, blocked.text);
  await waitFor('the change made while away', async () => (await page.locator(cardIn('blocked', task.id)).count()) === 1, 15000);
  assert.ok(sockets.some((u) => /[?&]from=[0-9.]+/.test(u)), `resumed with from=: ${sockets.join(' ')}`);
  // The restarted demo found its space and made no second one.
  const {spaces} = (await api('GET', '/v1/spaces')).json;
  assert.equal(spaces.filter((s) => s.name === 'Demo: data centre exit').length, 1);
  await page.close();
});

test('completing a task with a missing file shows the refusal and what is missing', async () => {
  const space = await api('POST', '/v1/spaces', {body: {name: 'Refusal space'}});
  const journey = (await api('POST', `/v1/spaces/${space.json.id}/journeys`,
    {body: {name: 'Refusals', template_id: 'migops-quick-start'}})).json;
  const task = tasksOf(journey).find((t) => t.acceptance_criteria.some((c) => c.type === 'artifact'));
  assert.ok(task, 'the quick start has a task that needs a file');
  const criterion = task.acceptance_criteria.find((c) => c.type === 'artifact');
  const page = await signedInPage(`/journeys/${journey.id}`);
  await page.waitForSelector(`.task-card[data-task="${task.id}"]`);

  // Keyboard: focus the card and open it with Enter.
  await page.focus(`.task-card[data-task="${task.id}"]`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#panel:not([hidden]) #panel-title');
  await waitFor('the panel to show the task', async () => (await page.textContent('#panel-title')) === task.title);
  assert.match(await page.textContent('#panel'), new RegExp(criterion.description));
  await page.click('#panel button[data-to="completed"]');
  const error = page.locator('#panel .panel-error');
  await waitFor('the refusal', async () => await error.isVisible());
  const text = await error.textContent();
  assert.match(text, /rule refuses/i);
  assert.match(text, new RegExp(`artifact '${criterion.description}' missing`));
  await page.screenshot({path: path.join(artifacts, 'refusal.png'), fullPage: false});
  const after = await api('GET', `/v1/tasks/${task.id}`);
  assert.notEqual(after.json.status, 'completed');

  // Escape closes the panel and gives the focus back to the card.
  await page.keyboard.press('Escape');
  await waitFor('the panel to close', async () => await page.locator('#panel').isHidden());
  assert.equal(await page.evaluate(() => document.activeElement.dataset.task), task.id);
  await page.close();
});

test('the history slider shows the board as it was at a past position', async () => {
  const space = await api('POST', '/v1/spaces', {body: {name: 'History space'}});
  const journey = (await api('POST', `/v1/spaces/${space.json.id}/journeys`,
    {body: {name: 'History', template_id: 'migops-quick-start'}})).json;
  const task = tasksOf(journey)[0];
  const started = await api('POST', `/v1/tasks/${task.id}/status`, {body: {status: 'in_progress'}});
  assert.equal(started.status, 200, started.text);
  // The next change a few milliseconds later, so that a time between the two
  // can be chosen to the millisecond.
  const startedAt = Date.now();
  await waitFor('the clock to move on', async () => Date.now() >= startedAt + 5);
  const blocked = await api('POST', `/v1/tasks/${task.id}/status`, {body: {status: 'blocked', reason: 'waiting for the past'}});
  assert.equal(blocked.status, 200, blocked.text);
  // The block raises an alert a moment later, the scheduler's event: the
  // history is complete once it is there.
  const events = await waitFor('the alert raised by the block', async () => {
    const all = (await api('GET', `/v1/events?journey=${encodeURIComponent(journey.id)}&limit=1000`)).json.events;
    return all.some((e) => e.type === 'io.migops.alert.raised.v1') && all;
  });
  const positions = events.map((e) => e.migopsposition);
  assert.deepEqual(events.slice(0, 3).map((e) => e.type), ['io.migops.journey.created.v1',
    'io.migops.task.status_changed.v1', 'io.migops.task.status_changed.v1'], JSON.stringify(events.map((e) => e.type)));
  // The contract the slider is built on: the board as of a position.
  const then = await api('GET', `/v1/journeys/${encodeURIComponent(journey.id)}?as_of_position=${positions[1]}`);
  assert.equal(then.status, 200, then.text);
  assert.equal(tasksOf(then.json).find((t) => t.id === task.id).status, 'in_progress');

  const page = await signedInPage(`/journeys/${journey.id}`);
  await page.waitForSelector(cardIn('blocked', task.id));
  await page.getByRole('button', {name: 'History'}).click();
  const slider = page.locator('#history-slider');
  await slider.waitFor();
  await waitFor('the slider over the journey\'s events', async () => (await slider.getAttribute('max')) === String(positions.length - 1));
  await slider.focus();
  await page.keyboard.press('Home');
  await waitFor('the board at the journey\'s creation', async () => (await page.locator(cardIn('planned', task.id)).count()) === 1);
  assert.match(await page.textContent('#history-label'), new RegExp(`Position ${positions[0]}`));
  assert.match(page.url(), new RegExp(`[?&]at=${positions[0]}`));
  await page.keyboard.press('ArrowRight');
  await waitFor('the board after the start', async () => (await page.locator(cardIn('in_progress', task.id)).count()) === 1);
  await page.screenshot({path: path.join(artifacts, 'history.png'), fullPage: false});

  // A time instead of a position: just after the start, before the block.
  await page.keyboard.press('End');
  await waitFor('the board at the latest position', async () => (await page.locator(cardIn('blocked', task.id)).count()) === 1);
  await page.evaluate((at) => {
    const d = new Date(at);
    document.getElementById('history-time').value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 23);
  }, new Date(events[1].time).getTime() + 1);
  await page.getByRole('button', {name: 'Show', exact: true}).click();
  await waitFor('the board at that time', async () => (await page.locator(cardIn('in_progress', task.id)).count()) === 1);

  // A change made now reaches the slider's range, not the past board shown.
  const later = await api('POST', `/v1/tasks/${task.id}/status`, {body: {status: 'in_progress'}});
  assert.equal(later.status, 200, later.text);
  // (and the alert it clears may follow)
  await waitFor('the slider to grow', async () => Number(await slider.getAttribute('max')) >= positions.length);
  assert.equal(await page.locator(cardIn('in_progress', task.id)).count(), 1);

  // An address with ?at= opens the board there.
  const again = await signedInPage(`/journeys/${journey.id}?at=${positions[0]}`);
  await waitFor('the past board from the address', async () => (await again.locator(cardIn('planned', task.id)).count()) === 1);
  await again.close();

  await page.getByRole('button', {name: 'Back to live'}).click();
  await waitFor('the live board', async () => (await page.locator(cardIn('in_progress', task.id)).count()) === 1 &&
    (await page.locator(`a${cardIn('in_progress', task.id).split(' ').pop()}`).count()) === 1);
  assert.doesNotMatch(page.url(), /[?&]at=/);
  await page.close();
});

test('the journey members page shows the roles held at a past time', async () => {
  const space = await api('POST', '/v1/spaces', {body: {name: 'Roles space'}});
  const journey = (await api('POST', `/v1/spaces/${space.json.id}/journeys`,
    {body: {name: 'Roles', template_id: 'migops-quick-start'}})).json;
  const granted = await api('PUT', `/v1/journeys/${journey.id}/members/bob`, {body: {role: 'journey_contributor'}});
  assert.equal(granted.status, 200, granted.text);
  const events = (await api('GET', `/v1/events?journey=${encodeURIComponent(journey.id)}&type=role.granted`)).json.events;
  assert.equal(events.length, 1);
  const grantedAt = new Date(events[0].time).getTime();

  const page = await signedInPage(`/journeys/${journey.id}/members`);
  await page.waitForSelector('#roles-as-of');
  assert.match(await page.textContent('.members'), /bob/);
  const rolesAt = async (ms) => {
    // The field takes local time, to the millisecond.
    await page.evaluate((at) => {
      const d = new Date(at);
      const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 23);
      document.getElementById('roles-as-of').value = local;
    }, ms);
    await page.getByRole('button', {name: 'Show'}).click();
    await waitFor('the roles then', async () => /Roles at|Cannot/.test(await page.textContent('#past-roles-title + form + div')));
    return page.textContent('#past-roles-title + form + div');
  };
  const before = await rolesAt(grantedAt - 1);
  assert.match(before, /demo/);
  assert.doesNotMatch(before, /bob/);
  const after = await rolesAt(grantedAt + 1);
  assert.match(after, /bob\s*journey contributor\s*this journey/);
  await page.close();
});

test('after an overflow close the page resumes from the position the server names', async () => {
  // One frame in flight at most: a batch of two events for the page overflows.
  assert.equal(await stopServer(server), 0);
  server = startServer(['--ws-queue-limit', '1']);
  await waitFor('/readyz with a queue of one frame', async () => (await fetch(`${base}/readyz`)).status === 200, 30000);
  const space = await api('POST', '/v1/spaces', {body: {name: 'Overflow space'}});
  const journey = (await api('POST', `/v1/spaces/${space.json.id}/journeys`,
    {body: {name: 'Overflow', template_id: 'migops-general-migration'}})).json;
  const tasks = tasksOf(journey);
  const page = await signedInPage(`/journeys/${journey.id}`);
  await page.waitForSelector(cardIn('planned', tasks[0].id));
  await waitFor('the stream to be live', async () => (await page.getAttribute('#connection', 'data-state')) === 'live');
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));

  // Commands sent together are committed together; rounds until one batch
  // held two events (bounded: each round is one burst).
  const overflowed = () => /fell \d+ frames behind and was closed, to resume from (\S+)/.exec(serverLog);
  let status = 'planned';
  let round = 0;
  for (; round < 20 && !overflowed(); ++round) {
    status = status === 'planned' ? 'in_progress' : 'planned';
    const answers = await Promise.all(tasks.map((t) => api('POST', `/v1/tasks/${t.id}/status`, {body: {status}})));
    for (const a of answers) assert.equal(a.status, 200, a.text);
  }
  const m = overflowed();
  assert.ok(m, 'no batch of two events in 20 bursts');
  console.log(`# the stream overflowed in burst ${round} and was to resume from ${m[1]}`);
  await waitFor('every card where the last burst put it', async () =>
    (await page.locator(`.cell[data-status="${status}"] .task-card`).count()) === tasks.length, 15000);
  assert.ok(sockets.some((u) => u.endsWith(`?from=${m[1]}`)), `resumed from ${m[1]}: ${sockets.join(' ')}`);
  await page.close();
});
