/* The model page: the project's ML backends with their state
   (api/models/status, else the plain list of api/models), adding one
   (PATCH api/project), removing one, training, and predicting all tasks
   with a progress bar. Every failure shows the server's message. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var STATUS_TEXT = {
    connected: 'Connected', disconnected: 'Disconnected', training: 'Training in progress…', error: 'Error'
  };

  function message(kind, text) {
    var box = $('model-msg');
    box.textContent = '';
    if (text) box.appendChild(LS.el('div', { class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status', text: text }));
  }

  function card(m) {
    var status = m.training ? 'training' : (m.status || (m.connected ? 'connected' : 'disconnected'));
    var version = m.model_version ? 'Model version: ' + (m.model_version_date || m.model_version) : 'Model is not trained.';
    var state = LS.el('span', { class: 'badge ' + (status === 'connected' ? 'done' : status === 'training' ? 'skip' : 'todo'), text: STATUS_TEXT[status] || status });
    var details = null;
    if (m.error || m.last_error) {
      details = LS.el('button', { class: 'btn link small', type: 'button', text: 'details', onclick: function () {
        LS.modal('Backend "' + m.name + '"', (m.error || '') + (m.last_error && m.last_error !== m.error ? '\nLast error' + (m.last_error_at ? ' (' + m.last_error_at + ')' : '') + ': ' + m.last_error : ''));
      } });
    }
    return LS.el('div', { class: 'card backend', style: 'margin-bottom:8px', 'data-name': m.name }, [
      LS.el('div', { class: 'grow' }, [
        LS.el('div', { class: 'name', text: (m.model_dir ? m.model_dir + ' > ' : '') + m.name }),
        m.url ? LS.el('div', { class: 'muted', text: m.url }) : null,
        LS.el('div', { class: 'muted', text: version })
      ]),
      state, details,
      LS.el('button', { class: 'btn small danger', type: 'button', text: 'Remove', onclick: function () { remove(m.name); } })
    ]);
  }

  function show(list) {
    var box = $('backends');
    box.textContent = '';
    if (!list.length) box.appendChild(LS.el('p', { class: 'muted', text: 'No connected ML backends.' }));
    list.forEach(function (m) { box.appendChild(card(m)); });
    $('model-actions').classList.toggle('hidden', !list.length);
    document.body.setAttribute('data-backends', String(list.length));
  }

  function load() {
    return LS.api('GET', 'api/models/status').then(function (r) {
      if (r.ok && r.data && Array.isArray(r.data.models)) { show(r.data.models); return; }
      return LS.api('GET', 'api/models').then(function (r2) {
        if (!r2.ok || !r2.data || !Array.isArray(r2.data.models)) {
          $('backends').textContent = '';
          $('backends').appendChild(LS.el('div', { class: 'msg warn', text: 'The list of backends is not available: ' + LS.describe(r2) }));
          $('model-actions').classList.add('hidden');
          return;
        }
        show(r2.data.models.map(function (n) { return { name: n }; }));
      });
    });
  }

  function remove(name) {
    LS.confirm('Remove the backend "' + name + '"?', 'The project stops asking it for predictions.', 'Remove').then(function (ok) {
      if (!ok) return;
      LS.api('DELETE', 'api/models', { name: name }).then(function (r) {
        if (!r.ok) message('error', 'The backend was not removed: ' + LS.describe(r));
        else message('ok', 'Backend "' + name + '" removed.');
        load();
      });
    });
  }

  function add() {
    var url = $('backend-url').value.trim();
    if (!url) { $('backend-url').focus(); return; }
    var b = LS.busy('Connecting to ' + url + '…');
    LS.api('PATCH', 'api/project/', { ml_backend: url }).then(function (r) {
      b.close();
      if (!r.ok) { message('error', 'The backend was not added: ' + LS.describe(r)); return; }
      message('ok', 'Backend added.');
      $('backend-url').value = '';
      load();
    });
  }

  function train() {
    LS.api('POST', 'api/models/train').then(function (r) {
      if (!r.ok) message('error', 'Training did not start: ' + LS.describe(r));
      else message('ok', (r.data && (r.data.details || r.data.detail)) || 'Training started.');
      load();
    });
  }

  // predictAll starts predictions for every task and follows their progress.
  function predictAll() {
    var b = LS.busy('Predicting all tasks…');
    LS.api('POST', 'api/models/predictions?mode=all_tasks&async=1').then(function (r) {
      if (!r.ok) { b.close(); message('error', 'Predictions failed: ' + LS.describe(r)); return; }
      if (r.status !== 202) { b.close(); message('ok', (r.data && (r.data.details || r.data.detail)) || 'Predictions are ready.'); return; }
      (function poll() {
        LS.api('GET', 'api/models/predictions/status').then(function (s) {
          var st = s.data || {};
          if (st.total) { b.progress(st.processed / st.total); b.text('Predicting all tasks… ' + LS.fmt(st.processed) + ' of ' + LS.fmt(st.total)); }
          if (s.ok && (st.state === 'running' || st.state === 'preparing')) { setTimeout(poll, 500); return; }
          b.close();
          if (!s.ok || st.state !== 'done') {
            message('error', 'Predictions failed: ' + (s.ok ? (st.errors || []).join('; ') || st.state : LS.describe(s)));
            return;
          }
          message('ok', 'Predictions are ready: ' + LS.fmt(st.predicted) + ' of ' + LS.fmt(st.total) + ' tasks got new predictions' +
            (st.backend_errors ? ', ' + LS.fmt(st.backend_errors) + ' backend errors' : '') + '.');
        });
      })();
    });
  }

  $('add-backend').addEventListener('click', add);
  $('backend-url').addEventListener('keydown', function (e) { if (e.key === 'Enter') add(); });
  $('train').addEventListener('click', train);
  $('predict').addEventListener('click', predictAll);
  load();
})();
