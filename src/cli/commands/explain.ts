import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { explainLine, unknownLineMessage } from '../../gateways/explain.js';
import { gatewayById, GATEWAYS } from '../../gateways/index.js';
import { paint, useColor } from '../output.js';

export function explainCommand(y: Argv) {
  return y.command(
    'explain <line>',
    'Explain a gateway error-log line: the normalized reason, likely causes, the scenario that reproduces it, the directives that govern it',
    (a) =>
      a
        .positional('line', { type: 'string', demandOption: true, describe: 'an error-log line, quoted' })
        .option('json', { type: 'boolean', default: false })
        .option('gateway', { type: 'string', describe: `read the line as this gateway's only (${GATEWAYS.map((g) => g.id).join(', ')}); by default the first adapter that knows it` })
        .example('$0 explain "upstream prematurely closed connection while reading response header from upstream"', ''),
    (argv) => {
      const only = argv.gateway === undefined ? undefined : gatewayById(argv.gateway);
      const ex = explainLine(argv.line, only ? [only] : GATEWAYS);
      if (!ex) throw new InputError('BG_UNKNOWN_LOG_LINE', unknownLineMessage(only));
      if (argv.json) {
        process.stdout.write(JSON.stringify({ gateway: ex.gateway, ...ex.info }, null, 2) + '\n');
        return;
      }
      const p = paint(useColor());
      const i = ex.info;
      const out = [
        `${p('bold', i.reason)}  (${ex.gateway})`,
        `  ${i.meaning}`,
        '',
        p('cyan', 'Likely causes'),
        ...i.causes.map((c) => `  - ${c}`),
        '',
        p('cyan', 'Reproduce it'),
        ...(i.scenarios.length ? i.scenarios.map((s) => `  badgateway run --gateway ${ex.gateway} --only ${s}`) : ['  (no built-in scenario yet)']),
        '',
        p('cyan', 'Directives that govern it'),
        ...(i.directives.length ? i.directives.map((d) => `  - ${d}`) : ['  (none: the upstream must be fixed)']),
      ];
      process.stdout.write(out.join('\n') + '\n');
    },
  );
}
