/**
 * The HTML matrix as a person sees it: real nginx, HAProxy, Caddy and Apache
 * results (one suite, four gateways) rendered in headless Chromium, the DOM read
 * back, and the screenshot's pixels checked for the pass, fail and observed
 * colours where the cells are.
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
import { builtinScenarios } from '../helpers/suite.js';

const CHROMIUM = process.env.BADGATEWAY_CHROMIUM ?? '/usr/bin/chromium';
const GATEWAY_IDS = ['nginx', 'haproxy', 'caddy', 'apache'];
const haveChromium = existsSync(CHROMIUM);

let dir: string;
let result: SuiteResult;
let browser: Browser | undefined;
let pick: (id: string) => Scenario;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'badgateway-html-'));
  const catalogue = new Catalogue();
  const all = await loadSuite(builtinScenarioDir(), catalogue, GATEWAYS.map((g) => g.id));
  pick = (id: string) => all.find((s) => s.id === id)!;
  // Two that hold everywhere, one Apache skips (no resolver of its own), and one deliberately
  // wrong for nginx (and unmeasured elsewhere), so the matrix shows every kind of cell.
  const wrong: Scenario = { ...pick('empty-reply'), id: 'empty-reply-expecting-504', expect: { nginx: { status: 504 } } };
  const gateways = GATEWAY_IDS.map(gatewayById);
  result = await runSuite({ scenarios: [pick('healthy'), pick('reset-after-request'), pick('dns-nxdomain'), wrong], gateways, catalogue, runtime: 'process' });
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
  expect(md).toMatch(/\| scenario \| nginx 1\.\d+\.\d+ \(process\) \| haproxy 2\.\d+\.\d+ \(process\) \| caddy 2\.\d+\.\d+\+go1\.[\d.]+ \(process\) \| apache 2\.4\.\d+ \(process\) \|/);
  expect(md).toMatch(/\| empty-reply-expecting-504 \| ❌ 502/);
  expect(md).toMatch(/\| healthy \| ✅ 200[^|]*\| ✅ 200[^|]*\| ✅ 200[^|]*\| ✅ 200[^|]*\|/);
  expect(md).toMatch(/\| dns-nxdomain \| ✅ 502[^|]*\| ✅ 503[^|]*\| ✅ 502[^|]*\| ⏭ skipped: apache resolves upstream names with the system resolver only[^|]*\|/);
});

test.skipIf(!haveChromium && !process.env.CI)('the matrix renders in headless Chromium: cells, colours, screenshot', { timeout: 60_000 }, async () => {
  expect(haveChromium, `Chromium is needed at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
  const file = join(dir, 'matrix.html');
  await writeFile(file, toHtml(result));
  const page = await browser!.newPage({ viewport: { width: 1200, height: 700 } });
  await page.goto(`file://${file}`);
  // One column per gateway, in the order asked for, each headed with its version.
  const heads = await page.locator('thead th').allInnerTexts();
  expect(heads.slice(1).map((h) => h.split(' ')[0])).toEqual(GATEWAY_IDS);
  const rows = await page.locator('tbody tr').count();
  expect(rows).toBe(4);
  // Row by row: healthy and reset-after-request hold on all four; the wrong one fails on nginx
  // and is only observed on the others, with the reason shown in the cell.
  const grid = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td.cell')].map((td) => td.getAttribute('data-state'))));
  const byRow = new Map(await page.locator('tbody tr th.scenario').evaluateAll((ths) => ths.map((th, i) => [th.firstChild!.textContent!.trim(), i] as const)));
  expect(grid[byRow.get('healthy')!]).toEqual(['pass', 'pass', 'pass', 'pass']);
  expect(grid[byRow.get('reset-after-request')!]).toEqual(['pass', 'pass', 'pass', 'pass']);
  expect(grid[byRow.get('empty-reply-expecting-504')!]).toEqual(['fail', 'observed', 'observed', 'observed']);
  expect(grid[byRow.get('dns-nxdomain')!]).toEqual(['pass', 'pass', 'pass', 'skipped']);
  expect(await page.locator('td[data-state="skipped"]').innerText()).toMatch(/^skipped\s+apache resolves upstream names with the system resolver only/);
  expect(await page.locator('td.observed').first().innerText()).toContain('no expectation measured for haproxy');
  // Why a gateway answers as it does (nginx's 504 for never-respond, HAProxy's 503 for a name that does not
  // resolve) is on the page, not in a tooltip: the scenario's description is text in its row.
  const nxRow = page.locator('tbody tr', { has: page.locator('th.scenario', { hasText: 'dns-nxdomain' }) });
  const why = await nxRow.locator('th.scenario .why').innerText();
  expect(why).toBe(pick('dns-nxdomain').description.trim());
  expect(why).toMatch(/503/);
  expect(await nxRow.locator('th.scenario .why').isVisible()).toBe(true);
  // Each column names what ran, not only the gateway's name and version.
  expect(heads[1]).toMatch(/from \/\S*nginx/);
  const failBox = (await page.locator('td.fail').boundingBox())!;
  const passBox = (await page.locator('td.pass').first().boundingBox())!;
  const seenBox = (await page.locator('td.observed').first().boundingBox())!;
  const shot = PNG.sync.read(await page.screenshot({ path: join(dir, 'matrix.png'), fullPage: true }));
  expect(shot.width).toBe(1200);
  const pixel = (x: number, y: number) => {
    const i = (shot.width * Math.round(y) + Math.round(x)) * 4;
    return [shot.data[i]!, shot.data[i + 1]!, shot.data[i + 2]!];
  };
  // Sample the right edge of each cell, clear of text: the background colour shows there.
  expect(pixel(failBox.x + failBox.width - 4, failBox.y + failBox.height / 2)).toEqual([0xff, 0xeb, 0xe9]);
  expect(pixel(passBox.x + passBox.width - 4, passBox.y + passBox.height / 2)).toEqual([0xda, 0xfb, 0xe1]);
  expect(pixel(seenBox.x + seenBox.width - 4, seenBox.y + seenBox.height / 2)).toEqual([0xf6, 0xf8, 0xfa]);
  // Four gateway columns side by side fit the page: nothing pushes the matrix wider than the window.
  expect(failBox.x + failBox.width).toBeLessThanOrEqual(1200);
  await page.close();
});

test('a scenario every gateway skipped still gets a row that says why, in both matrices', async () => {
  const { scenarios } = await builtinScenarios(['dns-ok']);
  const why = 'apache resolves upstream names with the system resolver only; it cannot use badgateway\'s DNS responder';
  const skippedEverywhere: SuiteResult = {
    runs: [{ gateway: 'apache', version: '2.4.71', runtime: 'process', cases: [], skipped: [{ scenario: scenarios[0]!, why }], durationMs: 1 }],
    durationMs: 1,
    passed: 0,
    failed: 0,
    unchecked: 0,
    skipped: 1,
  };
  const html = toHtml(skippedEverywhere);
  expect(html).toMatch(/<th class="scenario"[^>]*>dns-ok/);
  expect(html).toContain('data-state="skipped"');
  expect(html).toContain('1 scenarios × 1 gateway');
  expect(toMarkdown(skippedEverywhere)).toContain(`| dns-ok | ⏭ skipped: ${why} |`);
});
