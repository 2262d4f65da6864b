// The browser playground in a real headless browser: Debian's chromium driven by puppeteer-core
// (no browser download). The page loads without console errors, training lowers the loss, the
// step-by-step backward pass ends with the engine's gradients, and a screenshot is written to
// test-output/playground.png. Skipped, with a message, where chromium is not installed (unless
// TSGRAD_REQUIRE_BROWSER=1); CHROMIUM_PATH points at another binary.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Server } from 'node:http';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildPlayground, serveStatic } from '../../scripts/playground.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = path.join(process.cwd(), 'test-output', 'playground.png');

interface PageState {
  ready: boolean;
  step: number;
  losses: number[];
  accuracy: number;
  backendText: string;
  backend: { chosen: string; gpujsTarget: string | null } | null;
  backprop: { frames: number; at: number; matchesEngine: boolean } | null;
  errors: string[];
}

describe('deploy: the browser playground (headless chromium)', function () {
  this.timeout(120_000);
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  const problems: string[] = [];
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-chromium-'));

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      // CI sets TSGRAD_REQUIRE_BROWSER=1 after installing chromium, so that a failed install fails
      if (process.env.TSGRAD_REQUIRE_BROWSER === '1') throw new Error(`no chromium at ${CHROMIUM}, and TSGRAD_REQUIRE_BROWSER=1`);
      console.log(`      skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
      this.skip();
    }
    ({ server, url } = await serveStatic(await buildPlayground(), 0));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1250 });
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => (globalThis as unknown as { __playground?: PageState }).__playground?.ready === true, { timeout: 30_000 }); // runs in the page
  });

  after(async () => {
    await browser?.close();
    server?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  const state = () => page.evaluate(() => JSON.parse(JSON.stringify((globalThis as unknown as { __playground: PageState }).__playground)) as PageState);

  it('trains the MLP in the page: the loss falls and the accuracy rises', async () => {
    await page.waitForFunction(() => ((globalThis as unknown as { __playground: PageState }).__playground.step >= 60), { timeout: 60_000, polling: 200 });
    const s = await state();
    const first = s.losses[0], last = s.losses.at(-1)!;
    console.log(`      ${s.backendText} · ${s.step} steps: loss ${first.toFixed(3)} → ${last.toFixed(3)}, accuracy ${(s.accuracy * 100).toFixed(1)}%`);
    expect(last).to.be.below(first * 0.5);
    expect(s.accuracy).to.be.above(0.85);
    expect(s.backend!.gpujsTarget).to.be.a('string');
    expect(s.backendText).to.match(/^(gpujs: gpu\.js kernels on webgl2?|js: plain TypeScript loops)/);
  });

  it('steps through one backward pass to the gradients loss.backward() gives', async () => {
    await page.click('#toggle'); // pause training: the clicks need no wait for a busy frame
    const frames = (await state()).backprop!.frames;
    expect(frames).to.be.above(8);
    for (let i = 1; i < frames; i++) await page.click('#bp-next');
    const s = await state();
    expect(s.backprop).to.deep.equal({ frames, at: frames - 1, matchesEngine: true });
    expect(await page.$eval('#bp-caption', (e) => e.textContent)).to.match(/The same values as loss\.backward\(\)/);
    expect(await page.$$eval('#bp-graph svg g.tensor', (gs) => gs.length)).to.be.above(10);
    for (let i = 0; i < 4; i++) await page.click('#bp-prev'); // a middle frame for the screenshot
    expect(await page.$eval('#bp-rule', (e) => e.textContent)).to.match(/→/);
  });

  it('logs no errors, and leaves a screenshot in test-output/', async () => {
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).to.be.above(10_000);
    expect(problems).to.deep.equal([]);
    expect((await state()).errors).to.deep.equal([]);
  });
});
