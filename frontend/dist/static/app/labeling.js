/* The labeling page: connects the labeling widget (window.LabelStudio) to
   the server's Label Studio 0.8.1 API. Stream mode (no task in the page)
   labels one task after another from api/project/next; explore mode
   (/?task_id=N) works on one task. Every write is checked: a failed submit
   or skip rejects, so the widget shows the server's message and keeps the
   user's work; failed updates, deletes and ground-truth marks are shown as
   toasts and the task is reloaded so the screen matches the server.
   The labeling page loads this file appended to the widget's bundle, as
   static/editor/js/main.labeling.js (frontend.LabelingBundle). */
(function () {
  'use strict';

  var page = LS.page;
  var exploreTask = page.task ? JSON.parse(page.task) : null;
  var stream = !exploreTask;
  // The server puts the first task of the stream into the page too, unless
  // it must ask ML backends for it; then the page fetches it (LS_FIRST_NEXT).
  var firstTask = stream && page.firstTask ? JSON.parse(page.firstTask) : null;

  var INTERFACES = [
    'basic', 'panel', 'controls', 'submit', 'update', 'skip',
    'predictions', 'predictions:menu',
    'completions:menu', 'completions:add-new', 'completions:delete',
    'side-column', 'ground-truth'
  ];

  // Server ids of the completions the server knows, per task: only these
  // may be sent as ids (a new completion's widget id is random text).
  var savedIDs = {};
  // revisions holds the revision of each completion as this page loaded
  // it ("task/completion" → n): an update names it, so that the server
  // refuses it (409) when someone else changed the completion meanwhile.
  var revisions = {};
  // Tasks labeled in this session, for Prev/Next: [{task, completion}].
  var trail = [];
  var trailPos = 0; // == trail.length when at the live end
  var loadedAt = Date.now();

  function remember(taskID, completionID) {
    (savedIDs[taskID] = savedIDs[taskID] || {})[String(completionID)] = true;
  }

  // serverID returns the completion's server id, or null when the server
  // has never stored it.
  function serverID(ls, c) {
    if (!c || c.pk === undefined || c.pk === null) return null;
    var pk = String(c.pk);
    if (!/^\d+$/.test(pk)) return null;
    var known = savedIDs[ls.task.id];
    return known && known[pk] ? Number(pk) : null;
  }

  function leadTime(c) {
    var from = c && c.loadedDate ? new Date(c.loadedDate).getTime() : loadedAt;
    if (!isFinite(from)) from = loadedAt;
    return Math.max(0, (Date.now() - from) / 1000);
  }

  // toWidget converts a task of the API into the widget's shape.
  function toWidget(task) {
    var t = {};
    Object.keys(task).forEach(function (k) { t[k] = task[k]; });
    t.data = typeof task.data === 'string' ? task.data : JSON.stringify(task.data || {});
    t.completions = (task.completions || []).map(function (c) {
      return Object.assign({}, c, {
        pk: c.id, leadTime: c.lead_time, createdAgo: c.created_ago, createdBy: c.created_username
      });
    });
    t.predictions = (task.predictions || []).map(function (p) {
      return Object.assign({}, p, {
        createdBy: p.created_by, createdDate: p.created_date, createdAgo: p.created_ago
      });
    });
    return t;
  }

  function taskURL(id) { return 'api/tasks/' + id + '/'; }
  function completionsURL(id) { return 'api/tasks/' + id + '/completions/'; }

  // showTask puts a task into the widget and selects a completion: the
  // first one when asked for 'auto', the asked one when it exists, else one
  // made from the first prediction, else a new empty one.
  function showTask(ls, task, want) {
    var t = toWidget(task);
    (task.completions || []).forEach(function (c) {
      remember(task.id, c.id);
      if (c.revision !== undefined) revisions[task.id + '/' + c.id] = c.revision;
    });
    ls.resetState();
    ls.assignTask(t);
    ls.initializeStore(t);
    var cs = ls.completionStore;
    var pick = null;
    if (want === 'auto' && cs.completions.length) {
      pick = cs.completions[0];
    } else if (want !== undefined && want !== null && want !== 'auto') {
      pick = cs.completions.find(function (c) { return String(c.pk) === String(want); }) || null;
    }
    if (!pick && cs.predictions.length) pick = cs.addCompletionFromPrediction(cs.predictions[0]);
    if (!pick) pick = cs.addCompletion({ userGenerate: true });
    cs.selectCompletion(pick.id);
    if (cs.selected && cs.selected.setupHotKeys) cs.selected.setupHotKeys();
    ls.setFlags({ isLoading: false, noTask: false });
    loadedAt = Date.now();
    taskLoaded(ls, task);
  }

  function loadTask(ls, url, want) {
    ls.setFlags({ isLoading: true });
    // The page asked for the first task while the widget was loading.
    var first = url === 'api/project/next' ? window.LS_FIRST_NEXT : null;
    window.LS_FIRST_NEXT = null;
    return (first || LS.api('GET', url)).then(function (r) {
      if (r.status === 404) {
        ls.setFlags({ isLoading: false, noTask: true });
        taskLoaded(ls, null);
        return;
      }
      if (r.status === 403) {
        ls.setFlags({ isLoading: false, noAccess: true });
        return;
      }
      if (!r.ok || !r.data) {
        ls.setFlags({ isLoading: false });
        LS.toast('Could not load the task: ' + LS.describe(r), 'error');
        return;
      }
      showTask(ls, r.data, want);
    });
  }

  function loadNext(ls) {
    trailPos = trail.length;
    return loadTask(ls, 'api/project/next');
  }

  function pushTrail(taskID, completionID) {
    // Labeling a task from the trail replaces its entry; a new task goes last.
    trail = trail.filter(function (e) { return e.task !== taskID; });
    trail.push({ task: taskID, completion: completionID });
    trailPos = trail.length;
  }

  // taskLoaded updates the page around the widget after every load.
  function taskLoaded(ls, task) {
    var info = document.getElementById('task-info');
    var done = document.getElementById('done-box');
    if (!task) {
      if (info) info.textContent = stream ? 'No more tasks' : 'Task not found';
      if (done && stream) done.classList.remove('hidden');
    } else {
      if (done) done.classList.add('hidden');
      var n = (task.completions || []).length;
      if (info) {
        info.textContent = (stream ? 'Labeling stream · ' : 'Exploring · ') + 'task #' + task.id +
          (n ? ' · ' + n + ' completion' + (n > 1 ? 's' : '') : '');
      }
    }
    document.body.setAttribute('data-task-id', task ? String(task.id) : '');
    setTimeout(placeTrailButtons, 0);
    markReady();
  }

  // markReady records, once, when the page first shows the widget ready to
  // label: after the frame that draws it (the task is in, a completion is
  // selected). The time, in ms since navigation, is the performance mark
  // "labelstudio:widget-ready" and LS_LABELING.readyAt().
  var readyAt = null;
  function markReady() {
    if (readyAt !== null) return;
    readyAt = -1;
    requestAnimationFrame(function () {
      setTimeout(function () {
        readyAt = performance.now();
        if (performance.mark) performance.mark('labelstudio:widget-ready');
      }, 0);
    });
  }

  // submit stores the completion as a new one; it resolves when the next
  // task is on screen and rejects with the server's message.
  function submit(ls, c, cancelled) {
    var taskID = ls.task.id;
    var body = { lead_time: leadTime(c), result: c.serializeCompletion() };
    var url = completionsURL(taskID);
    if (cancelled) {
      url += '?was_cancelled=1';
      var id = serverID(ls, c);
      if (id !== null) body.id = id;
    }
    ls.setFlags({ isLoading: true });
    return LS.api('POST', url, body).then(function (r) {
      if (!r.ok || !r.data || r.data.id === undefined || r.data.id === null) {
        ls.setFlags({ isLoading: false });
        throw new Error(LS.describe(r));
      }
      var newID = r.data.id;
      remember(taskID, newID);
      c.updatePersonalKey(String(newID));
      pushTrail(taskID, newID);
      if (stream) return loadNext(ls);
      // Explore mode stays on the task, now as the server has it.
      return loadTask(ls, taskURL(taskID), newID);
    });
  }

  function onSubmitCompletion(ls, c) { return submit(ls, c, false); }

  function onSkipTask(ls) { return submit(ls, ls.completionStore.selected, true); }

  function onUpdateCompletion(ls, c) {
    var taskID = ls.task.id;
    var id = serverID(ls, c);
    if (id === null) {
      // The server never stored it (e.g. the submit failed): save it now.
      return submit(ls, c, false).catch(function (err) {
        LS.toast('Could not save the completion: ' + err.message, 'error');
      });
    }
    var body = { lead_time: leadTime(c), result: c.serializeCompletion() };
    var rev = revisions[taskID + '/' + id];
    if (rev !== undefined) body.revision = rev;
    ls.setFlags({ isLoading: true });
    return LS.api('PATCH', completionsURL(taskID) + id + '/', body).then(function (r) {
      ls.setFlags({ isLoading: false });
      if (r.status === 409 && r.data && r.data.revision !== undefined) {
        return resolveConflict(ls, c, taskID, id, r.data);
      }
      if (!r.ok) {
        LS.toast('The update was not saved: ' + LS.describe(r), 'error');
        return;
      }
      LS.toast('Completion ' + id + ' updated', 'ok', 2500);
      return loadTask(ls, taskURL(taskID), id);
    });
  }

  // resolveConflict tells the person that the completion changed in another
  // tab or by another person since it was loaded, and lets them choose:
  // keep their version (saved over the other, which the server returned) or
  // load the other one. Until they choose, their work stays on the page.
  function resolveConflict(ls, c, taskID, id, conflict) {
    var keepMine = window.confirm(
      'Completion ' + id + ' was changed somewhere else while you worked on it ' +
      '(it is now at revision ' + conflict.revision + ').\n\n' +
      'OK: save your version over it.\nCancel: load the other version (your changes here are dropped).');
    if (!keepMine) {
      LS.toast('Loaded the other version of completion ' + id, 'ok', 3000);
      return loadTask(ls, taskURL(taskID), id);
    }
    revisions[taskID + '/' + id] = conflict.revision;
    return onUpdateCompletion(ls, c);
  }

  function onDeleteCompletion(ls, c) {
    var taskID = ls.task.id;
    var id = serverID(ls, c);
    if (id === null) return; // only in the browser: nothing to delete
    return LS.api('DELETE', completionsURL(taskID) + id + '/').then(function (r) {
      ls.setFlags({ isLoading: false });
      if (!r.ok) {
        LS.toast('The completion was not deleted: ' + LS.describe(r), 'error');
        return loadTask(ls, taskURL(taskID), id); // show it again
      }
      delete (savedIDs[taskID] || {})[String(id)];
    });
  }

  function onGroundTruth(ls, c, value) {
    var taskID = ls.task.id;
    var id = serverID(ls, c);
    if (id === null) {
      LS.toast('Submit the completion before marking it as ground truth', 'error');
      return;
    }
    return LS.api('PATCH', completionsURL(taskID) + id + '/', { honeypot: !!value }).then(function (r) {
      if (!r.ok) {
        LS.toast('Ground truth was not saved: ' + LS.describe(r), 'error');
        return loadTask(ls, taskURL(taskID), id);
      }
    });
  }

  // Prev/Next through the tasks labeled in this session (stream mode).
  function goPrev() {
    var ls = window.Htx;
    if (!ls || trailPos <= 0) return;
    trailPos--;
    var e = trail[trailPos];
    loadTask(ls, taskURL(e.task), e.completion);
  }

  function goNext() {
    var ls = window.Htx;
    if (!ls || trailPos >= trail.length) return;
    trailPos++;
    if (trailPos >= trail.length) { loadNext(ls); return; }
    var e = trail[trailPos];
    loadTask(ls, taskURL(e.task), e.completion);
  }

  // placeTrailButtons puts Prev/Next into the widget's panel, next to
  // Undo/Redo/Reset, or into the "no more tasks" box when the panel is gone.
  function placeTrailButtons() {
    if (!stream || !trail.length) return;
    var htx = window.Htx;
    var panel = htx && htx.noTask ? null : (document.querySelector('#label-studio .ls-panel') ||
      document.querySelector('#label-studio [class^="Panel_container"]'));
    var done = document.getElementById('done-box');
    var host = panel || (done && !done.classList.contains('hidden') ? done.querySelector('.row') : null);
    if (!host) return;
    var prev = host.querySelector('.ls-history-prev');
    var next = host.querySelector('.ls-history-next');
    if (!prev) {
      document.querySelectorAll('.ls-history-btn').forEach(function (b) { b.remove(); });
      var cls = panel ? 'ant-btn ls-history-btn' : 'btn ls-history-btn';
      prev = LS.el('button', { type: 'button', class: cls + ' ls-history-prev', title: 'Previous labeled task', onclick: goPrev }, ['‹ Prev']);
      next = LS.el('button', { type: 'button', class: cls + ' ls-history-next', title: 'Next task', onclick: goNext }, ['Next ›']);
      var first = panel ? panel.firstElementChild : null;
      if (first && first.nextSibling) host.insertBefore(prev, first.nextSibling); else host.insertBefore(prev, host.firstChild);
      host.insertBefore(next, prev.nextSibling);
    }
    prev.disabled = trailPos <= 0;
    next.disabled = trailPos >= trail.length;
  }

  // The widget re-renders its panel now and then: put the buttons back.
  var root = document.getElementById('label-studio');
  if (root && window.MutationObserver) {
    var pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; placeTrailButtons(); });
    }).observe(root, { childList: true, subtree: true });
  }

  window.LS_LABELING = {
    readyAt: function () { return readyAt !== null && readyAt >= 0 ? readyAt : null; },
    trail: function () { return trail.slice(); },
    prev: goPrev,
    next: goNext
  };

  // The trash icon only where the project lets completions be deleted.
  var interfaces = INTERFACES.filter(function (i) { return i !== 'completions:delete' || page.allowDelete !== false; });

  // widgetFailed shows why the widget could not start (most often a tag of
  // the labeling config that this widget does not know) instead of leaving
  // the page loading for ever.
  function widgetFailed(err) {
    var msg = (err && err.message ? err.message : String(err)).split('\n')[0];
    var info = document.getElementById('task-info');
    if (info) info.textContent = 'The labeling widget could not start';
    var host = document.getElementById('label-studio');
    if (host) {
      host.textContent = '';
      host.appendChild(LS.el('div', { class: 'ls-widget-error', role: 'alert' }, [
        LS.el('p', {}, ['The labeling widget cannot show this project\u2019s labeling config: ' + msg + '.']),
        LS.el('p', {}, [LS.el('a', { href: 'setup' }, ['Change the labeling config on the Setup page'])])
      ]));
    }
    if (window.console) console.error(err);
  }

  function guard(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (err) {
        widgetFailed(err);
      }
    };
  }

  try {
    new window.LabelStudio('label-studio', {
      config: page.config,
      task: null,
      interfaces: interfaces,
      user: { pk: 1, firstName: 'Awesome', lastName: 'User' },
      description: page.instruction || '',
      onLabelStudioLoad: guard(function (ls) {
        if (exploreTask) {
          showTask(ls, exploreTask, 'auto');
        } else if (firstTask) {
          showTask(ls, firstTask);
        } else if (page.noTaskLeft) {
          ls.setFlags({ isLoading: false, noTask: true });
          taskLoaded(ls, null);
        } else {
          ls.setFlags({ isLoading: true });
          loadNext(ls);
        }
      }),
      onSubmitCompletion: onSubmitCompletion,
      onUpdateCompletion: onUpdateCompletion,
      onDeleteCompletion: onDeleteCompletion,
      onSkipTask: onSkipTask,
      onGroundTruth: onGroundTruth
    });
  } catch (err) {
    widgetFailed(err);
  }
})();
