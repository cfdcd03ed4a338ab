/**
 * The versions report through real nginx: 1.22.1 (Debian bookworm's, badgateway/nginx:bookworm)
 * against 1.30.x (Debian sid's, badgateway/nginx:sid), both in the container runtime at once.
 * Measured there: 1.30 relays an upstream's 100 Continue and then times out where 1.22 answers
 * 200, and refuses duplicate Content-Length and Content-Length with chunked (502) where 1.22
 * relayed them (scenarios/interim-100.yaml, duplicate-content-length.yaml,
 * content-length-and-chunked.yaml). healthy is the same in both and must not be listed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runVersions } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { dockerImagePresent } from '../helpers/docker.js';

const IMAGES = ['badgateway/nginx:bookworm', 'badgateway/nginx:sid'];
const why = IMAGES.map(dockerImagePresent).find((w) => w !== undefined);
const dir = mkdtempSync(join(tmpdir(), 'badgateway-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('badgateway versions: nginx 1.22 against 1.30', () => {
  test.skipIf(why !== undefined && !process.env.CI)('lists the 1xx and duplicate-length differences, and not a scenario both answer alike', { timeout: 180_000 }, async () => {
    expect(why, 'CI must provide Docker and the images of scripts/build-gateway-image.sh nginx --release bookworm|sid').toBeUndefined();
    const json = join(dir, 'versions.json');
    const md = join(dir, 'versions.md');
    const r = await runCli(
      ['versions', '--gateway', 'nginx', ...IMAGES.flatMap((i) => ['--image', i]), '--only', 'interim-100', '--only', 'duplicate-content-length', '--only', 'content-length-and-chunked', '--only', 'healthy', '--reporter', 'console', '--reporter', `json:${json}`, '--reporter', `markdown:${md}`],
      { TESTCONTAINERS_RYUK_DISABLED: 'true' },
      170_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      columns: Array<{ label: string; version: string }>;
      differing: string[];
      rows: Array<{ scenario: string; differs: string[]; cells: Array<{ state: string; observed: { status: unknown; body: string; reasons: string[] } }> }>;
    };
    // Each column names the version the gateway reported and the image it ran from.
    expect(report.columns.map((c) => c.label)).toEqual([expect.stringMatching(/^nginx 1\.22\.1 \(badgateway\/nginx:bookworm\)$/), expect.stringMatching(/^nginx 1\.30\.\d+ \(badgateway\/nginx:sid\)$/)]);
    expect(report.differing).toEqual(['content-length-and-chunked', 'duplicate-content-length', 'interim-100']);
    const row = (id: string) => report.rows.find((x) => x.scenario === id)!;
    expect(row('interim-100').cells.map((c) => [c.state, c.observed.status])).toEqual([['pass', 200], ['pass', 'no-response']]);
    expect(row('duplicate-content-length').cells.map((c) => [c.observed.status, c.observed.body, c.observed.reasons])).toEqual([[200, 'truncated', ['upstream-truncated']], [502, 'complete', ['duplicate-header']]]);
    expect(row('content-length-and-chunked').cells.map((c) => c.observed.status)).toEqual([200, 502]);
    expect(report.rows.map((x) => x.scenario)).not.toContain('healthy');

    // The terminal table and the markdown matrix: versions across, the same rows.
    expect(r.stdout).toMatch(/^ {2}scenario +1\.22\.1 +1\.30\.\d+$/m);
    expect(r.stdout).toMatch(/^ {2}interim-100 +pass 200 · complete · no log reason · \d+ ms +pass no-response · read-timeout · \d+ ms$/m);
    expect(r.stdout).not.toMatch(/^ {2}healthy /m);
    expect(r.stdout).toContain('3 of 4 scenarios differ between nginx 1.22.1 and 1.30.');
    const markdown = readFileSync(md, 'utf8');
    expect(markdown).toMatch(/\| scenario \| differs in \| nginx 1\.22\.1 \(badgateway\/nginx:bookworm\) \| nginx 1\.30\.\d+ \(badgateway\/nginx:sid\) \|/);
    expect(markdown).toMatch(/\| duplicate-content-length \| status, body, reason \| ✅ 200 · truncated · upstream-truncated · \d+ ms \| ✅ 502 · complete · duplicate-header · \d+ ms \|/);
    expect(markdown).not.toContain('| healthy |');
  });

  test.skipIf(why !== undefined && !process.env.CI)('--parallel: both versions in one run at once (one nginx twice, two images), the same difference', { timeout: 120_000 }, async () => {
    expect(why).toBeUndefined();
    const ready: string[] = [];
    const events: string[] = [];
    const report = await runVersions({
      gateway: 'nginx',
      images: IMAGES,
      only: ['healthy', 'duplicate-content-length'],
      parallel: true,
      progress: { onGatewayReady: (i) => (ready.push(`${i.version} ${i.source}`), events.push('ready')), onCase: () => events.push('case') },
    });
    // At once: both versions had started before either was judged (one after another would read ready, case, case, ready, ...).
    expect(events).toEqual(['ready', 'ready', 'case', 'case', 'case', 'case']);
    expect(ready.sort()).toEqual([expect.stringMatching(/^1\.22\.1 badgateway\/nginx:bookworm$/), expect.stringMatching(/^1\.30\.\d+ badgateway\/nginx:sid$/)]);
    expect(report.columns.map((c) => c.source)).toEqual(IMAGES);
    expect(report.rows.map((r) => [r.scenario.id, r.differs])).toEqual([
      ['duplicate-content-length', ['status', 'body', 'reason']],
      ['healthy', []],
    ]);
  });
});
