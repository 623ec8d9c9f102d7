// Browser test of labelstudio's web UI against the real binary: the nine
// labeling scenarios of the frontend spec (choices, NER, bounding box,
// prediction + skip, explore + update, ground truth + delete, setup
// preview, submit error, offline guard) and the tasks, import, export,
// model and welcome pages, plus a page-load measurement with 100k tasks.
// Results are checked through the API. Run: node --test frontend/e2e/
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Guard, launchBrowser, launchProfile, newPage, resetProject, screenshot, startServer, startFakeML, sleep, waitFor, unzip, artifacts,
} from './harness.mjs';

const CHOICES = '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>';
const NER = '<View><Labels name="label" toName="text"><Label value="Person"/><Label value="Organization"/></Labels><Text name="text" value="$text"/></View>';
const BBOX = '<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image"><Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>';
const WEATHER = '<View><Text name="text" value="$text"/><Choices name="weather" toName="text"><Choice value="Sunny"/><Choice value="Rainy"/></Choices></View>';

let browser;
let server;
let guard;

before(async () => {
  server = await startServer();
  guard = new Guard(server.base);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function open(url) {
  const { context, page } = await newPage(browser, guard);
  await page.goto(server.base + url);
  return { context, page };
}

// widgetTask waits until the widget shows a task and returns its id.
async function widgetTask(page, id) {
  await page.waitForFunction((want) => {
    const h = window.Htx;
    return h && h.task && h.completionStore && h.completionStore.selected && !h.isLoading &&
      (want === undefined || h.task.id === want);
  }, id);
  return page.evaluate(() => window.Htx.task.id);
}

async function getTask(id) {
  const r = await server.api('GET', `/api/tasks/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function selectedResult(page) {
  return page.evaluate(() => window.Htx.completionStore.selected.serializeCompletion());
}

describe('labeling page', () => {
  test('1. choices: click, submit, hotkeys, no more tasks, history', async () => {
    const ids = await resetProject(server, CHOICES, [{ text: 'I love this product' }, { text: 'Terrible, would not buy again' }]);
    const { context, page } = await open('/');
    await widgetTask(page, ids[0]);
    await screenshot(page, '01-labeling-choices');
    await page.locator('label', { hasText: 'Positive' }).first().click();
    await page.getByRole('button', { name: 'Submit' }).click();
    await widgetTask(page, ids[1]);

    const t0 = await getTask(ids[0]);
    assert.equal(t0.completions.length, 1);
    const c0 = t0.completions[0];
    assert.deepEqual(c0.result[0].value.choices, ['Positive']);
    assert.equal(c0.result[0].from_name, 'sentiment');
    assert.equal(c0.result[0].to_name, 'text');
    assert.equal(c0.result[0].type, 'choices');
    assert.equal(typeof c0.lead_time, 'number');

    await page.keyboard.press('2');
    await page.keyboard.press('Control+Enter');
    await page.waitForFunction(() => window.Htx.noTask === true);
    await page.getByText('No more data available for labeling').waitFor();
    await page.locator('#done-box').waitFor({ state: 'visible' });
    const t1 = await getTask(ids[1]);
    assert.deepEqual(t1.completions[0].result[0].value.choices, ['Negative']);
    await screenshot(page, '01-labeling-no-more-tasks');

    // History: Prev shows the last labeled task with its completion.
    await page.locator('.ls-history-prev').click();
    await widgetTask(page, ids[1]);
    const pk = await page.evaluate(() => window.Htx.completionStore.selected.pk);
    assert.equal(String(pk), String(t1.completions[0].id));
    await page.locator('.ls-history-prev').click();
    await widgetTask(page, ids[0]);
    await page.locator('.ls-history-next').click();
    await widgetTask(page, ids[1]);
    await page.locator('.ls-history-next').click();
    await page.waitForFunction(() => window.Htx.noTask === true);
    await context.close();
  });

  test('2. NER: select a span with the mouse', async () => {
    const ids = await resetProject(server, NER, [{ text: 'Alice Smith works at Acme Corp in Berlin.' }]);
    const { context, page } = await open('/');
    await widgetTask(page, ids[0]);
    await page.locator('#label-studio').getByText('Person', { exact: false }).first().click();
    const box = await page.evaluate(() => {
      const root = document.getElementById('label-studio');
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      let node;
      while ((node = walker.nextNode())) {
        const i = node.data.indexOf('Alice Smith');
        if (i >= 0) {
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 'Alice Smith'.length);
          const r = range.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
        }
      }
      return null;
    });
    assert.ok(box, 'the text is on the page');
    const y = (box.top + box.bottom) / 2;
    await page.mouse.move(box.left + 1, y);
    await page.mouse.down();
    await page.mouse.move((box.left + box.right) / 2, y, { steps: 5 });
    await page.mouse.move(box.right - 1, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => window.Htx.completionStore.selected.regionStore.regions.length === 1);
    await screenshot(page, '02-labeling-ner');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForFunction(() => window.Htx.noTask === true);
    const t = await getTask(ids[0]);
    const r = t.completions[0].result[0];
    assert.equal(r.type, 'labels');
    assert.deepEqual(r.value.labels, ['Person']);
    assert.equal(r.value.start, 0);
    assert.equal(r.value.end, 11);
    assert.equal(r.value.text, 'Alice Smith');
    await context.close();
  });

  test('3+4. bounding box, then a prediction and skip', async () => {
    const prediction = {
      model_version: 'e2e', score: 0.9,
      result: [{
        from_name: 'label', to_name: 'image', type: 'rectanglelabels', id: 'pred1',
        original_width: 500, original_height: 333, image_rotation: 0,
        value: { x: 10, y: 10, width: 30, height: 40, rotation: 0, rectanglelabels: ['Dog'] },
      }],
    };
    const ids = await resetProject(server, BBOX, [
      { image: 'static/samples/sample.jpg' },
      { data: { image: 'static/samples/sample-a.jpg' }, predictions: [prediction] },
    ]);
    const { context, page } = await open('/');
    await widgetTask(page, ids[0]);
    const img = page.locator('#label-studio img').first();
    await page.waitForFunction(() => {
      const i = document.querySelector('#label-studio img');
      return i && i.complete && i.naturalWidth > 0;
    });
    const natural = await img.evaluate((i) => ({ w: i.naturalWidth, h: i.naturalHeight }));
    const b = await img.boundingBox();
    await page.keyboard.press('1');
    await page.mouse.move(b.x + b.width * 0.2, b.y + b.height * 0.2);
    await page.mouse.down();
    for (let s = 1; s <= 8; s++) {
      await page.mouse.move(b.x + b.width * (0.2 + 0.05 * s), b.y + b.height * (0.2 + 0.06 * s));
    }
    await page.mouse.up();
    await page.waitForFunction(() => window.Htx.completionStore.selected.regionStore.regions.length === 1);
    await screenshot(page, '03-labeling-bbox');
    await page.getByRole('button', { name: 'Submit' }).click();
    await widgetTask(page, ids[1]);

    const t0 = await getTask(ids[0]);
    const r = t0.completions[0].result[0];
    assert.equal(r.type, 'rectanglelabels');
    assert.deepEqual(r.value.rectanglelabels, ['Cat']);
    assert.ok(r.value.width > 0 && r.value.height > 0, JSON.stringify(r.value));
    assert.equal(r.original_width, natural.w);
    assert.equal(r.original_height, natural.h);

    // 4: the predicted box is already in the selected completion.
    const pre = await selectedResult(page);
    assert.ok(pre.some((x) => x.type === 'rectanglelabels' && x.value.rectanglelabels[0] === 'Dog'), JSON.stringify(pre));
    await page.waitForFunction(() => {
      const i = document.querySelector('#label-studio img');
      return i && i.complete && i.naturalWidth > 0;
    });
    await screenshot(page, '04-labeling-prediction');
    await page.getByRole('button', { name: 'Skip' }).click();
    await page.waitForFunction(() => window.Htx.noTask === true);
    const t1 = await getTask(ids[1]);
    assert.equal(t1.completions.length, 1);
    assert.equal(t1.completions[0].was_cancelled, true);
    await context.close();
  });

  test('5. explore a completed task and update it', async () => {
    const ids = await resetProject(server, CHOICES, [{ text: 'Fine product' }]);
    const made = await server.api('POST', `/api/tasks/${ids[0]}/completions`, {
      lead_time: 1, result: [{ id: 'a1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }],
    });
    assert.equal(made.status, 201, made.text);
    const cid = made.json.id;
    const { context, page } = await open(`/?task_id=${ids[0]}`);
    await widgetTask(page, ids[0]);
    const pk = await page.evaluate(() => window.Htx.completionStore.selected.pk);
    assert.equal(String(pk), String(cid));
    assert.deepEqual((await selectedResult(page))[0].value.choices, ['Positive']);
    await page.locator('label', { hasText: 'Negative' }).first().click();
    await page.getByRole('button', { name: 'Update' }).click();
    await waitFor(async () => {
      const t = await getTask(ids[0]);
      return t.completions.length === 1 && t.completions[0].id === cid &&
        t.completions[0].result[0].value.choices[0] === 'Negative';
    }, 'the updated completion');
    await widgetTask(page, ids[0]);
    await screenshot(page, '05-labeling-explore-update');
    await context.close();
  });

  test('5b. an update that meets a change from elsewhere asks, and loses nothing', async () => {
    const ids = await resetProject(server, CHOICES, [{ text: 'Two tabs, one completion' }]);
    const made = await server.api('POST', `/api/tasks/${ids[0]}/completions`, {
      lead_time: 1, result: [{ id: 'c1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }],
    });
    const cid = made.json.id;
    const { context, page } = await open(`/?task_id=${ids[0]}`);
    await widgetTask(page, ids[0]);
    // Another tab changes the completion after this page loaded it.
    const other = await server.api('PATCH', `/api/tasks/${ids[0]}/completions/${cid}`, { lead_time: 7, revision: 1 });
    assert.equal(other.status, 201, other.text);
    let asked = '';
    page.once('dialog', async (d) => { asked = d.message(); await d.accept(); });
    await page.locator('label', { hasText: 'Negative' }).first().click();
    await page.getByRole('button', { name: 'Update' }).click();
    await waitFor(async () => {
      const t = await getTask(ids[0]);
      return t.completions[0].result[0].value.choices[0] === 'Negative' && t.completions[0].revision === 3;
    }, 'the kept version saved after the conflict');
    assert.match(asked, /changed somewhere else/);
    await context.close();
  });

  test('6. ground truth and delete a completion', async () => {
    const ids = await resetProject(server, CHOICES, [{ text: 'Gold standard text' }]);
    const made = await server.api('POST', `/api/tasks/${ids[0]}/completions`, {
      lead_time: 1, result: [{ id: 'g1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }],
    });
    const cid = made.json.id;
    const { context, page } = await open(`/?task_id=${ids[0]}`);
    await widgetTask(page, ids[0]);
    await page.locator('button:has([aria-label="star"])').first().click();
    await waitFor(async () => (await getTask(ids[0])).completions[0].honeypot === true, 'honeypot: true');
    await screenshot(page, '06-labeling-ground-truth');
    await page.locator('button:has([aria-label="delete"])').first().click();
    await page.locator('.ant-popover').getByRole('button', { name: 'Delete' }).click();
    await waitFor(async () => {
      const t = await getTask(ids[0]);
      return !(t.completions || []).some((c) => c.id === cid);
    }, 'the completion to be deleted');
    await context.close();
  });

  test('8. a failed submit shows the server detail and keeps the work', async () => {
    const ids = await resetProject(server, CHOICES, [{ text: 'First try fails' }, { text: 'About to vanish' }, { text: 'Third' }]);
    const { context, page } = await open('/');
    await widgetTask(page, ids[0]);

    // A server error: the dialog shows its detail, the choice stays, and
    // "Update" then saves the completion as a new one.
    let failed = 0;
    await page.route('**/api/tasks/*/completions/', (route) => {
      if (route.request().method() === 'POST' && failed++ === 0) {
        return route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ status: 500, detail: 'disk is full' }) });
      }
      return route.fallback();
    });
    await page.locator('label', { hasText: 'Positive' }).first().click();
    await page.getByRole('button', { name: 'Submit' }).click();
    const dialog = page.locator('.ant-modal-confirm, .ant-modal').first();
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /500: disk is full/);
    assert.equal(await page.evaluate(() => window.Htx.task.id), ids[0]);
    assert.deepEqual((await selectedResult(page))[0].value.choices, ['Positive']);
    assert.equal((await getTask(ids[0])).completions, undefined);
    await dialog.getByRole('button', { name: 'OK' }).click();
    await page.getByRole('button', { name: 'Update' }).click();
    await widgetTask(page, ids[1]);
    const t0 = await getTask(ids[0]);
    assert.equal(t0.completions.length, 1);
    assert.deepEqual(t0.completions[0].result[0].value.choices, ['Positive']);

    // The task is deleted behind the page's back: 404 with the server's detail.
    await page.locator('label', { hasText: 'Negative' }).first().click();
    const del = await server.api('DELETE', `/api/tasks/${ids[1]}`);
    assert.equal(del.status, 204);
    await page.getByRole('button', { name: 'Submit' }).click();
    const second = page.locator('.ant-modal-confirm, .ant-modal').filter({ hasText: 'not found' }).first();
    await second.waitFor();
    const text = await second.innerText();
    assert.match(text, /404/);
    assert.match(text, /not found/i);
    await screenshot(page, '08-labeling-submit-error');
    assert.equal(await page.evaluate(() => window.Htx.task.id), ids[1]);
    assert.deepEqual((await selectedResult(page))[0].value.choices, ['Negative']);
    await context.close();
  });
});

describe('labeling page with a config the widget cannot show', () => {
  test('8b. the page says why and leads to setup, instead of loading for ever', async () => {
    // The server accepts tags it does not know (as 0.8.1 did); this
    // widget has no <Number>.
    const config = '<View><Text name="text" value="$text"/><Number name="num" toName="text"/>' +
      '<Choices name="sentiment" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>';
    await resetProject(server, config, [{ text: 'a task' }]);
    const { context, page } = await open('/');
    const box = page.locator('.ls-widget-error');
    await box.waitFor();
    assert.match(await box.innerText(), /No model registered for tag: number/);
    assert.equal(await page.locator('#task-info').innerText(), 'The labeling widget could not start');
    await screenshot(page, '08b-labeling-widget-error');
    await box.getByRole('link', { name: /Setup page/ }).click();
    await page.waitForURL(/\/setup$/);
    // The live preview of that config says the same.
    const preview = page.frameLocator('iframe').locator('.preview-error');
    await preview.waitFor();
    assert.match(await preview.innerText(), /cannot show this config: No model registered for tag: number/);
    await screenshot(page, '08b-setup-widget-error');
    await context.close();
    await resetProject(server, CHOICES, []);
  });
});

describe('setup page', () => {
  test('7. live preview, validation errors, templates and save', async () => {
    await resetProject(server, BBOX, []);
    const { context, page } = await open('/setup');
    const frame = page.frameLocator('#render-editor');
    await page.waitForFunction(() => {
      const f = document.getElementById('render-editor');
      const i = f && f.contentDocument && f.contentDocument.querySelector('img');
      return i && i.complete && i.naturalWidth > 0;
    });
    await frame.getByText('Dog', { exact: false }).first().click();
    const b = await frame.locator('img').first().boundingBox();
    await page.mouse.move(b.x + b.width * 0.3, b.y + b.height * 0.3);
    await page.mouse.down();
    for (let s = 1; s <= 6; s++) await page.mouse.move(b.x + b.width * (0.3 + 0.05 * s), b.y + b.height * (0.3 + 0.05 * s));
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('output-preview').textContent.includes('rectanglelabels'));
    assert.match(await page.locator('#input-preview').innerText(), /"image"/);
    await screenshot(page, '07-setup-preview');

    // An invalid config is reported and cannot be saved.
    await page.locator('#config').fill('<View><Image name="image" value="$image"/><Choices name="c" toName="nowhere"><Choice value="A"/></Choices></View>');
    await page.locator('#config-error').waitFor({ state: 'visible' });
    assert.ok(await page.locator('#save').isDisabled());
    await screenshot(page, '07-setup-error');

    // A new config re-renders the preview.
    await page.locator('#config').fill(WEATHER);
    await frame.getByText('Sunny', { exact: false }).first().waitFor();
    await page.waitForFunction(() => !document.getElementById('save').disabled);
    await page.locator('#save').click();
    await page.getByText('Label config saved!').waitFor();
    const p = await server.api('GET', '/api/project');
    assert.equal(p.json.label_config_line, WEATHER);
    await page.keyboard.press('Escape');

    // The template gallery replaces the editor text (after a confirmation).
    await page.locator('#templates-toggle').click();
    await page.locator('#templates button').first().click();
    await page.locator('.modal').getByRole('button', { name: 'Replace' }).click();
    await page.waitForFunction((old) => document.getElementById('config').value !== old, WEATHER);
    await page.locator('#render-editor').waitFor();
    await screenshot(page, '07-setup-templates');
    await context.close();
  });
});

describe('other pages', () => {
  test('tasks page lists and pages 1,000 tasks', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ text: `task number ${i} ${i % 7 === 0 ? 'seven' : 'plain'}` }));
    const ids = await resetProject(server, CHOICES, items);
    assert.equal(ids.length, 1000);
    for (const id of ids.slice(0, 5)) {
      await server.api('POST', `/api/tasks/${id}/completions`, { lead_time: 1, result: [{ id: 'x', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }] });
    }
    await server.api('POST', `/api/tasks/${ids[5]}/completions?was_cancelled=1`, { lead_time: 1, result: [] });
    const { context, page } = await open('/tasks?page=1&page_size=10&order=id');
    await page.waitForFunction(() => document.body.getAttribute('data-loaded') === '1');
    const firstIDs = () => page.locator('#tasks tbody tr td.id').allInnerTexts();
    assert.deepEqual(await firstIDs(), ids.slice(0, 10).map(String));
    assert.equal(await page.locator('#pages').innerText(), 'of 100');
    assert.equal(await page.locator('#stat-tasks').innerText(), '1,000');
    await page.waitForFunction(() => document.getElementById('stat-skipped').textContent === '1');
    assert.equal(await page.locator('#stat-done').innerText(), '5');
    assert.equal(await page.locator('#stat-left').innerText(), '994');
    await page.waitForFunction(() => [...document.querySelectorAll('#chart .bar')].some((b) => b.dataset.count === '6'));
    await screenshot(page, '10-tasks');

    await page.locator('#next').click();
    await page.waitForFunction(() => document.body.getAttribute('data-loaded') === '2');
    assert.deepEqual(await firstIDs(), ids.slice(10, 20).map(String));
    await page.keyboard.press('d');
    await page.waitForFunction(() => document.body.getAttribute('data-loaded') === '3');
    await page.locator('#page-size').selectOption('100');
    await page.waitForFunction(() => document.querySelectorAll('#tasks tbody tr').length === 100);
    assert.equal(await page.locator('#pages').innerText(), 'of 10');
    await page.locator('#page').fill('10');
    await page.locator('#page').press('Enter');
    await page.waitForFunction(() => document.body.getAttribute('data-loaded') === '10');
    assert.equal((await firstIDs()).at(-1), String(ids[999]));

    // Order by completion time: completed tasks first, newest first.
    await page.locator('th[data-order="completed_at"]').click();
    await page.locator('th[data-order="completed_at"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('order') === '-completed_at' && document.body.getAttribute('data-loaded') === '1');
    const top = (await firstIDs()).slice(0, 6).map(Number).sort((a, b) => a - b);
    assert.deepEqual(top, ids.slice(0, 6));

    // Search filters the loaded page.
    await page.locator('th[data-order="id"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('order') === 'id');
    await page.waitForFunction(() => document.querySelectorAll('#tasks tbody tr').length === 100);
    await page.locator('#search').fill('seven');
    assert.equal(await page.locator('#tasks tbody tr').count(), 15); // 0, 7, ..., 98
    assert.match(await page.locator('#search-count').innerText(), /15 of 100/);
    await page.locator('#search').fill('');

    // Delete one task from its row, after a confirmation.
    await page.locator(`#tasks tbody tr[data-id="${ids[3]}"] button`, { hasText: 'Delete' }).click();
    await page.locator('.modal').getByRole('button', { name: 'Delete' }).click();
    await waitFor(async () => (await server.api('GET', '/api/project')).json.task_count === 999, 'task_count 999');
    await page.waitForFunction(() => document.getElementById('stat-tasks').textContent === '999');

    // Open a task in the labeling page.
    await page.locator(`#tasks tbody tr[data-id="${ids[7]}"] a`, { hasText: 'Label' }).click();
    await widgetTask(page, ids[7]);
    await context.close();
  });

  test('export page downloads the completions as a JSON zip', async (t) => {
    const ids = await resetProject(server, CHOICES, [{ text: 'exported text' }]);
    const made = await server.api('POST', `/api/tasks/${ids[0]}/completions`, { lead_time: 2, result: [{ id: 'e1', from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive'] } }] });
    const { context, page } = await open('/export');
    await page.locator('input[value="JSON"]').check();
    await screenshot(page, '11-export');
    const probe = await server.api('GET', '/api/project/export?format=JSON');
    if (probe.status !== 200) {
      await page.locator('#export').click();
      await page.locator('#export-error').waitFor();
      const shown = await page.locator('#export-error').innerText();
      assert.ok(shown.includes(String(probe.status)) && shown.includes(probe.json.detail), shown);
      await screenshot(page, '11-export-error');
      await context.close();
      t.skip(`the export endpoint answers ${probe.status} (${probe.json && probe.json.detail}); the page shows that error`);
      return;
    }
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
    const file = path.join(artifacts, 'export-' + download.suggestedFilename());
    await download.saveAs(file);
    assert.match(download.suggestedFilename(), /\.zip$/);
    const files = unzip(await readFile(file));
    const json = Object.entries(files).find(([n]) => n.endsWith('.json'));
    assert.ok(json, 'a JSON file in the zip: ' + Object.keys(files));
    const data = JSON.parse(json[1].toString('utf8'));
    const all = JSON.stringify(data);
    assert.ok(all.includes(String(made.json.id)) && all.includes('Positive'), all.slice(0, 500));
    await context.close();
  });

  test('import page: paste JSON, CSV and image files, errors as a list', async (t) => {
    await resetProject(server, CHOICES, []);
    const { context, page } = await open('/import');
    await screenshot(page, '12-import');
    await page.locator('#paste').fill('[{"text": "pasted one"}, {"text": "pasted two"}]');
    await page.locator('#import-text').click();
    await page.getByText('Tasks created: 2').waitFor();
    assert.equal((await server.api('GET', '/api/project')).json.task_count, 2);

    // Item errors come back as a list split at "::".
    await page.locator('#paste').fill('[{"wrong": 1}]');
    await page.locator('#import-text').click();
    await page.locator('#import-errors li').first().waitFor();
    assert.match(await page.locator('#import-errors li').first().innerText(), /text/);
    await screenshot(page, '12-import-errors');

    // Files: only once the server takes multipart uploads.
    const fd = new FormData();
    fd.append('probe.csv', new Blob(['text\nprobe row\n'], { type: 'text/csv' }), 'probe.csv');
    const probe = await server.api('POST', '/api/project/import', fd);
    if (probe.status !== 201) {
      await context.close();
      t.skip(`multipart import is not available yet: POST /api/project/import answers ${probe.status} ${probe.text.slice(0, 120)}`);
      return;
    }
    await resetProject(server, '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="A"/><Choice value="B"/></Choices></View>', []);
    await page.reload();
    const csv = 'image\nstatic/samples/sample.jpg\nstatic/samples/sample-a.jpg\n';
    // Dropped on the drop zone, as from a file manager.
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'two.csv', { type: 'text/csv' }));
      const zone = document.getElementById('dropzone');
      zone.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: dt }));
      zone.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, csv);
    await page.getByText('Tasks created: 2').waitFor();
    let list = await server.api('GET', '/api/tasks?page_size=10');
    assert.deepEqual(list.json.map((x) => x.data.image), ['static/samples/sample.jpg', 'static/samples/sample-a.jpg']);

    // An image file becomes one task that points at the uploaded copy.
    const jpg = (await server.api('GET', '/static/samples/sample-a.jpg')).body;
    await page.locator('#files').setInputFiles([{ name: 'cat.jpg', mimeType: 'image/jpeg', buffer: jpg }]);
    await page.waitForFunction(() => /Tasks created: 1|Reasons/.test(document.getElementById('result').textContent));
    await screenshot(page, '12-import-files');
    const outcome = await page.locator('#result').innerText();
    if (!/Tasks created: 1/.test(outcome)) {
      assert.match(outcome, /Reasons/, outcome); // the server's reason is shown as a list
      await context.close();
      t.skip(`media file upload is not available yet: ${outcome.replace(/\s+/g, ' ').slice(0, 200)}`);
      return;
    }
    list = await server.api('GET', '/api/tasks?page_size=10');
    assert.equal(list.json.length, 3);
    const uploaded = list.json.find((x) => /\/data\/upload\//.test(x.data.image));
    assert.ok(uploaded, JSON.stringify(list.json));
    const file = await server.api('GET', new URL(uploaded.data.image, server.base).pathname);
    assert.equal(file.status, 200);
    assert.equal(file.body.length, jpg.length);
    await context.close();
  });

  test('welcome and the redirect of an empty project', async () => {
    await resetProject(server, CHOICES, []);
    const { context, page } = await open('/');
    await page.waitForURL(/\/welcome$/);
    await page.getByText('Import tasks').first().waitFor();
    assert.equal(await page.locator('.steps li.done').count(), 1); // the config was saved
    await screenshot(page, '13-welcome');
    await context.close();
  });

  test('model page: add, train, predict all, remove', async () => {
    const ids = await resetProject(server, CHOICES, [{ text: 'predict me' }, { text: 'and me' }]);
    const fake = await startFakeML();
    const { context, page } = await open('/model');
    try {
      await page.locator('#backends p, #backends .card, #backends .msg').first().waitFor();
      // An unreachable backend is refused with the server's reason.
      await page.locator('#backend-url').fill('http://127.0.0.1:9');
      await page.locator('#add-backend').click();
      await page.locator('#model-msg .msg.error').waitFor();
      assert.match(await page.locator('#model-msg').innerText(), /not connected/);

      await page.locator('#backend-url').fill(fake.url);
      await page.locator('#add-backend').click();
      await page.waitForFunction(() => document.body.getAttribute('data-backends') === '1');
      const models = await server.api('GET', '/api/models');
      assert.equal(models.json.models.length, 1);
      assert.match(await page.locator('#backends').innerText(), /Connected/);

      await page.locator('#train').click();
      await page.waitForFunction(() => /Training/.test(document.getElementById('model-msg').textContent));
      const trained = await page.locator('#model-msg').innerText();
      // The fake has no completions to learn from here: either answer is shown.
      assert.ok(/Training started|Training did not start/.test(trained), trained);

      await page.locator('#predict').click();
      await page.getByText('Predictions are ready').waitFor();
      await screenshot(page, '14-model');
      const t0 = await getTask(ids[0]);
      assert.deepEqual(t0.predictions[0].result[0].value.choices, ['Positive']);
      assert.ok(fake.calls.includes('POST /predict'), fake.calls.join(', '));

      // The labeling page starts from the prediction.
      await page.goto(server.base + '/');
      await widgetTask(page, ids[0]);
      assert.deepEqual((await selectedResult(page))[0].value.choices, ['Positive']);

      await page.goto(server.base + '/model');
      await page.waitForFunction(() => document.body.getAttribute('data-backends') === '1');
      await page.locator('#backends button', { hasText: 'Remove' }).click();
      await page.locator('.modal').getByRole('button', { name: 'Remove' }).click();
      await page.waitForFunction(() => document.body.getAttribute('data-backends') === '0');
      assert.equal((await server.api('GET', '/api/models')).json.models.length, 0);
    } finally {
      await context.close();
      await fake.stop();
    }
  });
});

