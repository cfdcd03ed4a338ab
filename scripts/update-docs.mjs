#!/usr/bin/env node
// Regenerates the catalogue tables in README.md from the code (faults) and the
// scenario files (expectations). `--check` exits 1 when README.md is stale;
// a test runs that check, so the README stays current.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { BUILTIN_FAULTS } = await import(new URL('../dist/faults/builtin/index.js', import.meta.url));
const { Catalogue } = await import(new URL('../dist/faults/registry.js', import.meta.url));
const { GATEWAYS } = await import(new URL('../dist/gateways/index.js', import.meta.url));
const { loadSuite, builtinScenarioDir } = await import(new URL('../dist/scenarios/load.js', import.meta.url));

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function faultsTable() {
  const out = [];
  for (const layer of ['listener', 'exchange', 'dns']) {
    const list = BUILTIN_FAULTS.filter((f) => f.layer === layer);
    out.push(`**${layer}** (${list.length})`, '', '| fault | what it does |', '|---|---|');
    for (const f of list) out.push(`| \`${f.id}\` | ${cell(f.summary)} |`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function expectText(e) {
  if (!e) return '';
  if (e.counts) return Object.entries(e.counts).map(([k, v]) => `${k}: ${v}`).join(', ') + (e.reason ? ` · ${e.reason}` : '');
  const status = Array.isArray(e.status) ? e.status.join(' or ') : e.status;
  return [status, e.body && e.body !== 'complete' ? e.body : undefined, e.reason && e.reason !== 'none' ? e.reason : undefined].filter(Boolean).join(' · ');
}

async function scenariosTable() {
  const scenarios = await loadSuite(builtinScenarioDir(), new Catalogue(), GATEWAYS.map((g) => g.id));
  const out = [
    `${scenarios.length} scenarios in \`scenarios/\`. Expectations were measured on nginx 1.22.1 (Debian bookworm); an entry such as \`nginx@<1.23\` applies to those versions only, and other versions are reported without a verdict. Each file's description says why the answer is what it is.`,
    '',
    '| scenario | fault | nginx expects |',
    '|---|---|---|',
  ];
  for (const s of scenarios) {
    const keys = Object.keys(s.expect);
    const text = keys.map((k) => (k === 'nginx' ? expectText(s.expect[k]) : `${k.slice(k.indexOf('@') + 1)}: ${expectText(s.expect[k])}`)).join('; ');
    const fault = Object.keys(s.params).length ? `${s.fault} (${Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(', ')})` : s.fault;
    const how = [s.upstream !== 'tcp' ? `via ${s.upstream}` : '', s.keepalive ? 'pooled' : '', s.sequence ? `${s.sequence.count} × ${s.request.method}` : ''].filter(Boolean).join(', ');
    out.push(`| \`${s.id}\` | \`${fault}\`${how ? ` ${how}` : ''} | ${cell(text)} |`);
  }
  return out.join('\n');
}

function replace(text, name, body) {
  const re = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(\\n<!-- ${name}:end -->)`);
  if (!re.test(text)) throw new Error(`README.md has no <!-- ${name}:start --> / <!-- ${name}:end --> markers`);
  return text.replace(re, `$1${body}$2`);
}

const path = `${root}README.md`;
const before = await readFile(path, 'utf8');
let after = replace(before, 'faults', faultsTable());
after = replace(after, 'scenarios', await scenariosTable());
if (process.argv.includes('--check')) {
  if (after !== before) {
    console.error('README.md is out of date: run `npm run docs` and commit the result.');
    process.exit(1);
  }
  console.log('README.md catalogue is current.');
} else if (after !== before) {
  await writeFile(path, after);
  console.log('README.md catalogue updated.');
} else console.log('README.md catalogue already current.');
