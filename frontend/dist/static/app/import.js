/* The import page: files and folders by drag and drop or pickers, sent as
   multipart parts named after the files, with upload progress; pasted JSON,
   CSV or a URL; and the server's answer: counts, or its list of errors. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var MAX_FILE = 250 * 1024 * 1024;
  var keys = Object.keys(LS.project.data_types || {});
  $('data-keys').textContent = keys.length ? keys.map(function (k) { return '"' + k + '"'; }).join(', ') : 'none';

  function showResult(status, data, text) {
    var box = $('result');
    box.textContent = '';
    if (status === 201 && data) {
      var d = data;
      box.appendChild(LS.el('div', { class: 'msg ok', role: 'status' }, [
        LS.el('b', { text: 'Imported. ' }),
        'Tasks created: ' + LS.fmt(d.task_count) + ' · Completions created: ' + LS.fmt(d.completion_count) +
        ' · Predictions created: ' + LS.fmt(d.prediction_count) + ' · Duration: ' + Number(d.duration || 0).toFixed(2) + ' sec'
      ]));
      box.appendChild(LS.el('div', { class: 'row' }, [
        LS.el('a', { class: 'btn primary', href: '.', text: 'Start labeling' }),
        LS.el('a', { class: 'btn', href: 'tasks', text: 'Explore tasks' })
      ]));
      return;
    }
    var list = null;
    if (Array.isArray(data)) list = data;
    else if (data && typeof data === 'object' && data.detail) list = [String(data.detail)];
    else if (typeof data === 'string') list = [data];
    box.appendChild(LS.el('div', { class: 'msg error', role: 'alert', text: list ?
      "Error: can't upload/process file on server side. Reasons:" :
      'Critical error (HTTP ' + status + '): ' + (text || 'no answer').slice(0, 400) }));
    if (list) {
      var ul = LS.el('ul', { class: 'errors', id: 'import-errors' });
      list.forEach(function (m) {
        var s = String(m), i = s.indexOf('::');
        var li = LS.el('li', {}, [LS.el('div', { text: (i >= 0 ? s.slice(0, i) : s).trim() })]);
        if (i >= 0) li.appendChild(LS.el('pre', { text: s.slice(i + 2).trim() }));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
  }

  // upload sends files with XMLHttpRequest, for its upload progress.
  function upload(files, dropped) {
    files = files.filter(function (f) { return f && f.name && f.name.charAt(0) !== '.'; });
    if (!files.length) { LS.toast('No files to import', 'error'); return; }
    var big = files.filter(function (f) { return f.size > MAX_FILE; });
    if (big.length) {
      showResult(400, big.map(function (f) { return f.name + ' is larger than 250 MB :: ' + LS.fmt(f.size) + ' bytes'; }));
      return;
    }
    $('result').textContent = '';
    var total = files.reduce(function (a, f) { return a + f.size; }, 0);
    var fd = new FormData();
    files.forEach(function (f) { fd.append(f.name, f, f.name); });
    var b = LS.busy('Uploading ' + files.length + ' file' + (files.length > 1 ? 's' : '') + ' (' + LS.fmt(Math.ceil(total / 1024)) + ' KB)…');
    b.progress(0);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', 'api/project/import' + (dropped ? '?drag=1' : ''));
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) b.progress(e.loaded / e.total);
      if (e.loaded >= e.total) { b.text('Importing…'); b.progress(null); }
    };
    xhr.onload = function () {
      b.close();
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      showResult(xhr.status, data, xhr.responseText);
    };
    xhr.onerror = function () { b.close(); showResult(0, null, 'the server cannot be reached'); };
    xhr.send(fd);
  }

  // Folders dropped on the page are walked recursively.
  function walk(entry, out) {
    if (!entry || entry.name.charAt(0) === '.') return Promise.resolve();
    if (entry.isFile) {
      return new Promise(function (res) { entry.file(function (f) { out.push(f); res(); }, function () { res(); }); });
    }
    if (!entry.isDirectory) return Promise.resolve();
    var reader = entry.createReader();
    return new Promise(function (res) {
      var all = [];
      (function more() {
        reader.readEntries(function (batch) {
          if (!batch.length) { Promise.all(all.map(function (e) { return walk(e, out); })).then(res); return; }
          all = all.concat(Array.prototype.slice.call(batch));
          more();
        }, function () { res(); });
      })();
    });
  }

  var zone = $('dropzone');
  ['dragenter', 'dragover'].forEach(function (ev) {
    zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add('over'); });
  });
  ['dragleave', 'drop'].forEach(function (ev) {
    zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove('over'); });
  });
  document.addEventListener('dragover', function (e) { e.preventDefault(); });
  document.addEventListener('drop', function (e) { if (!zone.contains(e.target)) e.preventDefault(); });
  zone.addEventListener('drop', function (e) {
    var items = e.dataTransfer.items, out = [];
    var files = Array.prototype.slice.call(e.dataTransfer.files || []);
    var entries = items && items.length && items[0].webkitGetAsEntry ?
      Array.prototype.map.call(items, function (it) { return it.kind === 'file' ? it.webkitGetAsEntry() : null; }).filter(Boolean) : [];
    if (!entries.length) { upload(files, true); return; }
    // Entries reach into dropped folders; plain files are kept as dropped.
    Promise.all(entries.map(function (en) { return walk(en, out); })).then(function () { upload(out.length ? out : files, true); });
  });
  zone.addEventListener('click', function (e) { if (!e.target.closest('button')) $('files').click(); });
  zone.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('files').click(); } });
  $('pick-files').addEventListener('click', function () { $('files').click(); });
  $('pick-folder').addEventListener('click', function () { $('folder').click(); });
  $('files').addEventListener('change', function () { upload(Array.prototype.slice.call($('files').files)); $('files').value = ''; });
  $('folder').addEventListener('change', function () { upload(Array.prototype.slice.call($('folder').files)); $('folder').value = ''; });

  // kind tells what the pasted text is: json, url or a table.
  function kind(t) {
    t = t.trim();
    if (!t) return '';
    if (/^[\[{]/.test(t)) { try { JSON.parse(t); return 'json'; } catch (e) { return 'bad-json'; } }
    if (!/\s/.test(t) && /^(https?:\/\/|\/|[\w.-]+\.\w+\/)/i.test(t)) return 'url';
    return t.indexOf('\t') >= 0 && t.split('\n')[0].indexOf(',') < 0 ? 'tsv' : 'csv';
  }
  var KIND_TEXT = { json: 'JSON', url: 'a URL to download', csv: 'CSV with a header row', tsv: 'TSV with a header row', 'bad-json': 'JSON with a syntax error' };
  $('paste').addEventListener('input', function () { $('paste-kind').textContent = KIND_TEXT[kind($('paste').value)] || ''; });

  function importText() {
    var t = $('paste').value, k = kind(t);
    if (!k) { LS.toast('Paste JSON, CSV or a URL first', 'error'); return; }
    if (k === 'bad-json') {
      try { JSON.parse(t.trim()); } catch (e) { showResult(400, ['The text is not valid JSON :: ' + e.message]); }
      return;
    }
    if (k === 'csv' || k === 'tsv') {
      upload([new File([t.trim() + '\n'], 'pasted.' + k, { type: 'text/' + (k === 'csv' ? 'csv' : 'tab-separated-values') })]);
      return;
    }
    $('result').textContent = '';
    var b = LS.busy('Importing…');
    var req = k === 'json' ? LS.api('POST', 'api/project/import', t.trim()) :
      LS.api('POST', 'api/project/import', new URLSearchParams({ url: t.trim() }));
    req.then(function (r) { b.close(); showResult(r.status, r.data, r.text); });
  }
  $('import-text').addEventListener('click', importText);
  $('paste').addEventListener('keydown', function (e) { if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); importText(); } });

  $('sample-task').addEventListener('click', function () {
    LS.api('GET', 'api/import-example-file?q=json&raw=1').then(function (r) {
      if (!r.ok || !Array.isArray(r.data) || !r.data.length) { showResult(r.status || 400, ['No sample task for this config :: ' + LS.describe(r)]); return; }
      return LS.api('POST', 'api/project/import?sample_task=1', [r.data[0]]).then(function (res) {
        if (res.status === 201) { location.href = 'tasks'; return; }
        showResult(res.status, res.data, res.text);
      });
    });
  });
})();
