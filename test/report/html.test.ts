/**
 * The HTML matrix as a person sees it: real nginx results rendered in headless
 * Chromium, the DOM read back, and the screenshot's pixels checked for the
 * pass and fail colours where the cells are.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS, gatewayById } from '../../src/gateways/index.js';
import { runSuite, type SuiteResult } from '../../src/harness/run.js';
import { toHtml } from '../../src/report/html.js';
import { toMarkdown } from '../../src/report/markdown.js';
import { builtinScenarioDir, loadSuite } from '../../src/scenarios/load.js';
import type { Scenario } from '../../src/scenarios/scenario.js';

const CHROMIUM = process.env.BADGATEWAY_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

let dir: string;
let result: SuiteResult;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-html-'));
  const catalogue = new Catalogue();
  const all = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
  const pick = (id: string) => all.find((s) => s.id === id)!;
  // Two that hold and one deliberately wrong, so the matrix shows both colours.
  const wrong: Scenario = { ...pick('empty-reply'), id: 'empty-reply-expecting-504', expect: { nginx: { status: 504 } } };
  result = await runSuite({ scenarios: [pick('healthy'), pick('reset-after-request'), wrong], gateways: [gatewayById('nginx')], catalogue, runtime: 'process' });
  if (haveChromium) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the matrix escapes what gateways and scenarios put in it', () => {
  const html = toHtml(result);
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).not.toMatch(/<script/);
  expect(html).toContain('status: expected 504, got 502');
  expect(html).toContain('upstream prematurely closed connection');
  expect(html).not.toMatch(/request: "GET \/s\/[^"]*"/); // quotes in log lines are escaped
});

test('markdown gives the same matrix for a CI summary', () => {
  const md = toMarkdown(result);
  expect(md).toMatch(/\| scenario \| nginx 1\.\d+\.\d+ \(process\) \|/);
  expect(md).toMatch(/\| empty-reply-expecting-504 \| ❌ 502/);
  expect(md).toMatch(/\| healthy \| ✅ 200/);
});

test.skipIf(!haveChromium && !process.env.CI)('the matrix renders in headless Chromium: cells, colours, screenshot', { timeout: 60_000 }, async () => {
  expect(haveChromium, `Chromium is needed at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
  const file = join(dir, 'matrix.html');
  await writeFile(file, toHtml(result));
  const page = await browser!.newPage({ viewport: { width: 1000, height: 600 } });
  await page.goto(`file://${file}`);
  const rows = await page.locator('tbody tr').count();
  expect(rows).toBe(3);
  const states = await page.locator('td.cell').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-state')));
  expect(states.sort()).toEqual(['fail', 'pass', 'pass']);
  const failBox = (await page.locator('td.fail').boundingBox())!;
  const passBox = (await page.locator('td.pass').first().boundingBox())!;
  const shot = PNG.sync.read(await page.screenshot({ path: join(dir, 'matrix.png'), fullPage: true }));
  expect(shot.width).toBe(1000);
  const pixel = (x: number, y: number) => {
    const i = (shot.width * Math.round(y) + Math.round(x)) * 4;
    return [shot.data[i]!, shot.data[i + 1]!, shot.data[i + 2]!];
  };
  // Sample the right edge of each cell, clear of text: the background colour shows there.
  expect(pixel(failBox.x + failBox.width - 4, failBox.y + failBox.height / 2)).toEqual([0xff, 0xeb, 0xe9]);
  expect(pixel(passBox.x + passBox.width - 4, passBox.y + passBox.height / 2)).toEqual([0xda, 0xfb, 0xe1]);
  await page.close();
});
