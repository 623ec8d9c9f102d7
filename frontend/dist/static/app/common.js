/* Helpers shared by labelstudio's pages: API calls, error texts, toasts,
   dialogs and a busy overlay. Exposed as window.LS. No dependencies. */
(function () {
  'use strict';

  // api sends one request and never rejects: it resolves to
  // {status, ok, data (parsed JSON or null), text, headers}. status 0 means
  // the server could not be reached.
  function api(method, url, body, opts) {
    opts = opts || {};
    var init = { method: method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (body instanceof FormData || body instanceof URLSearchParams) {
      init.body = body;
    } else if (body !== undefined && body !== null) {
      init.headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
        return { status: res.status, ok: res.ok, data: data, text: text, headers: res.headers };
      });
    }, function (err) {
      return { status: 0, ok: false, data: null, text: String((err && err.message) || err), headers: null };
    });
  }

  // describe turns a failed answer into one line a person can read,
  // preferring the server's own "detail".
  function describe(r) {
    if (!r) return 'no answer';
    if (r.status === 0) return 'the server cannot be reached (' + r.text + ')';
    var d = r.data, msg = '';
    if (d && typeof d === 'object' && !Array.isArray(d)) {
      if (d.detail) msg = String(d.detail);
      else if (Array.isArray(d.label_config)) msg = d.label_config.join('\n');
      else if (d.msg) msg = String(d.msg);
      else if (d.errors) msg = JSON.stringify(d.errors);
    } else if (Array.isArray(d)) {
      msg = d.join('\n');
    } else if (typeof d === 'string') {
      msg = d;
    }
    if (!msg) msg = (r.text || '').trim().slice(0, 500) || ('HTTP ' + r.status);
    return r.status + ': ' + msg;
  }

  function escapeHtml(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'html') e.innerHTML = v;
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
        else if (k === 'class') e.className = v;
        else e.setAttribute(k, v === true ? '' : v);
      });
    }
    (children || []).forEach(function (c) {
      if (c == null) return;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }

  function toast(text, kind, ms) {
    var box = document.getElementById('toasts');
    if (!box) { box = el('div', { id: 'toasts' }); document.body.appendChild(box); }
    var t = el('div', { class: 'toast ' + (kind || ''), role: kind === 'error' ? 'alert' : 'status', text: text });
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, ms || (kind === 'error' ? 9000 : 4000));
    return t;
  }

  // modal shows a dialog; buttons are [{label, value, primary, danger}].
  // It resolves to the value of the button pressed (undefined on Escape).
  function modal(title, body, buttons) {
    return new Promise(function (resolve) {
      var back = el('div', { class: 'modal-back' });
      var box = el('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': title });
      box.appendChild(el('h2', { text: title }));
      if (typeof body === 'string') box.appendChild(el('div', { class: 'modal-body', text: body, style: 'white-space: pre-wrap' }));
      else if (body) box.appendChild(body);
      var row = el('div', { class: 'buttons' });
      function close(v) { document.removeEventListener('keydown', onKey, true); back.remove(); resolve(v); }
      function onKey(e) { if (e.key === 'Escape') { e.stopPropagation(); close(undefined); } }
      (buttons || [{ label: 'Close', value: true, primary: true }]).forEach(function (b) {
        var btn = el('button', { type: 'button', class: 'btn' + (b.primary ? ' primary' : '') + (b.danger ? ' danger' : ''), text: b.label });
        if (b.href) {
          btn = el('a', { class: btn.className, href: b.href, text: b.label });
        } else {
          btn.addEventListener('click', function () { close(b.value); });
        }
        row.appendChild(btn);
      });
      box.appendChild(row);
      back.appendChild(box);
      back.addEventListener('click', function (e) { if (e.target === back) close(undefined); });
      document.addEventListener('keydown', onKey, true);
      document.body.appendChild(back);
      var primary = row.querySelector('.primary') || row.querySelector('button');
      if (primary) primary.focus();
    });
  }

  function confirmAction(title, text, okLabel) {
    return modal(title, text, [
      { label: 'Cancel', value: false },
      { label: okLabel || 'OK', value: true, primary: true, danger: true }
    ]).then(function (v) { return v === true; });
  }

  // busy shows a blocking overlay; the returned object sets the progress
  // (0..1, or null for a spinner) and closes it.
  function busy(text) {
    var bar = el('div');
    var prog = el('div', { class: 'progress hidden' }, [bar]);
    var label = el('div', { text: text });
    var spin = el('div', { class: 'spinner' });
    var o = el('div', { class: 'busy', role: 'status' }, [el('div', { class: 'box' }, [spin, label, prog])]);
    document.body.appendChild(o);
    return {
      text: function (t) { label.textContent = t; },
      progress: function (f) {
        if (f == null) { prog.classList.add('hidden'); spin.classList.remove('hidden'); return; }
        prog.classList.remove('hidden'); spin.classList.add('hidden');
        bar.style.width = Math.max(0, Math.min(100, f * 100)).toFixed(1) + '%';
      },
      close: function () { o.remove(); }
    };
  }

  // typing tells whether a key event comes from a text field, where page
  // hotkeys must not fire.
  function typing(e) {
    var t = e.target;
    if (!t || !t.tagName) return false;
    var tag = t.tagName.toLowerCase();
    return tag === 'input' || tag === 'textarea' || tag === 'select' || t.isContentEditable;
  }

  function fmt(n) { return Number(n || 0).toLocaleString('en-US'); }

  window.LS = {
    api: api, describe: describe, escapeHtml: escapeHtml, el: el, toast: toast, modal: modal,
    confirm: confirmAction, busy: busy, typing: typing, fmt: fmt,
    project: window.LS_PROJECT || {}, page: window.LS_PAGE || {}
  };
})();
