import { describe, expect, test } from 'vitest';
import { parseImages } from '../../src/cli/commands/run.js';
import { InputError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

describe('--image', () => {
  test('one image for one gateway, or GATEWAY=IMAGE for any of several', () => {
    expect(parseImages(undefined, ['nginx'])).toBeUndefined();
    expect(parseImages(['nginx:1.27'], ['nginx'])).toBe('nginx:1.27');
    expect(parseImages(['nginx=nginx:1.27'], ['nginx'])).toEqual({ nginx: 'nginx:1.27' });
    expect(parseImages(['envoy=envoyproxy/envoy:v1.39-latest', 'traefik=traefik:v3.7'], ['nginx', 'envoy', 'traefik'])).toEqual({ envoy: 'envoyproxy/envoy:v1.39-latest', traefik: 'traefik:v3.7' });
  });

  test('an image that would be every gateway\'s, or one for a gateway the run does not use, is an error that says what to write', () => {
    expect(() => parseImages(['envoyproxy/envoy:v1.39-latest'], ['nginx', 'envoy'])).toThrow(InputError);
    expect(() => parseImages(['envoyproxy/envoy:v1.39-latest'], ['nginx', 'envoy'])).toThrow(/--image envoy=envoyproxy\/envoy:v1\.39-latest/);
    expect(() => parseImages(['traefik=traefik:v3.7'], ['nginx'])).toThrow(/names gateway "traefik", which this run does not use/);
  });

  test('through the CLI: exit 2, one paragraph, no stack', async () => {
    const r = await runCli(['run', '--gateway', 'nginx,caddy', '--image', 'foo:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^badgateway: --image foo:1 would be the image of every gateway in this run \(nginx, caddy\); name the gateway it is for: --image caddy=foo:1\.\n$/);
  });
});
