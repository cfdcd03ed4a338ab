/**
 * One container test per version a gateway's expectations were measured on (its adapter's
 * `measuredOn`): the whole built-in suite through that version's image, every case judged and
 * every expectation holding. The adapter's local image is left out: the gateway's own container
 * test runs it.
 *
 * BADGATEWAY_TEST_RELEASE_IMAGES=0 skips them: `.ci/run` sets it for its second test run (Node 24),
 * since what runs in those images is the gateway, not this Node; the first run (Node 20) has run
 * them, and the host suites still run the harness on Node 24.
 */
import { expect, test } from 'vitest';
import { gatewayById } from '../../src/gateways/index.js';
import { dockerImagePresent } from './docker.js';
import { failures, runBuiltin } from './suite.js';

export function measuredImageTests(gatewayId: string): void {
  const adapter = gatewayById(gatewayId);
  const releaseImages = process.env.BADGATEWAY_TEST_RELEASE_IMAGES !== '0';
  for (const m of adapter.measuredOn ?? []) {
    if (m.image === adapter.localImage) continue;
    if (!releaseImages) {
      test.skip(`container runtime, ${m.image}: BADGATEWAY_TEST_RELEASE_IMAGES=0 (the gateway in the image does not depend on this Node)`, () => {});
      continue;
    }
    const why = dockerImagePresent(m.image);
    const release = m.image.split(':')[1];
    test.skipIf(why !== undefined && !process.env.CI)(`container runtime, ${m.image} (${gatewayId} ${m.version}): every case judged, every expectation holds`, { timeout: 120_000 }, async (ctx) => {
      expect(why, `CI must provide Docker and the locally built image (scripts/build-gateway-image.sh ${gatewayId} --release ${release})`).toBeUndefined();
      const r = await runBuiltin([gatewayId], 'container', { image: m.image });
      const run = r.runs[0]!;
      expect(run.runtime).toBe('container');
      expect(run.source).toBe(m.image);
      expect(failures(r)).toBe('');
      expect(r.failed).toBe(0);
      if (run.version !== m.version) {
        // Debian moved the release's package on since it was measured (a fresh image got a newer
        // build): what the run reports must then say so instead of judging it.
        for (const c of run.cases) if (!c.verdict) expect(c.unjudged, c.scenario.id).toMatch(new RegExp(`^(not measured on ${gatewayId} |no expectation measured for ${gatewayId})`));
        ctx.skip(`${m.image} now holds ${gatewayId} ${run.version ?? '(version unknown)'}, not ${m.version} that the suite was measured on: its cases are reported "not measured". Measure it (badgateway run --gateway ${gatewayId} --runtime container --image ${gatewayId}=${m.image}, several times), record what differs in scenarios/*.yaml and put the version in measuredOn (src/gateways/${gatewayId}.ts).`);
      }
      expect(r.unchecked).toBe(0);
      expect(r.passed).toBe(run.cases.length);
      expect(r.passed).toBeGreaterThanOrEqual(40);
    });
  }
}
