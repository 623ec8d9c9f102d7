/* The model page: the project's ML backends (api/models), adding one
   (PATCH api/project), removing one, training and predicting all tasks.
   Every failure shows the server's message. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };

  function message(kind, text) {
    var box = $('model-msg');
    box.textContent = '';
    if (text) box.appendChild(LS.el('div', { class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status', text: text }));
  }

  function load() {
    return LS.api('GET', 'api/models').then(function (r) {
      var box = $('backends');
      box.textContent = '';
      if (!r.ok || !r.data || !Array.isArray(r.data.models)) {
        box.appendChild(LS.el('div', { class: 'msg warn', text: 'The list of backends is not available: ' + LS.describe(r) }));
        $('model-actions').classList.add('hidden');
        return;
      }
      var models = r.data.models;
      if (!models.length) {
        box.appendChild(LS.el('p', { class: 'muted', text: 'No connected ML backends.' }));
      }
      models.forEach(function (name) {
        box.appendChild(LS.el('div', { class: 'card backend', style: 'margin-bottom:8px' }, [
          LS.el('span', { class: 'name grow', text: name }),
          LS.el('button', { class: 'btn small danger', type: 'button', text: 'Remove', onclick: function () { remove(name); } })
        ]));
      });
      $('model-actions').classList.toggle('hidden', !models.length);
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

  $('add-backend').addEventListener('click', add);
  $('backend-url').addEventListener('keydown', function (e) { if (e.key === 'Enter') add(); });
  $('train').addEventListener('click', function () {
    LS.api('POST', 'api/models/train').then(function (r) {
      if (!r.ok) message('error', 'Training did not start: ' + LS.describe(r));
      else message('ok', (r.data && (r.data.details || r.data.detail)) || 'Training started.');
    });
  });
  $('predict').addEventListener('click', function () {
    var b = LS.busy('Predicting all tasks…');
    LS.api('POST', 'api/models/predictions?mode=all_tasks').then(function (r) {
      b.close();
      if (!r.ok) message('error', 'Predictions failed: ' + LS.describe(r));
      else message('ok', (r.data && (r.data.details || r.data.detail)) || 'Predictions are ready.');
    });
  });
  load();
})();
