// Scripted browser parts for the kyso.js tests (not a test file itself):
// a window whose posts come back to its listeners with an optional content
// script answering them, a WebSocket class over a scripted agent, and a
// navigator whose Permissions API knows the names a browser would.

// fakeWindow: the page's window; contentScript(data, reply) plays the
// extension's content script (null: no extension).
export function fakeWindow(contentScript, extra = {}) {
  const listeners = [];
  const win = {
    origin: "https://portal.example.gov.vn",
    posted: [],
    addEventListener(type, fn) { if (type === "message") listeners.push(fn); },
    postMessage(data, target) {
      structuredClone(data); // as a browser would: functions cannot be posted
      win.posted.push({ data, target });
      setTimeout(() => {
        for (const fn of listeners) fn({ source: win, data });
        if (contentScript) contentScript(data, (reply) => setTimeout(() => {
          for (const fn of listeners) fn({ source: win, data: reply });
        }));
      });
    },
    // Another frame posting into this window: must be ignored.
    fromElsewhere(data) { for (const fn of listeners) fn({ source: {}, data }); },
    ...extra,
  };
  return win;
}

// extension: a content script over a scripted host. answer(request,
// progress) returns the final answer; progress(msg) sends an interim one.
export function extension(answer, version = "0.1.0") {
  return (data, reply) => {
    if (data.kyso === "hello") reply({ kyso: "hello-ack", version });
    if (data.kyso === "request") {
      const r = answer(data, (p) => reply({ kyso: "response", id: data.id, progress: p }));
      if (r) reply({ kyso: "response", ...r });
    }
  };
}

// fakeWebSocket: each socket does what state.mode says when created:
// "open" (the agent answers), "fail" (error and close 1006, as a refused
// or blocked connection), "pending" (neither, until the test calls
// state.last.open() or .fail()). agent(req, send) answers each request
// (send passes interim messages).
export function fakeWebSocket(agent, state = {}) {
  Object.assign(state, { mode: "open", opened: 0, created: 0, urls: [], ...state });
  return class FakeWS {
    constructor(url) {
      state.created++;
      state.urls.push(url);
      this.sent = [];
      state.last = this;
      if (state.mode === "pending") return;
      setTimeout(() => (state.mode === "open" ? this.open() : this.fail()), state.delay || 0);
    }
    open() { state.opened++; this.onopen?.({}); }
    fail() { this.onerror?.({}); this.onclose?.({ code: 1006 }); }
    send(s) {
      const req = JSON.parse(s);
      this.sent.push(req);
      const send = (msg) => setTimeout(() => this.onmessage?.({ data: JSON.stringify(msg) }));
      const r = agent(req, send);
      if (r) send(r);
    }
    close() { setTimeout(() => this.onclose?.({ code: 1000 })); }
    static state = state;
  };
}

// fakeNavigator: permissions.query knows the names in states (name →
// state) and throws a TypeError for others, as browsers do.
export function fakeNavigator(states = {}, language = "en-US") {
  const nav = {
    language,
    states,
    queried: [],
    permissions: {
      async query({ name }) {
        nav.queried.push(name);
        if (!(name in nav.states)) throw new TypeError(`'${name}' is not a valid value for enumeration PermissionName.`);
        return { get state() { return nav.states[name]; } };
      },
    },
  };
  return nav;
}

export const ok = (result) => (req) => ({ id: req.id, ok: true, result });
export const wait = (ms) => new Promise((r) => setTimeout(r, ms));
