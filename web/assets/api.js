// The HTTP API as the pages use it: the bearer token kept for the tab
// (sessionStorage), JSON in and out, problem+json refusals as ApiError.

const tokenKey = 'migops.token';

export function token() {
  return sessionStorage.getItem(tokenKey) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(tokenKey, t);
  else sessionStorage.removeItem(tokenKey);
}

// The user a token speaks for and when it expires, as the token says
// (the server checks it; this is only for showing).
export function tokenClaims(t = token()) {
  try {
    const part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = atob(part + '='.repeat((4 - (part.length % 4)) % 4));
    const claims = JSON.parse(json);
    return {user: String(claims.sub || ''), expires: claims.exp ? new Date(claims.exp * 1000) : null};
  } catch {
    return {user: '', expires: null};
  }
}

// A refusal: status, the problem's type, title, detail and, for refused
// completions, what is missing (unmet).
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.type = problem.type || '';
    this.title = problem.title || '';
    this.detail = problem.detail || '';
    this.unmet = Array.isArray(problem.unmet) ? problem.unmet : [];
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(f) {
  onUnauthorized = f;
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// call('POST', '/v1/tasks/…/status', {body: {status: 'completed'}, ifMatch: 3})
// Every POST carries an Idempotency-Key; a GET or POST that fails on the
// way (no answer) is sent once more, a POST with the same key, so it acts
// at most once.
export async function call(method, path, options = {}) {
  const headers = {Accept: 'application/json, application/problem+json'};
  const t = options.token !== undefined ? options.token : token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (options.ifMatch !== undefined && options.ifMatch !== null) headers['If-Match'] = `"${options.ifMatch}"`;
  let body;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['Content-Type'] = options.contentType || 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  if (method === 'POST') headers['Idempotency-Key'] = options.key || newKey();
  let response;
  for (let attempt = 0; ; ++attempt) {
    try {
      response = await fetch(path, {method, headers, body, cache: 'no-store'});
      break;
    } catch (e) {
      // Only what is safe to repeat: reads, and POSTs under their key.
      if (attempt >= 1 || (method !== 'GET' && method !== 'POST')) throw e;
    }
  }
  const type = response.headers.get('Content-Type') || '';
  if (!response.ok) {
    let problem = {title: response.statusText};
    if (type.includes('json')) problem = await response.json().catch(() => problem);
    const err = new ApiError(response.status, problem);
    if (response.status === 401 && !options.quiet) onUnauthorized(err);
    throw err;
  }
  if (options.blob) return {blob: await response.blob(), etag: response.headers.get('ETag')};
  if (response.status === 204) return null;
  return type.includes('json') ? response.json() : response.text();
}

export const get = (path, options) => call('GET', path, options);

// Every page of a listing that answers {<key>: [...], next: cursor}.
export async function all(path, key, limit = 1000) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page[key]);
    cursor = page.next;
  } while (cursor);
  return out;
}

export function enc(id) {
  return encodeURIComponent(id);
}
