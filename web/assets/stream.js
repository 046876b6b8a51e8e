// The live event stream, /v1/stream as a WebSocket. Browsers cannot set
// headers on a WebSocket, so the token goes in the first message. The
// stream remembers the cursor of the last frame; after a disconnect it
// connects again with from=<cursor>, so nothing is missed and nothing is
// seen twice. A close for overflow (4000) says where to resume in its
// reason ("overflow; from=<cursor>").

const closeOverflow = 4000;
const closePolicy = 1008; // no, bad or expired token
const closeNotVisible = 4003;
const firstRetryMs = 500;
const maxRetryMs = 10000;
// Handshakes refused in a row, while the server answers HTTP, before the
// cursor is given up (the server no longer has that history: another data
// directory).
const refusalsBeforeForgetting = 3;

export class LiveStream {
  // onEvent(cloudEvent, cursor); onLive(cursor): caught up (after each
  // connect); onState('connecting' | 'live' | 'offline' | 'refused', detail)
  constructor({token, onEvent, onLive, onState}) {
    this.token = token;
    this.onEvent = onEvent;
    this.onLive = onLive;
    this.onState = onState;
    this.cursor = null; // the page reloads its data on a reload, so memory is enough
    this.socket = null;
    this.refusals = 0;
    this.retryMs = firstRetryMs;
    this.stopped = false;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, 'signed out');
    this.socket = null;
    this.onState('offline', '');
  }

  // Cuts the connection as a network failure would (for trying the resume).
  drop() {
    if (this.socket) this.socket.close(4999, 'dropped by the page');
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const from = this.cursor ? `?from=${encodeURIComponent(this.cursor)}` : '';
    const socket = new WebSocket(`${scheme}://${location.host}/v1/stream${from}`);
    this.socket = socket;
    this.onState('connecting', this.cursor ? `resuming from ${this.cursor}` : '');
    socket.addEventListener('open', () => {
      socket.opened = true;
      this.refusals = 0;
      socket.send(JSON.stringify({token: this.token}));
    });
    socket.addEventListener('message', (m) => this.received(m.data));
    socket.addEventListener('close', (c) => this.closed(socket, c));
  }

  received(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.cursor) this.remember(frame.cursor);
    if (frame.live) {
      this.retryMs = firstRetryMs;
      this.onState('live', '');
      this.onLive(frame.cursor);
    } else if (frame.event) {
      this.onEvent(frame.event, frame.cursor);
    }
  }

  remember(cursor) {
    this.cursor = cursor;
  }

  async closed(socket, c) {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.stopped) return;
    if (!socket.opened && this.cursor && ++this.refusals >= refusalsBeforeForgetting) {
      const up = await fetch('/readyz', {cache: 'no-store'}).then((r) => r.ok, () => false);
      if (up) this.forget();
    }
    if (c.code === closeOverflow) {
      const m = /from=([0-9.]+)/.exec(c.reason || '');
      if (m) this.remember(m[1]);
      this.retryMs = firstRetryMs;
    }
    if (c.code === closePolicy) {
      this.onState('refused', c.reason || 'the token was refused');
      return;
    }
    if (c.code === closeNotVisible) this.forget();
    this.onState('offline', c.reason || 'disconnected');
    const wait = c.code === closeOverflow ? 0 : this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, maxRetryMs);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  // A cursor the server no longer takes (another data directory, say).
  forget() {
    this.cursor = null;
    this.refusals = 0;
  }
}
