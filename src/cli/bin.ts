#!/usr/bin/env node
/** The `badgateway` command: the only place that reads process.argv and calls process.exit. */
import { hideBin } from 'yargs/helpers';
import { main, report } from './main.js';

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (err) => process.exit(report(err)),
);
