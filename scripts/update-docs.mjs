#!/usr/bin/env node
// Regenerates the catalogue tables in README.md from the code (faults) and the
// scenario files (expectations). `--check` exits 1 when README.md is stale;
// a test runs that check, so the README stays current.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bodyText } from './expect-text.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { faults: BUILTIN_FAULTS, gateways: GATEWAYS, loadSuite } = await import(new URL('../dist/index.js', import.meta.url));

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function faultsTable() {
  const out = [];
  // FastCGI and HTTP/2 faults are exchange faults too, but they run on their own listeners only: a group each.
  const groups = [
    ['listener', (f) => f.layer === 'listener'],
    ['exchange', (f) => f.layer === 'exchange' && f.protocol !== 'fastcgi' && f.protocol !== 'h2'],
    ['exchange, FastCGI', (f) => f.layer === 'exchange' && f.protocol === 'fastcgi'],
    ['exchange, HTTP/2 and gRPC', (f) => f.layer === 'exchange' && f.protocol === 'h2'],
    ['process', (f) => f.layer === 'process'],
    ['dns', (f) => f.layer === 'dns'],
  ];
  for (const [layer, pick] of groups) {
    const list = BUILTIN_FAULTS.filter(pick);
    out.push(`**${layer}** (${list.length})`, '', '| fault | what it does |', '|---|---|');
    for (const f of list) out.push(`| \`${f.id}\` | ${cell(f.summary)} |`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function expectText(e, showBody = false) {
  // What the client sees of a dying gateway is a race: the crash is the expectation.
  if (e.gateway === 'crashes') return 'gateway crashes';
  if (!e) return '';
  if (e.counts) return Object.entries(e.counts).map(([k, v]) => `${k}: ${v}`).join(', ') + (e.reason ? ` · ${e.reason}` : '');
  const status = Array.isArray(e.status) ? e.status.join(' or ') : e.status;
  return [status, bodyText(e, '', showBody) || undefined, e.reason && e.reason !== 'none' ? e.reason : undefined].filter(Boolean).join(' · ');
}

// The versions the built-in expectations were measured on, from each adapter: "nginx 1.22.1 (bookworm), 1.26.3 (trixie)".
const NAMES = { nginx: 'nginx', haproxy: 'HAProxy', caddy: 'Caddy', apache: 'Apache httpd', varnish: 'Varnish', 'fastify-http-proxy': '@fastify/http-proxy' };
const versionText = (v) => v.replace(/\+go(.*)$/, ' with Go $1').replace(/\+node(.*)$/, ' on Node $1');
const MEASURED = Object.fromEntries(
  GATEWAYS.filter((g) => g.measuredOn?.length).map((g) => [g.id, `${NAMES[g.id] ?? g.id} ${g.measuredOn.map((m) => `${versionText(m.version)} (\`${m.image}\`)`).join(', ')}`]),
);

/** One gateway's cell: its plain entry, then each versioned entry with its range. */
function gatewayCell(s, id) {
  const parts = [];
  for (const [k, entry] of Object.entries(s.expect)) {
    const at = k.indexOf('@');
    const gw = at === -1 ? k : k.slice(0, at);
    if (gw !== id) continue;
    // A versioned entry is merged over the plain one, as the harness does; a body it sets is always shown.
    // 📄: read in the gateway's documentation (the entry's documented: names the page), not measured.
    if (at === -1) parts.push(`${entry.documented ? '📄 ' : ''}${expectText(entry)}`);
    else parts.push(`${k.slice(at + 1)}: ${expectText({ ...(s.expect[gw] ?? {}), ...entry }, entry.body !== undefined)}`);
  }
  return parts.length ? parts.join('; ') : '—';
}

/** A pool member (`upstreams:`) in one line: its fault and what sets it apart. */
function memberText(m) {
  const notes = [...Object.entries(m.params).map(([k, v]) => `${k}=${v}`), m.weight !== 1 ? `weight ${m.weight}` : '', m.backup ? 'backup' : '', m.recoverAfter ? `healthy after ${m.recoverAfter}` : ''].filter(Boolean);
  return notes.length ? `${m.fault} (${notes.join(', ')})` : m.fault;
}

async function scenariosTable() {
  const { scenarios } = await loadSuite();
  const ids = GATEWAYS.map((g) => g.id);
  const measured = ids.filter((id) => MEASURED[id]).map((id) => MEASURED[id]).join('; ');
  // Gateways with an adapter but no measured expectation yet: their column is all —, and a run reports what it sees without a verdict.
  const documentedOnly = ids.filter((id) => !MEASURED[id] && scenarios.some((s) => s.expect[id]?.documented));
  const unmeasured = ids.filter((id) => !MEASURED[id] && !documentedOnly.includes(id));
  const none =
    (documentedOnly.length ? ` ${documentedOnly.join(', ')}: nothing measured yet, only expectations read in their documentation (📄; each entry's \`documented:\` cites the page), which a run judges and reports as documented, and as "contradicts <source>" when the gateway answers otherwise.` : '') +
    (unmeasured.length ? ` Nothing has been measured yet on ${unmeasured.join(' or ')}: ${unmeasured.length > 1 ? 'their columns are' : 'its column is'} all —, and a run reports "no expectation measured" instead of a verdict.` : '');
  const out = [
    `${scenarios.length} scenarios in \`scenarios/\`, one column per gateway. Expectations were measured on ${measured} (Debian's packages, images built by \`scripts/build-gateway-image.sh\`; the Node proxies from npm, run by the process runtime on the Node named). A plain entry applies to every measured version; an entry such as \`nginx@>=1.23\` (or \`caddy@2.6.2+go>=1.20\`, by Go toolchain, or \`fastify-http-proxy@+node>=22\`, by Node) is merged over it for those versions. A run is judged on a measured version, or between the two measured versions next to it when both get the same entries as it does; any other version is reported as "not measured on <version>", with the measured version its expectation comes from and whether what was seen matches it. — means no expectation (the scenario is skipped or only observed). Each file's description says why the answer is what it is, and which release changed it.${none}`,
    '',
    `| scenario | fault | ${ids.join(' | ')} |`,
    `|---|---|${ids.map(() => '---|').join('')}`,
  ];
  for (const s of scenarios) {
    const fault = s.pool ? s.pool.map(memberText).join('` + `') : Object.keys(s.params).length ? `${s.fault} (${Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(', ')})` : s.fault;
    const how = [s.upstream !== 'tcp' ? `via ${s.upstream}` : '', s.keepalive ? 'pooled' : '', s.sequence ? `${s.sequence.count} × ${s.request.method}` : ''].filter(Boolean).join(', ');
    out.push(`| \`${s.id}\` | \`${fault}\`${how ? ` ${how}` : ''} | ${ids.map((id) => cell(gatewayCell(s, id))).join(' | ')} |`);
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
