/* The tasks page: counters, progress, a chart of completions per day, and
   the paged task table with ordering, a search over the loaded page and
   deletions. State (page, page size, order) lives in the address bar and in
   localStorage. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var ORDERS = ['id', '-id', 'completed_at', '-completed_at', 'has_cancelled_completions', '-has_cancelled_completions'];
  var SIZES = [10, 30, 50, 100];
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem('ls:tasks') || '{}') || {}; } catch (e) { saved = {}; }
  var q = new URLSearchParams(location.search);
  var state = {
    page: Math.max(1, parseInt(q.get('page') || saved.page || '1', 10) || 1),
    size: parseInt(q.get('page_size') || saved.size || '10', 10) || 10,
    order: q.get('order') || saved.order || 'id'
  };
  if (ORDERS.indexOf(state.order) < 0) state.order = 'id';
  if (SIZES.indexOf(state.size) < 0) SIZES.push(state.size);
  var project = LS.project;
  var rows = [];
  var selected = -1;
  var loading = false;

  function persist() {
    try { localStorage.setItem('ls:tasks', JSON.stringify(state)); } catch (e) { /* private mode */ }
    var u = new URL(location.href);
    u.searchParams.set('page', state.page);
    u.searchParams.set('page_size', state.size);
    u.searchParams.set('order', state.order);
    history.replaceState(null, '', u.pathname + u.search);
  }

  function pageCount() { return Math.max(1, Math.ceil((project.task_count || 0) / state.size)); }

  // Counters and the progress bar.
  function showStats(skipped) {
    var total = project.task_count || 0, completed = project.completion_count || 0;
    var labeled = Math.max(0, completed - (skipped || 0));
    $('stat-tasks').textContent = LS.fmt(total);
    $('stat-done').textContent = LS.fmt(labeled);
    $('stat-skipped').textContent = skipped === null ? '…' : LS.fmt(skipped);
    $('stat-left').textContent = LS.fmt(Math.max(0, total - completed));
    var bar = $('progressbar');
    var pd = total ? labeled / total * 100 : 0, ps = total ? (skipped || 0) / total * 100 : 0;
    bar.children[0].style.width = pd + '%';
    bar.children[1].style.width = ps + '%';
    $('progress-pct').textContent = total ? ' ' + Math.round((pd + ps) * 10) / 10 + '% done' : '';
  }

  function loadProject() {
    return LS.api('GET', 'api/project/?rnd=' + Date.now()).then(function (r) {
      if (r.ok && r.data) project = r.data;
    });
  }

  // countSkipped pages through the tasks ordered by skip count until the
  // first task that has none.
  function countSkipped() {
    var n = 0, pageNo = 1, size = 1000;
    function step() {
      return LS.api('GET', 'api/tasks/?order=-has_cancelled_completions&fields=id,has_cancelled_completions&page_size=' + size + '&page=' + pageNo).then(function (r) {
        if (!r.ok || !Array.isArray(r.data)) return n;
        for (var i = 0; i < r.data.length; i++) {
          if (!(r.data[i] && r.data[i].has_cancelled_completions > 0)) return n;
          n++;
        }
        if (r.data.length < size || pageNo >= 200) return n;
        pageNo++;
        return step();
      });
    }
    return step();
  }

  // The chart counts the most recent completions per day (last 14 days).
  function drawChart() {
    var days = 14, size = 1000, maxPages = 10, counts = {};
    var today = new Date(); today.setHours(0, 0, 0, 0);
    var first = new Date(today.getTime() - (days - 1) * 864e5);
    function key(d) { return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0'); }
    function step(pageNo) {
      return LS.api('GET', 'api/tasks/?order=-completed_at&fields=id,completed_at&page_size=' + size + '&page=' + pageNo).then(function (r) {
        if (!r.ok || !Array.isArray(r.data)) return;
        for (var i = 0; i < r.data.length; i++) {
          var at = r.data[i] && r.data[i].completed_at;
          if (!at) return; // uncompleted tasks come last
          if (at === 'undefined') continue;
          var day = at.slice(0, 10);
          if (day < key(first)) return;
          counts[day] = (counts[day] || 0) + 1;
        }
        if (r.data.length === size && pageNo < maxPages) return step(pageNo + 1);
      });
    }
    return step(1).then(function () {
      var chart = $('chart'), axis = $('chart-axis'), max = 0, list = [];
      for (var d = 0; d < days; d++) {
        var day = new Date(first.getTime() + d * 864e5), k = key(day);
        list.push([k, counts[k] || 0]);
        max = Math.max(max, counts[k] || 0);
      }
      chart.textContent = '';
      list.forEach(function (e) {
        chart.appendChild(LS.el('div', { class: 'bar', title: e[0] + ': ' + e[1] + ' completed', style: 'height:' + (max ? e[1] / max * 100 : 0) + '%', 'data-day': e[0], 'data-count': e[1] }));
      });
      axis.textContent = '';
      axis.appendChild(LS.el('span', { text: list[0][0] }));
      axis.appendChild(LS.el('span', { text: list[list.length - 1][0] }));
      var total = list.reduce(function (a, e) { return a + e[1]; }, 0);
      $('chart-note').textContent = ' · ' + LS.fmt(total) + ' in the last ' + days + ' days';
    });
  }

  // preview shows a task's data: images as thumbnails, the rest as text.
  function preview(data, needle) {
    var box = LS.el('div');
    if (!data || typeof data !== 'object') { box.textContent = String(data); return box; }
    Object.keys(data).forEach(function (k) {
      var v = data[k];
      var line = LS.el('div');
      line.appendChild(LS.el('span', { class: 'muted', text: k + ': ' }));
      if (typeof v === 'string' && /\.(jpe?g|png|gif|bmp|webp|svg)(\?.*)?$/i.test(v)) {
        line.appendChild(LS.el('img', { src: v, alt: '', loading: 'lazy' }));
        line.appendChild(LS.el('span', { class: 'muted', text: v }));
      } else {
        var text = typeof v === 'string' ? v : JSON.stringify(v);
        if (text.length > 400) text = text.slice(0, 400) + '…';
        appendMarked(line, text, needle);
      }
      box.appendChild(line);
    });
    return box;
  }

  function appendMarked(parent, text, needle) {
    if (!needle) { parent.appendChild(document.createTextNode(text)); return; }
    var low = text.toLowerCase(), at = 0, i;
    while ((i = low.indexOf(needle, at)) >= 0) {
      parent.appendChild(document.createTextNode(text.slice(at, i)));
      parent.appendChild(LS.el('mark', { text: text.slice(i, i + needle.length) }));
      at = i + needle.length;
    }
    parent.appendChild(document.createTextNode(text.slice(at)));
  }

  function status(t) {
    var n = (t.completions || []).length;
    if (!('completed_at' in t) && !n) return LS.el('span', { class: 'badge todo', text: 'to do' });
    var span = LS.el('span');
    var skipped = t.has_cancelled_completions || 0;
    if (n > skipped) span.appendChild(LS.el('span', { class: 'badge done', text: n - skipped > 1 ? (n - skipped) + ' completions' : 'labeled' }));
    if (skipped) span.appendChild(LS.el('span', { class: 'badge skip', text: 'skipped' + (skipped > 1 ? ' ×' + skipped : '') }));
    return span;
  }

  function renderRows() {
    var needle = $('search').value.trim().toLowerCase();
    var body = document.querySelector('#tasks tbody');
    body.textContent = '';
    var shown = 0;
    rows.forEach(function (t, i) {
      if (!t) {
        body.appendChild(LS.el('tr', {}, [LS.el('td', { colspan: 5, text: 'broken task: the server returned null for this row' })]));
        return;
      }
      if (needle && JSON.stringify(t.data || {}).toLowerCase().indexOf(needle) < 0) return;
      shown++;
      var actions = LS.el('td', { class: 'actions' }, [
        LS.el('a', { class: 'btn small', href: '?task_id=' + t.id, title: 'Open in the labeling page', text: 'Label' }), ' ',
        LS.el('a', { class: 'btn small', href: 'api/tasks/' + t.id + '/?pretty=1', target: '_blank', title: 'Show the JSON', text: 'JSON' }), ' ',
        (t.completions || []).length && project.can_manage_completions !== false ?
          LS.el('button', { class: 'btn small danger', type: 'button', title: 'Delete the completions of this task', text: 'Clear', onclick: function () { deleteCompletions(t.id); } }) : null, ' ',
        project.can_delete_tasks !== false ?
          LS.el('button', { class: 'btn small danger', type: 'button', title: 'Delete this task', text: 'Delete', onclick: function () { deleteTask(t.id); } }) : null
      ]);
      var tr = LS.el('tr', { 'data-id': t.id, class: i === selected ? 'selected' : '' }, [
        LS.el('td', { class: 'id', text: String(t.id) }),
        LS.el('td', { class: 'when', text: t.completed_at && t.completed_at !== 'undefined' ? t.completed_at : '' }),
        LS.el('td', {}, [status(t)]),
        LS.el('td', { class: 'preview' }, [preview(t.data, needle)]),
        actions
      ]);
      tr.addEventListener('click', function (e) {
        if (e.target.closest('a,button')) return;
        if (e.ctrlKey || e.metaKey) { location.href = '?task_id=' + t.id; return; }
        selected = i; markSelected();
      });
      tr.addEventListener('dblclick', function () { location.href = '?task_id=' + t.id; });
      body.appendChild(tr);
    });
    $('search-count').textContent = needle ? shown + ' of ' + rows.length + ' on this page' : '';
    $('empty').classList.toggle('hidden', (project.task_count || 0) > 0);
  }

  function markSelected() {
    document.querySelectorAll('#tasks tbody tr').forEach(function (tr) {
      var idx = rows.findIndex(function (t) { return t && String(t.id) === tr.getAttribute('data-id'); });
      tr.classList.toggle('selected', idx === selected);
      if (idx === selected) tr.scrollIntoView({ block: 'nearest' });
    });
  }

  function renderHeader() {
    document.querySelectorAll('#tasks th.sortable').forEach(function (th) {
      var o = th.getAttribute('data-order');
      th.querySelector('.arrow').textContent = state.order === o ? '▲' : state.order === '-' + o ? '▼' : '';
      th.setAttribute('aria-sort', state.order === o ? 'ascending' : state.order === '-' + o ? 'descending' : 'none');
    });
    $('page').value = state.page;
    $('page').max = pageCount();
    $('pages').textContent = 'of ' + LS.fmt(pageCount());
    $('prev').disabled = state.page <= 1;
    $('next').disabled = state.page >= pageCount();
    var sel = $('page-size');
    if (!Array.prototype.some.call(sel.options, function (o) { return Number(o.value) === state.size; })) {
      sel.appendChild(LS.el('option', { value: state.size, text: state.size + ' per page' }));
    }
    sel.value = String(state.size);
  }

  function loadPage(keepSelection) {
    if (state.page > pageCount()) state.page = pageCount();
    persist();
    renderHeader();
    loading = true;
    return LS.api('GET', 'api/tasks/?page=' + state.page + '&page_size=' + state.size + '&order=' + encodeURIComponent(state.order) + '&rnd=' + Date.now()).then(function (r) {
      loading = false;
      if (!r.ok || !Array.isArray(r.data)) {
        LS.toast('Could not load the tasks: ' + LS.describe(r), 'error');
        rows = [];
      } else {
        rows = r.data;
      }
      if (!keepSelection) selected = rows.length ? 0 : -1;
      if (selected >= rows.length) selected = rows.length - 1;
      renderRows();
      document.body.setAttribute('data-loaded', String(state.page));
    });
  }

  function refreshAll() {
    return loadProject().then(function () {
      showStats(null);
      countSkipped().then(showStats);
      drawChart();
      return loadPage(true);
    });
  }

  function go(pageNo, selectLast) {
    pageNo = Math.max(1, Math.min(pageCount(), pageNo));
    if (pageNo === state.page && !loading) { renderHeader(); return Promise.resolve(); }
    state.page = pageNo;
    return loadPage(false).then(function () {
      if (selectLast) { selected = rows.length - 1; markSelected(); }
    });
  }

  function deleteTask(id) {
    LS.confirm('Delete task ' + id + '?', 'The task and its completions are removed for good.', 'Delete').then(function (ok) {
      if (!ok) return;
      LS.api('DELETE', 'api/tasks/' + id + '/').then(function (r) {
        if (!r.ok) LS.toast('The task was not deleted: ' + LS.describe(r), 'error');
        else LS.toast('Task ' + id + ' deleted', 'ok');
        refreshAll();
      });
    });
  }

  function deleteCompletions(id) {
    LS.confirm('Delete the completions of task ' + id + '?', 'The task stays; its completions are removed for good.', 'Delete completions').then(function (ok) {
      if (!ok) return;
      LS.api('DELETE', 'api/tasks/' + id + '/completions').then(function (r) {
        if (!r.ok) LS.toast('The completions were not deleted: ' + LS.describe(r), 'error');
        refreshAll();
      });
    });
  }

  $('delete-all').addEventListener('click', function () {
    LS.confirm('Delete all ' + LS.fmt(project.task_count) + ' tasks?', 'Every task and every completion of this project is removed for good.', 'Delete all tasks').then(function (ok) {
      if (!ok) return;
      LS.api('DELETE', 'api/tasks').then(function (r) {
        if (!r.ok) LS.toast('The tasks were not deleted: ' + LS.describe(r), 'error');
        else LS.toast('All tasks deleted', 'ok');
        state.page = 1;
        refreshAll();
      });
    });
  });
  $('delete-completions').addEventListener('click', function () {
    LS.confirm('Delete all completions?', 'The tasks stay; every completion of this project is removed for good.', 'Delete all completions').then(function (ok) {
      if (!ok) return;
      LS.api('DELETE', 'api/completions').then(function (r) {
        if (!r.ok) LS.toast('The completions were not deleted: ' + LS.describe(r), 'error');
        else LS.toast('All completions deleted', 'ok');
        refreshAll();
      });
    });
  });

  document.querySelectorAll('#tasks th.sortable').forEach(function (th) {
    th.addEventListener('click', function () {
      var o = th.getAttribute('data-order');
      state.order = state.order === o ? '-' + o : o;
      state.page = 1;
      loadPage(false);
    });
  });
  $('prev').addEventListener('click', function () { go(state.page - 1); });
  $('next').addEventListener('click', function () { go(state.page + 1); });
  $('page').addEventListener('change', function () { go(parseInt($('page').value, 10) || 1); });
  $('page-size').addEventListener('change', function () {
    state.size = parseInt($('page-size').value, 10) || 10;
    state.page = 1;
    loadPage(false);
  });
  $('search').addEventListener('input', renderRows);
  $('search').addEventListener('keydown', function (e) { if (e.key === 'Escape') { $('search').value = ''; renderRows(); $('search').blur(); } });

  document.addEventListener('keydown', function (e) {
    if (LS.typing(e) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('.modal-back')) return;
    if (e.key === 'Enter' && e.target.closest && e.target.closest('button, a, summary')) return; // their own Enter
    var k = e.key;
    if (k === '/') { e.preventDefault(); $('search').focus(); }
    else if (k === 'a' || (e.shiftKey && k === 'ArrowLeft')) { e.preventDefault(); go(state.page - 1); }
    else if (k === 'd' || (e.shiftKey && k === 'ArrowRight')) { e.preventDefault(); go(state.page + 1); }
    else if (k === 'w' || (e.shiftKey && k === 'ArrowUp')) {
      e.preventDefault();
      if (selected > 0) { selected--; markSelected(); } else if (state.page > 1) go(state.page - 1, true);
    } else if (k === 's' || (e.shiftKey && k === 'ArrowDown')) {
      e.preventDefault();
      if (selected < rows.length - 1) { selected++; markSelected(); } else if (state.page < pageCount()) go(state.page + 1);
    } else if (k === 'Enter' && rows[selected]) { location.href = '?task_id=' + rows[selected].id; }
  });

  showStats(null);
  countSkipped().then(showStats);
  drawChart();
  loadPage(false);
})();
