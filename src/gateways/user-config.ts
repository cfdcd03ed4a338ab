/**
 * Filling a user's own gateway config: the placeholders every adapter shares,
 * the directives badgateway must own, and errors that say file:line and what to
 * write instead. Pure.
 */
import { closest, InputError } from '../errors.js';
import type { UserConfigValues } from './gateway.js';

import { hostPort } from '../wire/host-port.js';

export { hostPort };

export interface UserConfigRules {
  /** Every `{{name}}` the gateway's config may use, with what it is for (the README's table and the error's hint). */
  readonly placeholders: Readonly<Record<string, string>>;
  /** What a user should write for each required placeholder, e.g. `listen {{listen}};` in the server block. */
  readonly hints: { readonly listen: string; readonly upstream: string };
  /** Directives badgateway sets itself: their line is an error. */
  readonly forbidden: readonly string[];
  /** Why badgateway owns those directives. */
  readonly forbiddenWhy: string;
  /** Directive names compare case-insensitively (Apache). */
  readonly caseInsensitive?: boolean;
  /** Placeholders beyond the shared ones. */
  readonly extra?: Readonly<Record<string, string>>;
  /** The gateway takes its listen address on its command line, not in its config (Varnish's -a): no {{listen}} is required. */
  readonly listenOnCommandLine?: boolean;
  /** Other placeholders that satisfy a required one (Envoy writes {{listen_host}} and {{listen_port}} instead of {{listen}}). */
  readonly requiredAny?: { readonly listen?: readonly string[]; readonly upstream?: readonly string[] };
}

/** The config text with every `{{name}}` filled; comment lines are left alone (they may mention placeholders). */
export function fillUserConfig(text: string, file: string, v: UserConfigValues, rules: UserConfigRules): string {
  const values: Record<string, string> = {
    listen: hostPort(v.listen.host, v.listen.port),
    upstream: hostPort(v.upstream.host, v.upstream.port),
    healthy: hostPort(v.healthy.host, v.healthy.port),
    prefix: v.prefix,
    ...(v.resolver ? { resolver: hostPort(v.resolver.host, v.resolver.port) } : {}),
    ...rules.extra,
  };
  for (const required of ['listen', 'upstream'] as const) {
    if (required === 'listen' && rules.listenOnCommandLine) continue;
    if (![required, ...(rules.requiredAny?.[required] ?? [])].some((name) => text.includes(`{{${name}}}`))) {
      const need = required === 'listen' ? 'know where the gateway listens' : 'put the chaos upstream behind your config';
      throw new InputError('BG_CONFIG_PLACEHOLDER', `${file} has no {{${required}}} placeholder. badgateway needs it to ${need}: write ${rules.hints[required]}.`);
    }
  }
  for (const bad of rules.forbidden) {
    const m = new RegExp(`^\\s*${bad}(\\s|$)`, rules.caseInsensitive ? 'mi' : 'm').exec(text);
    if (m) {
      const line = text.slice(0, m.index).split('\n').length + (text[m.index] === '\n' ? 1 : 0);
      throw new InputError('BG_CONFIG_DIRECTIVE', `${file}:${line}: remove the "${bad}" directive: ${rules.forbiddenWhy}`);
    }
  }
  const names = Object.keys(rules.placeholders);
  const unknown = (m: string, name: string, line: number): InputError => {
    if (name in rules.placeholders) return new InputError('BG_CONFIG_PLACEHOLDER', `${file}:${line}: ${m} has no value in this run (${rules.placeholders[name]}).`);
    const near = closest(name, names, 1)[0];
    const hint = near ? ` Did you mean {{${near}}} (${rules.placeholders[near]})?` : '';
    return new InputError('BG_CONFIG_PLACEHOLDER', `${file}:${line}: unknown placeholder ${m}.${hint} Known: ${names.map((k) => `{{${k}}}`).join(', ')}.`);
  };
  return text
    .split('\n')
    .map((line, i) =>
      /^\s*#/.test(line)
        ? line
        : line.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (m, name: string) => {
            const val = values[name];
            if (val === undefined) throw unknown(m, name, i + 1);
            return val;
          }),
    )
    .join('\n');
}
