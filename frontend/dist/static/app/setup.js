/* The setup page: a config editor with XML highlighting, a template
   gallery, validation through api/validate-config, a live preview of the
   labeling interface (render-label-studio in an iframe srcdoc) and saving
   through api/project/config. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var text = $('config'), hl = $('highlight');
  var editCount = 0, timer = null, seq = 0, valid = false, askedBeforeTemplate = false;

  // Templates shown when the server offers no gallery.
  var BUILTIN = [
    { group: 'Text', title: 'Text classification', config:
      '<View>\n  <Text name="text" value="$text"/>\n  <Choices name="sentiment" toName="text" choice="single" showInline="true">\n    <Choice value="Positive"/>\n    <Choice value="Negative"/>\n    <Choice value="Neutral"/>\n  </Choices>\n</View>\n' },
    { group: 'Text', title: 'Named entities', config:
      '<View>\n  <Labels name="label" toName="text">\n    <Label value="Person" background="#f5a623"/>\n    <Label value="Organization" background="#4a90e2"/>\n    <Label value="Location" background="#7ed321"/>\n  </Labels>\n  <Text name="text" value="$text"/>\n</View>\n' },
    { group: 'Image', title: 'Bounding boxes', config:
      '<View>\n  <Image name="image" value="$image"/>\n  <RectangleLabels name="label" toName="image">\n    <Label value="Cat" background="#d0021b"/>\n    <Label value="Dog" background="#4a90e2"/>\n  </RectangleLabels>\n</View>\n' },
    { group: 'Image', title: 'Polygons', config:
      '<View>\n  <Image name="image" value="$image"/>\n  <PolygonLabels name="label" toName="image" strokeWidth="3" pointSize="small" opacity="0.9">\n    <Label value="Airplane" background="red"/>\n    <Label value="Car" background="blue"/>\n  </PolygonLabels>\n</View>\n' },
    { group: 'Image', title: 'Image classification', config:
      '<View>\n  <Image name="image" value="$image"/>\n  <Choices name="class" toName="image">\n    <Choice value="Cat"/>\n    <Choice value="Dog"/>\n  </Choices>\n</View>\n' },
    { group: 'Audio', title: 'Transcription', config:
      '<View>\n  <Audio name="audio" value="$audio"/>\n  <TextArea name="transcription" toName="audio" rows="3" editable="true"/>\n</View>\n' }
  ];

  // highlight colours XML: comments, tags, attributes, values and $vars.
  function highlight(src) {
    var out = '', re = /(<!--[\s\S]*?(?:-->|$))|(<\/?)([\w:.-]+)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?>|$)/g, last = 0, m;
    var esc = LS.escapeHtml;
    function vars(s) { return esc(s).replace(/\$[\w.-]+/g, function (v) { return '<span class="hl-var">' + v + '</span>'; }); }
    while ((m = re.exec(src)) !== null) {
      if (m[0] === '') { re.lastIndex++; continue; }
      out += vars(src.slice(last, m.index));
      if (m[1] !== undefined) {
        out += '<span class="hl-com">' + esc(m[1]) + '</span>';
      } else {
        out += '<span class="hl-punct">' + esc(m[2]) + '</span><span class="hl-tag">' + esc(m[3]) + '</span>';
        out += m[4].replace(/([\w:.-]+)(\s*=\s*)("[^"]*"|'[^']*')|([^\w]+|[\w:.-]+)/g, function (all, name, eq, val, other) {
          if (name) return '<span class="hl-attr">' + esc(name) + '</span>' + esc(eq) + '<span class="hl-val">' + vars(val) + '</span>';
          return esc(other);
        });
        out += '<span class="hl-punct">' + esc(m[5]) + '</span>';
      }
      last = re.lastIndex;
    }
    return out + vars(src.slice(last)) + '\n';
  }

  function paint() {
    hl.innerHTML = highlight(text.value);
    hl.scrollTop = text.scrollTop;
    hl.scrollLeft = text.scrollLeft;
  }

  function showError(msg) {
    var box = $('config-error');
    box.textContent = msg || '';
    box.classList.toggle('hidden', !msg);
  }

  function setValid(ok) {
    valid = ok;
    $('save').disabled = !ok;
  }

  function form(fields) {
    var f = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { f.append(k, fields[k]); });
    return f;
  }

  // check validates the editor text, then refreshes the preview.
  function check() {
    var mine = ++seq, cfg = text.value;
    if (!cfg.trim()) { showError('The config is empty.'); setValid(false); return Promise.resolve(); }
    return LS.api('POST', 'api/validate-config', form({ label_config: cfg, edit_count: editCount })).then(function (r) {
      if (mine !== seq) return;
      if (r.status === 204 || r.ok) { showError(''); setValid(true); return render(cfg, mine); }
      if (r.status === 400) {
        var d = r.data, msg = d && Array.isArray(d.label_config) ? d.label_config.join('\n') : LS.describe(r);
        showError(msg); setValid(false); return;
      }
      // No validation endpoint: the preview document validates too.
      return render(cfg, mine);
    });
  }

  function render(cfg, mine) {
    return LS.api('POST', 'render-label-studio', form({ config: cfg })).then(function (r) {
      if (mine !== seq) return;
      if (!r.ok) { showError(r.text || LS.describe(r)); setValid(false); return; }
      showError(''); setValid(true);
      var box = $('preview-box');
      var old = document.getElementById('render-editor');
      var frame = LS.el('iframe', { title: 'Interface preview', class: 'preview-frame' });
      frame.style.cssText = 'width:100%;min-height:420px;border:1px solid #d0d7de;border-radius:6px;background:#fff';
      if (old) { old.id = ''; frame.style.position = 'absolute'; frame.style.visibility = 'hidden'; }
      frame.addEventListener('load', function () {
        if (mine !== seq) { frame.remove(); return; }
        document.querySelectorAll('#preview-box iframe').forEach(function (f) { if (f !== frame) f.remove(); });
        frame.id = 'render-editor';
        frame.style.position = ''; frame.style.visibility = '';
        fitFrame(frame);
        showInput(frame);
      });
      frame.srcdoc = r.text;
      box.appendChild(frame);
    });
  }

  function fitFrame(frame) {
    try {
      var doc = frame.contentDocument;
      var h = Math.max(420, doc.documentElement.scrollHeight + 10);
      frame.style.height = Math.min(h, 2000) + 'px';
    } catch (e) { /* not same-origin: keep the default */ }
  }

  function showInput(frame) {
    try {
      var t = frame.contentWindow.LS_PREVIEW_TASK;
      $('input-preview').textContent = t ? JSON.stringify(t.data, null, 2) : '…';
    } catch (e) { $('input-preview').textContent = '…'; }
  }

  // Every 500 ms the preview's current result is shown as JSON.
  setInterval(function () {
    var frame = document.getElementById('render-editor');
    if (!frame) return;
    try {
      var htx = frame.contentWindow.Htx, sel = htx && htx.completionStore && htx.completionStore.selected;
      if (!sel) return;
      var json = JSON.stringify(sel.serializeCompletion(), null, 2);
      if ($('output-preview').textContent !== json) $('output-preview').textContent = json;
      fitFrame(frame);
    } catch (e) { /* the frame is loading */ }
  }, 500);

  function changed() {
    editCount++;
    paint();
    clearTimeout(timer);
    timer = setTimeout(check, 500);
  }

  text.addEventListener('input', changed);
  text.addEventListener('scroll', function () { hl.scrollTop = text.scrollTop; hl.scrollLeft = text.scrollLeft; });
  text.addEventListener('keydown', function (e) {
    if (e.key === 'Tab' && !e.ctrlKey && !e.altKey) {
      e.preventDefault();
      var s = text.selectionStart, en = text.selectionEnd, v = text.value;
      var lineStart = v.lastIndexOf('\n', s - 1) + 1;
      if (e.shiftKey) {
        if (v.substr(lineStart, 2) === '  ') {
          text.value = v.slice(0, lineStart) + v.slice(lineStart + 2);
          text.selectionStart = text.selectionEnd = Math.max(lineStart, s - 2);
        }
      } else {
        text.value = v.slice(0, s) + '  ' + v.slice(en);
        text.selectionStart = text.selectionEnd = s + 2;
      }
      changed();
    }
  });

  function save() {
    if (!valid) return;
    var cfg = text.value;
    var fields = { label_config: cfg };
    // The revision this editor started from: the server refuses the save
    // (409) when somebody else saved the config in the meantime.
    if (revision !== null) fields.revision = String(revision);
    LS.api('POST', 'api/project/config', form(fields)).then(function (r) {
      if (r.status === 409 && r.data && r.data.revision !== undefined) {
        return LS.modal('The config was changed meanwhile',
          'Somebody saved another config while you were editing. Your text stays in the editor; ' +
          '"Keep mine" saves it over theirs, "Load theirs" replaces the editor with their version.',
          [{ label: 'Load theirs', value: 'theirs' }, { label: 'Keep mine', value: 'mine', primary: true }]).then(function (choice) {
          revision = r.data.revision;
          if (choice === 'mine') return save();
          if (choice === 'theirs') { text.value = r.data.current; changed(); }
        });
      }
      if (r.status === 201 || r.ok) {
        if (revision !== null) revision++;
        return LS.api('GET', 'api/project/?rnd=' + Date.now()).then(function (p) {
          var hasTasks = p.ok && p.data && p.data.task_count > 0;
          var buttons = [{ label: 'Import tasks', href: 'import' }];
          if (hasTasks) buttons.push({ label: 'Explore tasks', href: 'tasks' }, { label: 'Start labeling', href: '.', primary: true });
          buttons.push({ label: 'Close', value: true, primary: !hasTasks });
          return LS.modal('Label config saved!', 'The project uses the new config from now on.', buttons);
        });
      }
      var msg = r.data && r.data.label_config ? JSON.stringify(r.data.label_config, null, 2) : LS.describe(r);
      return LS.modal('The config was not saved', msg);
    });
  }
  $('save').addEventListener('click', save);
  document.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'S')) { e.preventDefault(); save(); }
  });

  // Templates: the server's gallery when it has one, else the built-in list.
  function useTemplate(t) {
    var go = function () {
      var cfg = t.config || '', readme = '';
      var m = /<!--\s*readme([\s\S]*?)-->\s*/i.exec(cfg);
      if (m) { readme = m[1].trim(); cfg = cfg.slice(0, m.index) + cfg.slice(m.index + m[0].length); }
      cfg = cfg.replace(/^\s*<!--\s*\{[\s\S]*?\}\s*-->\s*\n?/, '');
      $('templates-box').classList.add('hidden');
      $('templates-toggle').setAttribute('aria-expanded', 'false');
      $('readme').textContent = readme;
      $('readme-box').classList.toggle('hidden', !readme);
      text.value = cfg.trim() + '\n';
      changed();
      clearTimeout(timer);
      check();
    };
    if (askedBeforeTemplate || !text.value.trim()) { go(); return; }
    LS.confirm('Replace the config?', 'The editor text is replaced by the template "' + t.title + '".', 'Replace').then(function (ok) {
      if (ok) { askedBeforeTemplate = true; go(); }
    });
  }

  function showTemplates(list, note) {
    var box = $('templates');
    box.textContent = '';
    $('templates-note').textContent = note ? ' · ' + note : '';
    var groups = {};
    var order = [];
    list.forEach(function (t) {
      var g = (t.complexity ? t.complexity.charAt(0).toUpperCase() + t.complexity.slice(1) + ' · ' : '') + (t.group || 'other');
      if (!groups[g]) { groups[g] = []; order.push(g); }
      groups[g].push(t);
    });
    order.forEach(function (g) {
      box.appendChild(LS.el('h3', { text: g }));
      groups[g].forEach(function (t) {
        box.appendChild(LS.el('button', { type: 'button', text: t.title || t.name, 'data-template': t.name || t.title, onclick: function () { useTemplate(t); } }));
      });
    });
  }

  function loadTemplates() {
    return LS.api('GET', 'api/templates').then(function (r) {
      if (r.ok && Array.isArray(r.data) && r.data.length) showTemplates(r.data, r.data.length + ' templates');
      else showTemplates(BUILTIN, 'a few starting points');
    });
  }

  $('templates-toggle').addEventListener('click', function () {
    var box = $('templates-box');
    box.classList.toggle('hidden');
    $('templates-toggle').setAttribute('aria-expanded', String(!box.classList.contains('hidden')));
  });

  text.value = LS.page.config || '';
  var revision = typeof LS.page.config_revision === 'number' ? LS.page.config_revision : null;
  paint();
  loadTemplates();
  check();
})();
