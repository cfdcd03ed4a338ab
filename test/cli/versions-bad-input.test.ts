/**
 * `badgateway versions` with input it cannot use: exit 2, one paragraph that says what to do,
 * no stack, and (but for a missing image, which only the container runtime can find out)
 * before anything starts.
 */
import { describe, expect, test } from 'vitest';
import { GATEWAYS } from '../../src/gateways/index.js';
import { containersLabelled, dockerImagePresent } from '../helpers/docker.js';
import { runCli, startCli } from '../helpers/cli.js';

const oneParagraph = (stderr: string) => {
  expect(stderr).toMatch(/^badgateway: /);
  expect(stderr).not.toMatch(/\n\s+at /);
};

describe('versions: bad input', () => {
  test('one image only: it compares at least two versions, and says how to name them', async () => {
    const r = await runCli(['versions', '--gateway', 'nginx', '--image', 'badgateway/nginx:bookworm']);
    expect(r.code).toBe(2);
    oneParagraph(r.stderr);
    expect(r.stderr).toContain('versions compares at least two versions of nginx, and was given only one version (--image badgateway/nginx:bookworm)');
    expect(r.stderr).toContain('--image badgateway/nginx:bookworm --image badgateway/nginx:sid, or add --local');
    expect(r.stdout).toBe('');
  });

  test('no image at all', async () => {
    const r = await runCli(['versions', '--gateway', 'haproxy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('versions compares at least two versions of haproxy, and was given no version');
  });

  test('an unknown gateway names the closest one', async () => {
    const r = await runCli(['versions', '--gateway', 'ngnix', '--image', 'a:1', '--image', 'b:1']);
    expect(r.code).toBe(2);
    oneParagraph(r.stderr);
    expect(r.stderr).toBe(`badgateway: unknown gateway "ngnix". Known: ${GATEWAYS.map((g) => g.id).join(', ')} (closest: nginx).\n`);
  });

  test('several gateways, an image twice, run\'s GATEWAY=IMAGE form, a reporter versions does not have', { timeout: 90_000 }, async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--gateway', 'nginx,haproxy', '--image', 'a:1', '--image', 'b:1'], /versions compares versions of one gateway\. Name one \(e\.g\. --gateway nginx\); to compare different gateways, use `badgateway run --gateway nginx,haproxy`/],
      [['--image', 'badgateway/nginx:sid', '--image', 'badgateway/nginx:sid'], /--image badgateway\/nginx:sid is named twice/],
      [['--image', 'nginx=badgateway/nginx:sid', '--image', 'badgateway/nginx:bookworm'], /give the image alone, e\.g\. --image badgateway\/nginx:sid/],
      [['--image', 'a:1', '--image', 'b:1', '--reporter', 'junit'], /versions has no reporter "junit" \(junit reports one run's verdicts: use `badgateway run` for it\); use console, markdown, html, json/],
      [['--image', 'a:1', '--image', 'b:1', '--reporter', 'md'], /no reporter "md" \(closest: markdown\)/],
      [['--image', 'a:1', '--image', 'b:1', '--reporter', 'html', '--reporter', 'json'], /would all print on stdout/],
      [['--image', 'a:1', '--image', 'b:1', '--reporter', 'html:/nonexistent-dir/x.html'], /the folder \/nonexistent-dir does not exist/],
      [['--image', 'a:1', '--image', 'b:1', '--only', 'no-such-scenario'], /no-such-scenario/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['versions', ...args])));
    for (const [i, [args, re]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      oneParagraph(r.stderr);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
  });

  const why = dockerImagePresent('badgateway/nginx:bookworm');
  test.skipIf(why !== undefined && !process.env.CI)('an image that is not on this machine (and cannot be pulled) is a start error naming it; the other version is stopped', { timeout: 120_000 }, async () => {
    expect(why, 'CI must provide Docker and the locally built image').toBeUndefined();
    const { child, done } = startCli(['versions', '--gateway', 'nginx', '--image', 'badgateway/nginx:bookworm', '--image', 'badgateway/nginx:no-such-release', '--only', 'healthy'], { TESTCONTAINERS_RYUK_DISABLED: 'true' });
    const r = await done;
    expect(r.code).toBe(2);
    // The bookworm column may have started before the other failed: it is gone too.
    expect(containersLabelled(`org.badgateway.run=${child.pid}`)).toEqual([]);
    oneParagraph(r.stderr);
    expect(r.stderr).toMatch(/^badgateway: cannot run nginx: container: no usable image \(badgateway\/nginx:no-such-release: not present and could not be pulled/);
  });
});
