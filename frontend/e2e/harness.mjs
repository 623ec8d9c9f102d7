// Test harness of the browser tests: starts the real labelstudio binary on a
// loopback port with a fresh data directory, drives Debian's Chromium
// through playwright-core (never a downloaded browser), blocks and records
// every request that would leave the server's origin, and saves
// screenshots into test-artifacts/.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const artifacts = path.join(repoRoot, 'test-artifacts');

// Schemes the offline guard lets through: they never touch the network.
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'chrome:', 'chrome-extension:', 'about:']);

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error('Chromium is not installed: run `make e2e` (it installs Debian\'s chromium) or set CHROMIUM');
  }
  return found;
}

// launchBrowser starts headless Chromium. playwright gives every launch a
// fresh temporary profile (its own --user-data-dir), removed on close.
export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// launchProfile starts Chromium with a fresh on-disk profile, as a person's
// browser has: its HTTP cache and compiled-code cache persist across page
// loads, which a throwaway context does not do.
export async function launchProfile(options = {}) {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'ls-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    ...options,
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    await rm(userDataDir, { recursive: true, force: true });
  };
  return context;
}

// startServer runs bin/labelstudio (or $LABELSTUDIO_BIN) on a free loopback
// port with a fresh data directory and waits for /api/health.
export async function startServer({ project = 'e2e' } = {}) {
  const bin = process.env.LABELSTUDIO_BIN || path.join(repoRoot, 'bin', 'labelstudio');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it with make build`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ls-e2e-'));
  const proc = spawn(bin, ['start', project, '--root-dir', dir, '--no-browser', '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (b) => { out += b; });
  proc.stderr.on('data', (b) => { out += b; });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start:\n' + out)), 15000);
    const look = () => {
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout.on('data', look);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited with ${code}:\n${out}`)); });
  });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(base + '/api/health');
      if (r.ok) break;
    } catch { /* not yet */ }
    await sleep(50);
  }
  const server = {
    base,
    dir,
    log: () => out,
    api: (method, url, body, headers = {}) => api(base, method, url, body, headers),
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// api calls the server and returns {status, headers, text, json}.
export async function api(base, method, url, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof FormData || body instanceof URLSearchParams || body instanceof Uint8Array) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  const r = await fetch(base + url, init);
  const buf = Buffer.from(await r.arrayBuffer());
  const text = buf.toString('utf8');
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json, body: buf };
}

// resetProject empties the project and gives it a config and tasks; it
// returns the new task ids.
export async function resetProject(server, config, tasks = []) {
  let r = await server.api('DELETE', '/api/tasks');
  if (r.status !== 204) throw new Error(`DELETE /api/tasks: ${r.status} ${r.text}`);
  r = await server.api('POST', '/api/project/config', { label_config: config });
  if (r.status !== 201) throw new Error(`config: ${r.status} ${r.text}`);
  if (!tasks.length) return [];
  r = await server.api('POST', '/api/project/import', tasks);
  if (r.status !== 201) throw new Error(`import: ${r.status} ${r.text}`);
  return r.json.new_task_ids;
}

// Guard records what pages try to fetch from elsewhere and the script
// errors they raise, for every context it is attached to.
export class Guard {
  constructor(base) {
    this.origin = new URL(base).origin;
    this.foreign = [];
    this.pageErrors = [];
  }

  async attach(context) {
    await context.route('**/*', (route) => {
      const url = route.request().url();
      let u;
      try { u = new URL(url); } catch { u = null; }
      if (u && (u.origin === this.origin || LOCAL_SCHEMES.has(u.protocol))) return route.continue();
      this.foreign.push(url);
      return route.abort('blockedbyclient');
    });
    context.on('page', (p) => this.watch(p));
  }

  watch(page) {
    page.on('pageerror', (e) => this.pageErrors.push(`${page.url()}: ${e.message}`));
  }
}

export async function newPage(browser, guard, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...options });
  await guard.attach(context);
  const page = await context.newPage();
  guard.watch(page);
  page.setDefaultTimeout(30000);
  return { context, page };
}

export async function screenshot(page, name) {
  await mkdir(artifacts, { recursive: true });
  const file = path.join(artifacts, name + '.png');
  await page.screenshot({ path: file });
  return file;
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// waitFor polls fn until it returns a truthy value.
export async function waitFor(fn, what, timeout = 10000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; last value: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

// unzip lists the entries of a ZIP archive: {name: Buffer}.
export function unzip(buf) {
  const files = {};
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a ZIP file');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad ZIP central directory');
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataAt, dataAt + size);
    files[name] = method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

// startFakeML runs a minimal ML backend of the 0.8.1 protocol on a loopback
// port: it predicts one fixed choice for every task and accepts training.
export async function startFakeML({ fromName = 'sentiment', toName = 'text', choice = 'Positive' } = {}) {
  const calls = [];
  const version = '1600000000';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b) => { body += b; });
    req.on('end', () => {
      const path = new URL(req.url, 'http://x').pathname;
      calls.push(req.method + ' ' + path);
      const send = (status, obj) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      let json = {};
      try { json = body ? JSON.parse(body) : {}; } catch { json = {}; }
      switch (path) {
        case '/health': return send(200, { status: 'UP', model_dir: 'fake_model' });
        case '/setup': return send(200, { model_version: version });
        case '/is_training': return send(200, { is_training: false, backend: 'none', model_version: version });
        case '/train': return send(201, { job: 'job-1' });
        case '/job_status': return send(200, { job_status: 'finished' });
        case '/delete': return send(200, {});
        case '/predict': {
          const tasks = json.tasks || [];
          return send(200, {
            model_version: version,
            results: tasks.map(() => ({
              score: 0.75,
              result: [{ from_name: fromName, to_name: toName, type: 'choices', value: { choices: [choice] } }],
            })),
          });
        }
        default: return send(404, { detail: 'no such endpoint ' + path });
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls,
    stop: () => new Promise((r) => server.close(r)),
  };
}
