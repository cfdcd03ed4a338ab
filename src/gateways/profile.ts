/**
 * Gateway profiles: gateways badgateway cannot start (a managed load balancer, a CDN), driven
 * where they run with the external runtime. A profile is a GatewayAdapter whose `runtimes`
 * lists only `external`; its expectations come from the vendor's documentation (each with
 * `documented:`) until someone measures them. Pure.
 */
import { InputError } from '../errors.js';
import type { GatewayAdapter, RenderedConfig } from './gateway.js';

/** The runtime a profile runs with: the gateway is already running, wherever it is. */
export const EXTERNAL_RUNTIME = 'external';

/**
 * Why `adapter` cannot run with `runtime` (`auto` included), or undefined when it can. One
 * paragraph that says what to run instead; the CLI throws it before anything starts.
 */
export function runtimeRefusal(adapter: Pick<GatewayAdapter, 'id' | 'runtimes' | 'installHint'>, runtime: string): string | undefined {
  const allowed = adapter.runtimes;
  if (!allowed || allowed.includes(runtime)) return undefined;
  const only = allowed.length === 1 ? `only with --runtime ${allowed[0]}` : `only with --runtime ${allowed.join(' or ')}`;
  const given = runtime === 'auto' ? 'no --runtime was given (auto)' : `--runtime ${runtime} was given`;
  return (
    `${adapter.id} runs ${only}, and ${given}. ${adapter.installHint} ` +
    `Then: badgateway run --gateway ${adapter.id} --runtime ${allowed[0]} --url <its URL> --upstream-control <the deployed upstream's control URL> --control-token <token> (deploy/README.md walks through it).`
  );
}

/** The command that reproduces a scenario on a gateway: a profile's names the external runtime and what it needs. */
export function reproduceCommand(adapter: Pick<GatewayAdapter, 'id' | 'runtimes'>, scenario: string): string {
  if (adapter.runtimes?.length === 1 && adapter.runtimes[0] === EXTERNAL_RUNTIME) {
    return `badgateway run --gateway ${adapter.id} --runtime external --url <its URL> --upstream-control <the deployed upstream's control URL> --control-token <token> --only ${scenario}`;
  }
  return `badgateway run --gateway ${adapter.id} --only ${scenario}`;
}

/** The parts of a GatewayAdapter that a profile cannot have (a binary, a config of ours), each saying so when asked. */
export function externalOnly(id: string, installHint: string): Pick<
  GatewayAdapter,
  'binary' | 'installHint' | 'defaultImage' | 'localImage' | 'versionArgs' | 'args' | 'testArgs' | 'fromUserConfig' | 'runtimes' | 'supportsContainer' | 'supportsUnixUpstream' | 'supportsResolver' | 'noResolverWhy'
> {
  const refuse = (): never => {
    throw new InputError('BG_RUNTIME_UNSUPPORTED', runtimeRefusal({ id, runtimes: [EXTERNAL_RUNTIME], installHint }, 'process')!);
  };
  return {
    // Never run: runtimeRefusal stops the process and container runtimes first.
    binary: id,
    installHint,
    defaultImage: `(${id} runs only where it is: --runtime external)`,
    localImage: `(${id} runs only where it is: --runtime external)`,
    versionArgs: ['--version'],
    args: refuse,
    testArgs: refuse,
    fromUserConfig(): RenderedConfig {
      throw new InputError(
        'BG_BAD_FLAG',
        `${id} takes no --config: its configuration lives with the provider, not in a file badgateway starts. Point ${id} at the deployed chaos upstream (deploy/README.md) and run it with --runtime external.`,
      );
    },
    runtimes: [EXTERNAL_RUNTIME],
    supportsContainer: false,
    // The user's gateway reaches the deployed upstream over TCP only; it resolves names with its own DNS.
    supportsUnixUpstream: false,
    supportsResolver: false,
    noResolverWhy: `${id} resolves upstream names with its provider's DNS, not a resolver of ours`,
  };
}
