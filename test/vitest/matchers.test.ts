/**
 * The `badgateway/vitest` matchers and lifecycle helpers, from the source, through a real nginx:
 * each matcher passes where it should, fails where it should, and its failure message carries the
 * wire transcript, the gateway's log lines for the request and the scenario file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite, type CaseResult } from '../../src/index.js';
import { useGateway, withGateway } from '../../src/vitest.js';
import { tryConnect } from '../helpers/raw-client.js';

const nginx = useGateway('nginx', { runtime: 'process', only: ['healthy', 'empty-reply', 'body-cut-fin-length', 'reset-after-request'] });

// Read at collection time, before beforeAll: there is no gateway yet.
let tooEarly: unknown;
try {
  void nginx.started;
} catch (err) {
  tooEarly = err;
}

const c: Record<string, CaseResult> = {};
beforeAll(async () => {
  for (const id of ['healthy', 'empty-reply', 'body-cut-fin-length', 'reset-after-request']) c[id] = await nginx.check(id);
});

/** The message a failing assertion throws. */
function failure(assertion: () => void): string {
  try {
    assertion();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the assertion passed; it should have failed');
}

describe('toBeGatewayError', () => {
  it('passes for the status the client got, any 5xx, and .not for a healthy answer', () => {
    expect(c['empty-reply']).toBeGatewayError(502);
    expect(c['empty-reply']).toBeGatewayError('5xx');
    expect(c['empty-reply']).toBeGatewayError();
    expect(c['reset-after-request']).toBeGatewayError(502);
    expect(c.healthy).not.toBeGatewayError();
    expect(c.healthy).not.toBeGatewayError('no-response');
    expect(c['empty-reply']).not.toBeGatewayError(504);
  });

  it('fails with the wire transcript of a healthy answer, and says no log line names the request', () => {
    const msg = failure(() => expect(c.healthy).toBeGatewayError(502));
    expect(msg).toMatch(/^healthy through nginx \d+\.\d+\.\d+: expected the client to get status 502, but it got status 200/);
    expect(msg).toMatch(/request: GET \/ through nginx \(process\), \d+ ms/);
    expect(msg).toContain('  < HTTP/1.1 200 OK\n');
    expect(msg).toMatch(/  < Server: nginx\/\d/);
    expect(msg).toContain('  < Content-Length: 3\n');
    expect(msg).toContain('  < ok\\n\n'); // the body, escaped
    expect(msg).toContain('(body complete, 3 of 3 bytes)');
    expect(msg).toContain('ended: a complete response (the probe closed)');
    expect(msg).toContain('gateway log: no gateway log line names this request');
    expect(msg).toMatch(/scenario: .*scenarios\/healthy\.yaml$/);
  });

  it('fails under .not with the 502 page and the log line that explains it', () => {
    const msg = failure(() => expect(c['empty-reply']).not.toBeGatewayError(502));
    expect(msg).toMatch(/expected the client not to get status 502, but it got status 502/);
    expect(msg).toContain('  < HTTP/1.1 502 Bad Gateway\n');
    expect(msg).toContain('<html>\\r\\n<head><title>502 Bad Gateway</title>');
    expect(msg).toMatch(/gateway log \(1 line for this request\):\n  .*\[error\].*upstream prematurely closed connection while reading response header from upstream.*empty-reply\/\?bgp=\d+.*   → upstream-closed-early\n/);
    expect(msg).toMatch(/scenario: .*scenarios\/empty-reply\.yaml$/);
  });

  it("fails for 'no-response' when a status came back", () => {
    expect(failure(() => expect(c['empty-reply']).toBeGatewayError('no-response'))).toMatch(/expected the client to get no response, but it got status 502/);
    expect(failure(() => expect(c.healthy).toBeGatewayError())).toMatch(/expected the client to get a 5xx status, but it got status 200/);
  });

  it('refuses a status that is not an error, and something that is not a result', async () => {
    expect(() => expect(c.healthy).toBeGatewayError(200)).toThrow(/toBeGatewayError takes an error status \(400–599\), '5xx' or 'no-response', got 200\. To check a status that is not an error, use expect\(result\.observed\.status\)\.toBe\(200\)/);
    const pending = nginx.check('healthy');
    expect(() => expect(pending).toBeGatewayError()).toThrow(/received a Promise: await check\(scenarioId\) first/);
    // Not a result is a failure under .not too, never a silent pass.
    expect(() => expect(pending).not.toBeGatewayError()).toThrow(/received a Promise/);
    expect(() => expect({ status: 502 }).toBeGatewayError()).toThrow(/takes a CaseResult .* got an object with status/);
    await pending;
  });
});

describe('toHaveBody', () => {
  it('passes for complete, truncated and a 502 page', () => {
    expect(c.healthy).toHaveBody('complete');
    expect(c['body-cut-fin-length']).toHaveBody('truncated');
    expect(c['empty-reply']).toHaveBody('complete');
    expect(c['body-cut-fin-length']).not.toHaveBody('complete');
  });

  it('fails with how much of the body came and how the connection ended', () => {
    const msg = failure(() => expect(c['body-cut-fin-length']).toHaveBody('complete'));
    expect(msg).toMatch(/^body-cut-fin-length through nginx [\d.]+: expected the body to be complete, but it was truncated/);
    expect(msg).toContain('  < HTTP/1.1 200 OK\n');
    expect(msg).toContain('  < Content-Length: 1000\n');
    expect(msg).toContain(`  < ${'x'.repeat(100)}\n`);
    expect(msg).toContain('(body truncated, 100 of 1000 bytes)');
    expect(msg).toContain('ended: the gateway closed the connection (FIN)');
    expect(msg).toMatch(/upstream prematurely closed connection while reading upstream.*   → upstream-truncated/);
    expect(failure(() => expect(c.healthy).not.toHaveBody('complete'))).toMatch(/expected the body not to be complete, but it was complete/);
  });

  it('refuses a state that does not exist', () => {
    expect(() => expect(c.healthy).toHaveBody('partial' as 'none')).toThrow(/toHaveBody takes one of complete, truncated, none, got "partial"/);
  });
});

describe('toHaveGatewayReason', () => {
  it('passes for a reason among the log lines of the request, and none for a healthy one', () => {
    expect(c['reset-after-request']).toHaveGatewayReason('upstream-reset');
    expect(c['empty-reply']).toHaveGatewayReason('upstream-closed-early');
    expect(c.healthy).toHaveGatewayReason('none');
    expect(c['empty-reply']).not.toHaveGatewayReason('upstream-reset');
  });

  it('fails naming what the log said, or that it said nothing', () => {
    const msg = failure(() => expect(c['reset-after-request']).toHaveGatewayReason('read-timeout'));
    expect(msg).toMatch(/expected the gateway's log to give the reason read-timeout, but the log said upstream-reset/);
    expect(msg).toMatch(/recv\(\) failed \(104: Connection reset by peer\).*reset-after-request\/\?bgp=\d+.*   → upstream-reset/);
    const quiet = failure(() => expect(c.healthy).toHaveGatewayReason('upstream-reset'));
    expect(quiet).toMatch(/but no log line for it has a reason/);
    expect(quiet).toContain('gateway log: no gateway log line names this request');
    expect(failure(() => expect(c['empty-reply']).toHaveGatewayReason('none'))).toMatch(/to give no reason, but the log said upstream-closed-early/);
  });

  it('refuses a reason no gateway reports (a typo)', () => {
    expect(() => expect(c.healthy).toHaveGatewayReason('upstream-rest')).toThrow(/no gateway adapter reports the reason "upstream-rest"\. The reasons are: .*upstream-reset/);
  });
});

describe('toPassExpectation', () => {
  it('passes for the built-in scenarios through nginx', () => {
    for (const r of Object.values(c)) expect(r).toPassExpectation();
  });

  it('fails under .not when the expectation holds', () => {
    expect(failure(() => expect(c.healthy).not.toPassExpectation())).toMatch(/expected the scenario's expectation to fail, but it holds \(expected status 200, body complete, reason none\)/);
  });

  it('works as an asymmetric matcher', () => {
    expect({ reply: c['empty-reply'], cut: c['body-cut-fin-length'] }).toEqual({ reply: expect.toBeGatewayError(502), cut: expect.toHaveBody('truncated') });
  });

  it('accepts a case of runSuite', async () => {
    const result = await runSuite({ gateways: ['nginx'], only: ['healthy'], runtime: 'process' });
    const [only] = result.runs[0]!.cases;
    expect(only).toPassExpectation();
    expect(only).not.toBeGatewayError();
  });
});

describe('a suite of our own, through withGateway', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'badgateway-matchers-'));
    await writeFile(join(dir, 'wrong-expectation.yaml'), 'description: empty reply, expected (wrongly) as a timeout\nfault: empty-reply\nexpect:\n  nginx:\n    status: 504\n    reason: read-timeout\n');
    await writeFile(join(dir, 'caddy-only.yaml'), 'description: measured on caddy only\nfault: healthy\nexpect:\n  caddy:\n    status: 200\n');
    await writeFile(join(dir, 'empty-reply-four.yaml'), "description: four empty replies\nfault: empty-reply\nsequence:\n  count: 4\nexpect:\n  nginx:\n    counts:\n      '502': '4'\n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints each mismatch, says why a case is unjudged, and shows a sequence', async () => {
    await withGateway({ gateway: 'nginx', runtime: 'process', suite: dir }, async (gw) => {
      const wrong = await gw.check('wrong-expectation');
      const msg = failure(() => expect(wrong).toPassExpectation());
      expect(msg).toMatch(/^wrong-expectation through nginx [\d.]+: the scenario's expectation does not hold:\n  status: expected 504, observed 502\n  reason: expected read-timeout, observed upstream-closed-early\n/);
      expect(msg).toContain('  < HTTP/1.1 502 Bad Gateway\n');
      expect(msg).toContain(`scenario: ${join(dir, 'wrong-expectation.yaml')}`);
      expect(wrong).not.toPassExpectation();

      const unjudged = await gw.check('caddy-only');
      expect(failure(() => expect(unjudged).toPassExpectation())).toMatch(/^caddy-only through nginx [\d.]+: cannot judge the expectation: no expectation measured for nginx/);
      // Unjudged is neither a pass nor a failure: .not fails too.
      expect(failure(() => expect(unjudged).not.toPassExpectation())).toMatch(/cannot judge the expectation: no expectation measured for nginx/);

      const four = await gw.check('empty-reply-four');
      expect(four).toPassExpectation();
      const seq = failure(() => expect(four).toBeGatewayError(504));
      expect(seq).toMatch(/but it got status 502 \(most common of 4 requests: 502 ×4\)/);
      expect(seq).toMatch(/request 1 of 4: GET \/ through nginx/);
      expect(seq).toContain('request 3 of 4');
      expect(seq).not.toContain('request 4 of 4');
      expect(seq).toContain('(1 more requests not shown)');
    });
  });
});

describe('lifecycles', () => {
  it('useGateway: the handle refuses use before its beforeAll ran', () => {
    expect(tooEarly).toBeInstanceOf(Error);
    expect((tooEarly as Error).message).toMatch(/useGateway\('nginx'\): the gateway runs only during the tests .* use it inside it\(\)\/test\(\), not at collection time/);
    expect(nginx.started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('withGateway stops the gateway when the test body throws', async () => {
    let url = '';
    await expect(
      withGateway({ gateway: 'nginx', runtime: 'process', only: ['healthy'] }, async (gw) => {
        url = gw.url;
        expect(await gw.check('healthy')).toPassExpectation();
        throw new Error('the test failed');
      }),
    ).rejects.toThrow('the test failed');
    const { port } = new URL(url);
    expect(await tryConnect(Number(port), 2000)).toBe('ECONNREFUSED');
  });
});