describe('performance', () => {
  test('the labeling page of a 100k-task project is interactive fast', async (t) => {
    const big = await startServer({ project: 'big' });
    try {
      const ids = await resetProject(big, CHOICES, []);
      assert.equal(ids.length, 0);
      const started = Date.now();
      for (let b = 0; b < 10; b++) {
        const items = Array.from({ length: 10000 }, (_, i) => ({ text: `Task ${b * 10000 + i}: a short review text to label.` }));
        const r = await big.api('POST', '/api/project/import', items);
        assert.equal(r.status, 201, r.text.slice(0, 300));
      }
      const importSec = (Date.now() - started) / 1000;
      assert.equal((await big.api('GET', '/api/project')).json.task_count, 100000);
      // The page records when it first shows the widget ready to label
      // (after the frame that draws it: LS_LABELING.readyAt, in ms since
      // navigation). The test's own view comes later: goto waits for the
      // load event, then the injected polling script is compiled and ticks
      // on animation frames; it is reported too.
      const measure = async (context) => {
        const page = await context.newPage();
        await page.goto(big.base + '/');
        await page.waitForFunction(() => {
          const h = window.Htx;
          const ok = h && h.task && h.completionStore && h.completionStore.selected && !h.isLoading;
          if (ok && !window.__seen) window.__seen = performance.now();
          return ok && window.LS_LABELING && window.LS_LABELING.readyAt() !== null;
        }, null, { polling: 'raf' });
        const { ready, seen } = await page.evaluate(() => ({ ready: window.LS_LABELING.readyAt(), seen: window.__seen }));
        await page.close();
        assert.ok(ready > 0 && ready <= seen + 50, `ready at ${ready} ms, seen by the test at ${seen} ms`);
        return { ready, seen };
      };
      // Intercepting requests would turn the browser's cache off, so here
      // the offline guard only watches.
      const foreign = [];
      const context = await launchProfile();
      context.on('request', (req) => {
        const u = new URL(req.url());
        if (u.origin !== new URL(big.base).origin && !['data:', 'blob:', 'chrome:', 'chrome-extension:', 'about:'].includes(u.protocol)) foreign.push(req.url());
      });
      let cold;
      const warm = [];
      try {
        cold = await measure(context); // empty cache: every file is fetched and compiled
        for (let i = 0; i < 11; i++) {
          await sleep(500); // the browser writes its compiled-code cache in the background
          warm.push(await measure(context)); // a returning user
        }
      } finally {
        await context.close();
      }
      // The median of the returning visits after the first two, once the
      // compiled-code cache is in use: nine visits, as single loads vary by
      // 10-30 ms on a shared machine.
      const settled = (key) => warm.slice(2).map((m) => m[key]).sort((a, b) => a - b);
      const median = (key) => settled(key)[Math.floor(settled(key).length / 2)];
      const quartiles = (key) => { const v = settled(key); return `${v[Math.floor(v.length / 4)].toFixed(0)}–${v[Math.floor(3 * v.length / 4)].toFixed(0)}`; };
      const list = (key) => warm.map((m) => m[key].toFixed(0)).join(', ');
      const report = `100k tasks imported in ${importSec.toFixed(1)} s; page load of / to an interactive widget ` +
        `(the page's own mark after the frame that draws it): first visit ${cold.ready.toFixed(0)} ms, returning visits ` +
        `${list('ready')} ms (median of the last nine ${median('ready').toFixed(0)} ms, quartiles ${quartiles('ready')} ms; goal 300 ms). ` +
        `As first seen by the test's polling after the load event: first visit ${cold.seen.toFixed(0)} ms, returning visits ` +
        `${list('seen')} ms (median of the last nine ${median('seen').toFixed(0)} ms).`;
      t.diagnostic(report);
      console.log(report);
      await mkdir(artifacts, { recursive: true });
      await writeFile(path.join(artifacts, 'page-load.txt'), report + '\n');
      assert.ok(median('ready') < 2000, report); // a loose bound: the figure itself is reported
      assert.deepEqual(foreign, []);
    } finally {
      await big.stop();
    }
  });
});

describe('offline guard', () => {
  test('9. no request left the server origin and no page raised a script error', async () => {
    // Visit every page once more under the guard, with screenshots.
    await resetProject(server, CHOICES, [{ text: 'last check' }]);
    for (const [url, name] of [['/', '20-labeling'], ['/tasks', '21-tasks'], ['/setup', '22-setup'], ['/import', '23-import'],
      ['/export', '24-export'], ['/model', '25-model'], ['/welcome', '26-welcome']]) {
      const { context, page } = await open(url);
      await page.waitForLoadState('networkidle');
      if (url === '/') await widgetTask(page);
      if (url === '/setup') await page.locator('#render-editor').waitFor();
      await screenshot(page, name);
      await context.close();
    }
    assert.deepEqual(guard.foreign, [], 'requests that left the origin');
    assert.deepEqual(guard.pageErrors, [], 'script errors');
  });
});
