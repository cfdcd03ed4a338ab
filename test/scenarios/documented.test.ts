/** `documented:` on an expectation: parsed with its source, refused without a title and URL, and every built-in one cites a page. */
import { describe, expect, test } from 'vitest';
import { Catalogue } from '../../src/faults/registry.js';
import { GATEWAYS } from '../../src/gateways/index.js';
import { builtinScenarioDir, loadSuite, scenarioFromYaml } from '../../src/scenarios/load.js';
import { parseYaml } from '../../src/yaml-source.js';

const catalogue = new Catalogue();
const ids = GATEWAYS.map((g) => g.id);
const load = (text: string) => scenarioFromYaml(parseYaml(text, 'scenarios/d.yaml'), catalogue, ids);

describe('documented expectations', () => {
  test('the source is kept on the expectation', () => {
    const s = load('description: x\nfault: empty-reply\nexpect:\n  alb:\n    status: 502\n    documented: "AWS, Troubleshoot your Application Load Balancers https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html"\n');
    expect(s.expect.alb!.documented).toMatch(/^AWS, Troubleshoot .* https:\/\/docs\.aws\.amazon\.com\//);
  });

  test.each([['a title alone', '"the AWS docs"'], ['a URL alone', 'https://docs.aws.amazon.com/x'], ['empty', '""']])('%s is refused at file:line, saying to give a title and URL', (_what, value) => {
    expect(() => load(`description: x\nfault: empty-reply\nexpect:\n  alb:\n    status: 502\n    documented: ${value}\n`)).toThrow(/scenarios\/d\.yaml:\d+:\d+: .*documented: names the source .*its title and URL/);
  });

  test('every built-in documented expectation cites an https page, and profiles have nothing but documented ones', async () => {
    const scenarios = await loadSuite(builtinScenarioDir(), catalogue, ids);
    const documented = scenarios.flatMap((s) => Object.entries(s.expect).filter(([, e]) => e.documented !== undefined).map(([k, e]) => [s.id, k, e.documented!] as const));
    expect(documented.length).toBeGreaterThanOrEqual(19);
    for (const [, , src] of documented) expect(src).toMatch(/^\S.* https:\/\/(docs\.aws\.amazon\.com|developers\.cloudflare\.com|www\.envoyproxy\.io)\/\S+$/);
    for (const s of scenarios) for (const [k, e] of Object.entries(s.expect)) if (/^(alb|cloudflare)(@|$)/.test(k)) expect(e.documented, `${s.id}: ${k}`).toBeDefined();
  });
});
