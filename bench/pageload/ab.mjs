// Interleaved A/B of the labeling page's load: two labelstudio binaries,
// each serving a project of 100,000 tasks, one Chromium profile, warm visits
// of / alternating between the two servers. Each visit reports the page's
// own ready mark (LS_LABELING.readyAt(), ms since navigation), as the
// browser test does. Alternating visits share whatever else the machine is
// doing, so the paired differences say more than two separate runs, whose
// medians drift by 10-30 ms on a busy machine.
//
//   CHROMIUM=/usr/bin/chromium node bench/pageload/ab.mjs OLD_BINARY NEW_BINARY
//
// PAIRS (default 40) sets the number of measured pairs; the first three
// pairs only warm the caches.
import { launchProfile, startServer, resetProject, sleep } from '../../frontend/e2e/harness.mjs';

const CONFIG = '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">' +
  '<Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices></View>';
const bins = process.argv.slice(2);
if (bins.length !== 2) {
  console.error('usage: node bench/pageload/ab.mjs OLD_BINARY NEW_BINARY');
  process.exit(2);
}
const pairs = Number(process.env.PAIRS || 40);

const servers = [];
try {
  for (const bin of bins) {
    process.env.LABELSTUDIO_BIN = bin;
    const s = await startServer({ project: 'pageload' });
    servers.push(s);
    await resetProject(s, CONFIG, []);
    for (let b = 0; b < 10; b++) {
      const items = Array.from({ length: 10000 }, (_, i) => ({ text: `Task ${b * 10000 + i}: a short review text to label.` }));
      const r = await s.api('POST', '/api/project/import', items);
      if (r.status !== 201) throw new Error(`${bin}: import answered ${r.status}`);
    }
  }
  const context = await launchProfile();
  const visit = async (s) => {
    const page = await context.newPage();
    await page.goto(s.base + '/');
    await page.waitForFunction(() => window.LS_LABELING && window.LS_LABELING.readyAt() !== null, null, { polling: 'raf' });
    const ready = await page.evaluate(() => window.LS_LABELING.readyAt());
    await page.close();
    return ready;
  };
  const ready = [[], []];
  for (let i = 0; i < pairs + 3; i++) {
    for (const k of i % 2 ? [1, 0] : [0, 1]) {
      await sleep(400); // the browser writes its compiled-code cache meanwhile
      const r = await visit(servers[k]);
      if (i >= 3) ready[k].push(r);
    }
  }
  await context.close();
  const sorted = (a) => [...a].sort((x, y) => x - y);
  const at = (a, q) => sorted(a)[Math.min(a.length - 1, Math.floor(q * a.length))];
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const line = (name, a) => `${name}: median ${at(a, 0.5).toFixed(0)} ms, mean ${mean(a).toFixed(0)}, p25 ${at(a, 0.25).toFixed(0)}, p75 ${at(a, 0.75).toFixed(0)}`;
  const diff = ready[1].map((b, i) => b - ready[0][i]);
  console.log(line('old ' + bins[0], ready[0]));
  console.log(line('new ' + bins[1], ready[1]));
  console.log(`new - old, paired: median ${at(diff, 0.5).toFixed(0)} ms, mean ${mean(diff).toFixed(0)} ms; new faster in ${diff.filter((d) => d < 0).length} of ${diff.length} pairs`);
} finally {
  for (const s of servers) await s.stop();
}
