/* The export page: the formats the project offers, and the download of
   api/project/export?format=F under the name of the "filename" header. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var DESCRIPTIONS = {
    JSON: 'All tasks with their completions, as the labeling API stores them.',
    JSON_MIN: 'One flat object per completed task: data keys plus one key per control tag.',
    CSV: 'One row per completed task, results as columns.',
    TSV: 'CSV with tab separators.',
    CONLL2003: 'Token-level named entity tags (text labeling only).',
    COCO: 'Boxes in the COCO object detection format, with the images.',
    VOC: 'Boxes in the Pascal VOC XML format, with the images.',
    BRUSH_TO_NUMPY: 'Brush masks as NumPy arrays.',
    BRUSH_TO_PNG: 'Brush masks as PNG images.'
  };
  var DEFAULT = ['JSON', 'JSON_MIN', 'CSV', 'TSV', 'CONLL2003', 'COCO', 'VOC'];

  function formats() {
    var list = LS.project.export_formats;
    if (!Array.isArray(list) || !list.length) return DEFAULT.map(function (f) { return { name: f }; });
    return list.map(function (f) {
      if (typeof f === 'string') return { name: f };
      return { name: f.name || f.format || f.id, title: f.title, description: f.description, disabled: f.disabled === true };
    }).filter(function (f) { return f.name; });
  }

  var box = $('formats');
  formats().forEach(function (f, i) {
    var input = LS.el('input', { type: 'radio', name: 'format', value: f.name, checked: i === 0, disabled: f.disabled });
    box.appendChild(LS.el('label', {}, [input, LS.el('span', {}, [
      LS.el('b', { text: f.title || f.name }), LS.el('br'),
      LS.el('span', { class: 'muted', text: f.description || DESCRIPTIONS[f.name] || '' })
    ])]));
  });

  function chosen() {
    var r = document.querySelector('input[name=format]:checked');
    return r ? r.value : '';
  }

  function filenameOf(xhr, format) {
    var name = xhr.getResponseHeader('filename');
    if (!name) {
      var cd = xhr.getResponseHeader('Content-Disposition') || '';
      var m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
      if (m) name = decodeURIComponent(m[1]);
    }
    return name || ('export-' + format.toLowerCase() + '.zip');
  }

  function doExport() {
    var format = chosen();
    if (!format) return;
    var out = $('export-result');
    out.textContent = '';
    var b = LS.busy('Creating the export file…');
    var xhr = new XMLHttpRequest();
    xhr.open('GET', 'api/project/export?format=' + encodeURIComponent(format));
    xhr.responseType = 'blob';
    xhr.onload = function () {
      b.close();
      if (xhr.status === 200) {
        var name = filenameOf(xhr, format);
        var url = URL.createObjectURL(xhr.response);
        var a = LS.el('a', { href: url, download: name });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        out.appendChild(LS.el('div', { class: 'msg ok', role: 'status', text: 'Downloaded ' + name + ' (' + LS.fmt(xhr.response.size) + ' bytes)' }));
        return;
      }
      xhr.response.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { data = null; }
        out.appendChild(LS.el('div', { class: 'msg error', role: 'alert', id: 'export-error',
          text: 'The export failed: ' + LS.describe({ status: xhr.status, data: data, text: text }) }));
      });
    };
    xhr.onerror = function () {
      b.close();
      out.appendChild(LS.el('div', { class: 'msg error', role: 'alert', text: 'The export failed: the server cannot be reached' }));
    };
    xhr.send();
  }

  $('export').addEventListener('click', doExport);
  document.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); doExport(); }
  });
  var total = LS.project.completion_count || 0;
  $('export-note').textContent = LS.fmt(total) + ' of ' + LS.fmt(LS.project.task_count || 0) + ' tasks have completions';
})();
