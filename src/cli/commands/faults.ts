import type { Argv } from 'yargs';
import { stringify } from 'yaml';
import { compileFault, type FaultDef } from '../../faults/fault.js';
import type { Catalogue } from '../../faults/registry.js';
import { loadCatalogue as loadCatalogueFrom } from '../../index.js';
import { explainStep } from '../../faults/steps.js';
import { PROCESS_PARAMS } from '../../process/behavior.js';
import { paint, table, useColor } from '../../report/terminal.js';

export function loadCatalogue(files: readonly string[] = []): Promise<Catalogue> {
  return loadCatalogueFrom({ faultsFiles: files });
}

export function faultsCommand(y: Argv) {
  return y.command(
    'faults [id]',
    'List the fault catalogue, or show one fault: its steps and what a gateway will see',
    (a) =>
      a
        .positional('id', { type: 'string', describe: 'a fault id, e.g. empty-reply' })
        .option('faults-file', { type: 'string', array: true, describe: 'also load custom faults from this YAML file (repeatable)' })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
        .example('$0 faults', 'every fault, grouped by layer')
        .example('$0 faults keepalive-idle-close', 'one fault: summary, explanation, steps')
        .example('$0 faults --faults-file my-faults.yaml', 'the catalogue with your own faults added'),
    async (argv) => {
      const catalogue = await loadCatalogue(argv['faults-file']);
      const out = process.stdout;
      const p = paint(useColor(out));
      if (argv.id === undefined) {
        const all = catalogue.list();
        if (argv.json) {
          out.write(JSON.stringify(all.map(({ id, layer, summary }) => ({ id, layer, summary })), null, 2) + '\n');
          return;
        }
        for (const layer of ['listener', 'exchange', 'process', 'dns'] as const) {
          const rows = all.filter((f) => f.layer === layer).map((f) => [p('bold', f.id), f.summary]);
          out.write(`${p('cyan', layer)} (${rows.length})\n${table(rows).replace(/^/gm, '  ')}\n\n`);
        }
        out.write(`${all.length} faults. \`badgateway faults <id>\` shows one.\n`);
        return;
      }
      const def = catalogue.get(argv.id);
      if (argv.json) {
        out.write(JSON.stringify({ ...def, explained: explained(def) }, null, 2) + '\n');
        return;
      }
      out.write(describe(def, p));
    },
  );
}

function explained(def: FaultDef): string[] | undefined {
  return def.layer === 'exchange' ? compileFault(def).steps.map(explainStep) : undefined;
}

function describe(def: FaultDef, p: ReturnType<typeof paint>): string {
  const lines = [`${p('bold', def.id)}  (${def.layer} layer)`, def.summary, '', p('cyan', 'What a gateway sees'), `  ${def.explain}`, ''];
  if (def.layer === 'exchange') {
    if (def.params && Object.keys(def.params).length > 0) {
      lines.push(p('cyan', 'Parameters (override with ?name=value on the request, or params: in a route)'));
      for (const [k, v] of Object.entries(def.params)) lines.push(`  ${k}: ${v}`);
      lines.push('');
    }
    lines.push(p('cyan', 'Steps (YAML, the same language as custom faults)'));
    lines.push(stringify({ steps: def.steps }, { lineWidth: 0 }).trimEnd().replace(/^/gm, '  '));
    lines.push('', p('cyan', 'In plain words'));
    explained(def)!.forEach((e, i) => lines.push(`  ${i + 1}. ${e}`));
    if (def.protocol === 'fastcgi') lines.push('', `Try it: badgateway serve --fastcgi-port 9001, then a FastCGI request with REQUEST_URI /${def.id} to 127.0.0.1:9001 (a gateway's fastcgi_pass, or cgi-fcgi)`);
    else if (def.protocol === 'h2') lines.push('', `Try it: badgateway serve --h2-port 9002, then curl -v --http2-prior-knowledge http://127.0.0.1:9002/${def.id} (a gRPC fault wants a gRPC client, or -X POST -H 'content-type: application/grpc' -H 'te: trailers')`);
    else lines.push('', `Try it: badgateway serve, then curl -v http://127.0.0.1:<port>/${def.id}`);
  } else if (def.layer === 'listener') {
    if (def.socket === 'unix') lines.push(`It has its own unix socket: \`badgateway serve --listener-fault-path ${def.id}=/tmp/${def.id}.sock\` starts it there${def.protocol === 'fastcgi' ? ' (point a gateway\'s FastCGI client at it, e.g. fastcgi_pass unix:/tmp/' + def.id + '.sock)' : ''}; without a path serve leaves it out.`);
    else if (def.listener === 'tls') {
      lines.push(p('cyan', 'Its TLS listener (YAML, the same as a custom TLS fault)'));
      lines.push(stringify({ tls: def.tls ?? {} }, { lineWidth: 0 }).trimEnd().replace(/^/gm, '  '));
      lines.push('', `It has its own TLS port: \`badgateway serve\` prints it as "${def.id}", and the CA it is signed by as "tls-ca". Try it: openssl s_client -connect 127.0.0.1:<port> -servername upstream.badgateway.test -CAfile <tls-ca.pem>`);
    } else lines.push(`It has its own port: \`badgateway serve\` prints it as "${def.id}".`);
  } else if (def.layer === 'process') {
    const spec = PROCESS_PARAMS[def.process];
    lines.push(p('cyan', 'Parameters (override with params: in a scenario)'));
    for (const [k, v] of Object.entries(def.params)) lines.push(`  ${k}: ${v}  (${spec[k]?.meaning ?? ''}; ${spec[k]?.min}..${spec[k]?.max})`);
    lines.push('', `It is played by a backend process badgateway supervises, one per scenario, on a port of its own: \`badgateway run\` starts it (scenarios/process-*.yaml).`);
  } else {
    lines.push(`Its DNS name: ${def.name}.<zone> (default zone badgateway.test) on the responder \`badgateway serve\` prints.`);
  }
  return lines.join('\n') + '\n';
}
